"""Recommendation cards' course data, kept in each web process between requests.

Every homepage and recommendations API response shows close to a hundred course cards. Reading
them costs two queries and a few hundred rows per response; kept here (the whole catalog, a few
kilobytes per course), a response pays one one-row read of the catalog revision (see
`CatalogRevision`; the member's homepage and recommendations read it in the statement that
reads the member's inputs), and the whole cache is dropped when that revision moves.
Each request gets its own model instances, made from the field values loaded with the entry.
"""

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import connection

from catalog.models import CatalogRevision


@dataclass(frozen=True, slots=True)
class CardData:
    # The course's CARD_FIELDS by attribute name, as a loaded instance holds them, and its
    # database alias: callers get new instances made from them. Plain values in a plain dict,
    # not a model instance (with its state and their dicts): the collector does not track such
    # a dict, so the whole catalog kept here costs a full collection two objects a course
    # instead of seven (one of those collections took 40 ms of a loaded worker's CPU).
    fields: dict
    db: str
    # Approved skills as {"id", "slug", "name"}, most confident first.
    skills: tuple[dict, ...]


# Reads card data of the given courses, or of the whole catalog for None.
Loader = Callable[[list[int] | None], dict[int, CardData]]


class CardCache:
    """Card data by course id for one catalog revision (thread-safe; one per process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._revision: int | None = None
        self._cards: dict[int, CardData] = {}

    def get_many(
        self, course_ids: Iterable[int], *, load: Loader, revision: int | None = None
    ) -> dict[int, CardData]:
        """The cards of the known courses among `course_ids`.

        `revision` is the catalog revision when the caller read it earlier in this request
        (the homepage reads it in the member's inputs statement, saving a round trip); None
        reads it here.

        The first read under a revision loads the whole catalog: impression discounting turns
        each member's page over from view to view, so a process filling up course by course
        would keep reading some on nearly every request. Later reads load only ids not kept
        (a course added since). Read the revision before the data: a write that commits in
        between moves the revision again, so data newer than its tag is dropped on the next
        request, never kept.
        """
        ids = list(course_ids)
        if revision is None:
            revision = catalog_revision_current()
        if revision is None:  # no revision row (a flushed database): nothing can be trusted
            return load(ids)
        with self._lock:
            if revision != self._revision:
                self._revision, self._cards = revision, {}
            cards = self._cards
        if not cards:
            loaded = load(None)
            with self._lock:
                if self._revision == revision:
                    self._cards.update(loaded)
            return {course_id: loaded[course_id] for course_id in ids if course_id in loaded}
        found = {course_id: cards[course_id] for course_id in ids if course_id in cards}
        missing = [course_id for course_id in ids if course_id not in found]
        if missing:
            loaded = load(missing)
            found.update(loaded)
            with self._lock:
                if self._revision == revision:
                    self._cards.update(loaded)
        return found

    def clear(self) -> None:
        with self._lock:
            self._revision, self._cards = None, {}


def catalog_revision_current() -> int | None:
    # Raw SQL: this runs on every page view, and the ORM spends longer building the query
    # than the database answering it.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT revision FROM {CatalogRevision._meta.db_table} WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else None


card_cache = CardCache()
