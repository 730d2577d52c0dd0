"""pg_trgm on PostgreSQL, for the course search's typo tolerance (`catalog.selectors`).

`TrigramExtension` does nothing on other databases, so SQLite still migrates (its search
falls back to matching words)."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("catalog", "0003_catalog_revision")]

    operations = [TrigramExtension()]
