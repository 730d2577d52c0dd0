from django.apps import AppConfig
from django.db import DEFAULT_DB_ALIAS
from django.db.models.signals import post_migrate

TAGGING_SCHEDULE_NAME = "catalog.courses_tag"


def tagging_schedule_ensure(*, using: str = DEFAULT_DB_ALIAS, **_: object) -> None:
    """Create the periodic tagging run once; an existing schedule (and any edit to it) stays.

    A post_migrate handler rather than a data migration: a catalog migration would have to depend
    on django_q's migrations, and a handler also restores a lost schedule on the next migrate.
    """
    from django.conf import settings
    from django.db import connections
    from django_q.models import Schedule

    # A partial migrate (`migrate catalog 0001`) can run before django_q's table exists.
    if Schedule._meta.db_table not in connections[using].introspection.table_names():
        return
    Schedule.objects.using(using).get_or_create(
        name=TAGGING_SCHEDULE_NAME,
        defaults={
            "func": "catalog.tasks.courses_tag",
            "schedule_type": Schedule.MINUTES,
            "minutes": settings.TAGGER["SCHEDULE_MINUTES"],
            "repeats": -1,
        },
    )


class CatalogConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "catalog"

    def ready(self) -> None:
        post_migrate.connect(
            tagging_schedule_ensure, sender=self, dispatch_uid="catalog.tagging_schedule"
        )
