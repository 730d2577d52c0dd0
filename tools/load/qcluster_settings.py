"""The project's settings with django-q2's scheduler off, for the load test's (`make loadtest`)
and the drills' (`make faults`) workers: a cluster started against a database whose schedules
are due would otherwise start its own retrain and tagging run at once and race the one the
script is measuring."""

from config import settings as _base

globals().update({name: value for name, value in vars(_base).items() if name.isupper()})

Q_CLUSTER = {**_base.Q_CLUSTER, "scheduler": False}
