"""A model row inserted unless one with the same unique values exists, in one statement.

`Model.objects.get_or_create` costs a SELECT, then a savepoint, the INSERT and the savepoint's
release (the savepoint lets it catch the unique violation of a concurrent insert): four round
trips for a new row. `INSERT ... ON CONFLICT (...) DO NOTHING RETURNING id` is one, on
PostgreSQL and on SQLite (3.35 and later), and a conflict is not an error, so it leaves an
enclosing transaction usable without a savepoint.
"""

import functools

from django.db import connections, router
from django.db.models import Field, Model, UniqueConstraint


def row_insert_unless_present(instance: Model, *, unique: tuple[str, ...]) -> bool:
    """Insert `instance`, not saved yet, unless its table holds a row with the same values of
    the fields named in `unique` (which must be one of the model's unique constraints): True,
    with its primary key set, when it was inserted; False, leaving it unsaved, when such a row
    was there. Sends no model signals (nothing here receives them for the models it is used
    on), and the primary key must be the database's to give."""
    if not instance._state.adding:
        raise ValueError(f"{instance._meta.label} {instance.pk} is saved already")
    database = router.db_for_write(type(instance), instance=instance)
    connection = connections[database]
    sql, fields = _insert_statement(type(instance), unique, database)
    values = [
        field.get_db_prep_save(field.pre_save(instance, add=True), connection) for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    instance.pk = row[0]
    instance._state.adding = False
    instance._state.db = database
    return True


@functools.cache
def _insert_statement(
    model: type[Model], unique: tuple[str, ...], database: str
) -> tuple[str, list[Field]]:
    """The statement and the fields whose values it takes, checked and written once per model,
    unique fields and database: event batches insert on every request."""
    meta = model._meta
    constraints = {
        tuple(constraint.fields)
        for constraint in meta.constraints
        if isinstance(constraint, UniqueConstraint)
        and constraint.condition is None
        and not constraint.expressions
    }
    if unique not in constraints:
        raise ValueError(f"{meta.label} has no unique constraint on {', '.join(unique)}")
    if not meta.pk.db_returning:
        raise ValueError(f"{meta.label}'s primary key is not the database's to give")
    quote = connections[database].ops.quote_name
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({', '.join(quote(meta.get_field(name).column) for name in unique)}) "
        f"DO NOTHING RETURNING {quote(meta.pk.column)}"
    )
    return sql, fields
