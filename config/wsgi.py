import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
# Everything loaded so far (Django, the apps and what they import) lives as long as the process:
# out of the collector's sight, a full collection no longer walks those few hundred thousand
# objects, which otherwise stalls a request now and then for tens of milliseconds.
gc.freeze()
