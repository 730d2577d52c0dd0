"""Compress training-run artifacts with lz4 instead of pglz on PostgreSQL.

PostgreSQL compresses large bytea values when they are stored; with its default pglz, storing
a benchmark-scale run (about 90 MB of float arrays) took 6-7 s, with lz4 a fraction of that.
lz4 needs PostgreSQL 14+ built with it; elsewhere values are stored uncompressed instead, which
is as fast. SQLite has no such setting.
"""

from django.db import DatabaseError, migrations, transaction

COLUMNS = ("artifact", "model_artifact", "ranker_artifact")


def _set_fast_storage(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = apps.get_model("recommendations", "TrainingRun")._meta.db_table
    with schema_editor.connection.cursor() as cursor:
        for column in COLUMNS:
            try:
                # A savepoint: a server without lz4 refuses the first form, not the migration.
                with transaction.atomic(using=schema_editor.connection.alias):
                    cursor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION lz4")
            except DatabaseError:
                cursor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STORAGE EXTERNAL")


def _restore_default_storage(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = apps.get_model("recommendations", "TrainingRun")._meta.db_table
    with schema_editor.connection.cursor() as cursor:
        for column in COLUMNS:
            cursor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STORAGE EXTENDED")
            cursor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION DEFAULT")


class Migration(migrations.Migration):
    dependencies = [("recommendations", "0005_precompute_started_at")]

    operations = [migrations.RunPython(_set_fast_storage, _restore_default_storage)]
