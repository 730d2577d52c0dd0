"""The automatic course-to-skill tagger.

`matching` (stage 1, rules over text), `model` (stage 2, learned from curated tags) and
`evaluation` are Django-free: they take and return plain Python objects and numpy/scipy
arrays. `pipeline` is the Django side: it loads courses and tags from the ORM, calls them, and
writes suggestions through `catalog.services`.
"""
