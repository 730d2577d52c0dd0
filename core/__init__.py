"""Runtime plumbing that every app uses and none owns.

Database helpers (the PostgreSQL backend, prepared statements), the API's error shape and JSON
renderer, the Jinja2 environment, CSV reading and validation for the imports, the admin's line
charts, and the registration of periodic tasks. A plain package, not a Django app: it has no
models. It imports Django and the libraries the apps share (DRF, psycopg, Jinja2, orjson),
never an app of this project.
"""
