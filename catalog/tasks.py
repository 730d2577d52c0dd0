"""django-q2 task entry points: thin wrappers that are safe to run twice."""

from catalog.tagging.pipeline import courses_tag_run


def courses_tag() -> dict:
    """Suggest skills for every course; a second run finds its suggestions already stored."""
    return courses_tag_run().as_dict()
