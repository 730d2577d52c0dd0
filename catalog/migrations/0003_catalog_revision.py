"""The catalog revision and the triggers that move it on every write to the card's tables."""

from django.db import migrations, models

# The tables a recommendation card shows data from.
TABLES = ("catalog_course", "catalog_courseskill", "catalog_skill")

# PostgreSQL: deferred constraint triggers move the revision at commit, once per transaction
# (later rows find it already at this transaction's id). Taking the revision row's lock only at
# commit means two concurrent catalog writers cannot deadlock over it mid-transaction.
POSTGRESQL_FORWARD = [
    """
    CREATE FUNCTION catalog_revision_bump() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO catalog_catalogrevision (id, revision) VALUES (1, txid_current())
        ON CONFLICT (id) DO UPDATE SET revision = excluded.revision
        WHERE catalog_catalogrevision.revision <> excluded.revision;
        RETURN NULL;
    END
    $$
    """,
    *(
        f"""
        CREATE CONSTRAINT TRIGGER {table}_revision AFTER INSERT OR UPDATE OR DELETE ON {table}
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION catalog_revision_bump()
        """
        for table in TABLES
    ),
    # Constraint triggers cannot fire on TRUNCATE (a test database's flush does it).
    *(
        f"""
        CREATE TRIGGER {table}_revision_truncate AFTER TRUNCATE ON {table}
        FOR EACH STATEMENT EXECUTE FUNCTION catalog_revision_bump()
        """
        for table in TABLES
    ),
    "INSERT INTO catalog_catalogrevision (id, revision) VALUES (1, txid_current())",
]
POSTGRESQL_BACKWARD = [
    *(f"DROP TRIGGER {table}_revision ON {table}" for table in TABLES),
    *(f"DROP TRIGGER {table}_revision_truncate ON {table}" for table in TABLES),
    "DROP FUNCTION catalog_revision_bump()",
]

# SQLite has row triggers only; a writer holds the whole database, so there is nothing to
# order against.
SQLITE_BUMP = (
    "INSERT INTO catalog_catalogrevision (id, revision) VALUES (1, random()) "
    "ON CONFLICT (id) DO UPDATE SET revision = excluded.revision"
)
SQLITE_FORWARD = [
    *(
        f"CREATE TRIGGER {table}_revision_{event.lower()} AFTER {event} ON {table} "
        f"BEGIN {SQLITE_BUMP}; END"
        for table in TABLES
        for event in ("INSERT", "UPDATE", "DELETE")
    ),
    "INSERT INTO catalog_catalogrevision (id, revision) VALUES (1, random())",
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER {table}_revision_{event.lower()}"
    for table in TABLES
    for event in ("INSERT", "UPDATE", "DELETE")
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_tagger_evaluation_and_review_proxies"),
    ]

    operations = [
        migrations.CreateModel(
            name="CatalogRevision",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("revision", models.BigIntegerField()),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("id", 1)), name="catalog_revision_single_row"
                    )
                ],
            },
        ),
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRESQL_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        ),
    ]
