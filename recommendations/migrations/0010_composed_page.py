import django.db.models.deletion
from django.db import migrations, models


def _unlogged(apps, schema_editor) -> None:
    # A cache written on every page view: no WAL for it (see ComposedPage).
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE recommendations_composedpage SET UNLOGGED")


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0001_initial"),
        ("recommendations", "0009_telemetry_without_database_foreign_keys"),
    ]

    operations = [
        migrations.CreateModel(
            name="ComposedPage",
            fields=[
                (
                    "member",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="members.member",
                    ),
                ),
                ("digest", models.BinaryField(max_length=16)),
                ("composed_at", models.DateTimeField()),
                ("layout", models.BinaryField()),
            ],
        ),
        migrations.RunPython(_unlogged, migrations.RunPython.noop),
    ]
