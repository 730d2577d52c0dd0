"""Periodic django-q2 tasks that apps create for themselves after migrate."""

from django.db import DEFAULT_DB_ALIAS, connections


def schedule_ensure(*, name: str, func: str, minutes: int, using: str = DEFAULT_DB_ALIAS) -> None:
    """Create the schedule once; an existing one (and any admin edit to it) stays as it is.

    Called from post_migrate handlers rather than data migrations: a migration would have to
    depend on django_q's migrations, and a handler also restores a lost schedule next migrate.
    """
    from django_q.models import Schedule

    # A partial migrate (`migrate catalog 0001`) can run before django_q's table exists.
    if Schedule._meta.db_table not in connections[using].introspection.table_names():
        return
    Schedule.objects.using(using).get_or_create(
        name=name,
        defaults={
            "func": func,
            "schedule_type": Schedule.MINUTES,
            "minutes": minutes,
            "repeats": -1,
        },
    )
