"""core.concurrent.calls_run_concurrently: results in order, errors raised, each call on a
connection of its own outside a transaction, one after another inside one."""

import threading

import pytest
from django.db import connection, transaction

from catalog.models import Category
from core.concurrent import calls_run_concurrently


def _where() -> tuple[int, int]:
    connection.ensure_connection()
    return threading.get_ident(), id(connection.connection)


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_each_call_runs_on_its_own_thread_and_connection():
    Category.objects.create(name="Data", slug="data")
    barrier = threading.Barrier(2, timeout=10)

    def count_when_both_run() -> int:
        barrier.wait()  # both calls are running at once, or this times out
        return Category.objects.count()

    assert calls_run_concurrently(count_when_both_run, count_when_both_run, threads=2) == [1, 1]

    def where_when_both_run() -> tuple[int, int]:
        barrier.wait()
        return _where()

    first, second = calls_run_concurrently(where_when_both_run, where_when_both_run, threads=2)
    assert first[0] != second[0] and first[1] != second[1]
    assert threading.get_ident() not in (first[0], second[0])


@pytest.mark.django_db(transaction=True)
def test_an_error_in_one_call_is_raised_after_every_call_ended():
    ended = []

    def fails() -> None:
        raise ValueError("no courses")

    def slow() -> str:
        ended.append("slow")
        return "done"

    with pytest.raises(ValueError, match="no courses"):
        calls_run_concurrently(fails, slow, threads=2)
    assert ended == ["slow"]


@pytest.mark.django_db
def test_inside_a_transaction_the_calls_run_in_order_on_this_connection():
    with transaction.atomic():
        Category.objects.create(name="Unsaved elsewhere", slug="unsaved")
        order = []

        def call(name: str):
            order.append(name)
            return _where(), Category.objects.count()

        results = calls_run_concurrently(lambda: call("a"), lambda: call("b"))
    assert order == ["a", "b"]
    assert {place for place, _ in results} == {_where()}
    assert [count for _, count in results] == [1, 1]
