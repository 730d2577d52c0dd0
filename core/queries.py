"""Query expressions the apps' selectors share."""

from django.db.models import IntegerField, QuerySet, Subquery


class SubqueryCount(Subquery):
    """COUNT(*) of a subquery's rows, without a GROUP BY over the outer query."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _count)"
    output_field = IntegerField()

    def __init__(self, queryset: QuerySet, **extra: object) -> None:
        # Ordering a subquery that is only counted is wasted work for the database.
        super().__init__(queryset.order_by(), **extra)
