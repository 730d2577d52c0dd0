from django.apps import AppConfig
from django.db import DEFAULT_DB_ALIAS
from django.db.models.signals import post_migrate

TAGGING_SCHEDULE_NAME = "catalog.courses_tag"


def tagging_schedule_ensure(*, using: str = DEFAULT_DB_ALIAS, **_: object) -> None:
    from django.conf import settings

    from core.schedules import schedule_ensure

    schedule_ensure(
        name=TAGGING_SCHEDULE_NAME,
        func="catalog.tasks.courses_tag",
        minutes=settings.TAGGER["SCHEDULE_MINUTES"],
        using=using,
    )


class CatalogConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "catalog"

    def ready(self) -> None:
        post_migrate.connect(
            tagging_schedule_ensure, sender=self, dispatch_uid="catalog.tagging_schedule"
        )
