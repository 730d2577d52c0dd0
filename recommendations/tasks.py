"""django-q2 task entry points: thin wrappers that take ids and are safe to run twice."""

from recommendations.pipeline import training_run_execute


def retrain() -> int:
    """Build and (if it passes its checks) activate a new training run; returns its id."""
    return training_run_execute().pk
