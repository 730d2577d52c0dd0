"""The per-process card cache: one query while the catalog is unchanged, fresh data after any
committed write to courses, their skill tags or skills (the triggers of migration 0003).

These tests commit (`transaction=True`): on PostgreSQL the revision moves at commit.
"""

import pytest
from django.db import IntegrityError, transaction
from django.db.models.signals import post_init, pre_init

from catalog.card_cache import card_cache, catalog_revision_current
from catalog.models import CatalogRevision, Course, CourseSkill
from catalog.selectors import CARD_FIELDS, course_cards_by_id
from tests.factories import CourseFactory, CourseSkillFactory, SkillFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def cache_on(settings):
    settings.CATALOG_CARD_CACHE = True
    card_cache.clear()
    yield
    card_cache.clear()


def approved(course, skill, confidence=0.9):
    return CourseSkillFactory(
        course=course, skill=skill, status=CourseSkill.Status.APPROVED, confidence=confidence
    )


def card_view(cards):
    return {
        pk: (course.title, [skill["name"] for skill in course.card_skills])
        for pk, course in cards.items()
    }


def test_a_second_read_of_the_same_courses_costs_only_the_revision(django_assert_num_queries):
    first, second = CourseFactory(title="SQL"), CourseFactory(title="Excel")
    approved(first, SkillFactory(name="Databases"))

    with django_assert_num_queries(3):  # revision, courses, skills
        cold = course_cards_by_id(course_ids=[first.pk, second.pk])
    with django_assert_num_queries(1):
        warm = course_cards_by_id(course_ids=[second.pk, first.pk])
    # Unknown ids are not remembered: each read asks for them (a course may appear).
    with django_assert_num_queries(2):
        assert set(course_cards_by_id(course_ids=[first.pk, 987654])) == {first.pk}

    assert (
        card_view(warm)
        == card_view(cold)
        == {
            first.pk: ("SQL", ["Databases"]),
            second.pk: ("Excel", []),
        }
    )
    # Every call gets its own instances and skill lists.
    assert warm[first.pk] is not cold[first.pk]
    warm[first.pk].card_skills.append({"id": 0, "slug": "x", "name": "X"})
    assert card_view(course_cards_by_id(course_ids=[first.pk]))[first.pk] == ("SQL", ["Databases"])


def test_a_revision_the_caller_read_costs_no_query_and_a_newer_one_reloads(
    django_assert_num_queries,
):
    course = CourseFactory(title="SQL")
    revision = catalog_revision_current()
    course_cards_by_id(course_ids=[course.pk])

    with django_assert_num_queries(0):
        cards = course_cards_by_id(course_ids=[course.pk], catalog_revision=revision)
    assert card_view(cards) == {course.pk: ("SQL", [])}

    Course.objects.filter(pk=course.pk).update(title="SQL, revised")
    newer = catalog_revision_current()
    assert newer != revision
    with django_assert_num_queries(2):  # courses, skills: no revision query
        cards = course_cards_by_id(course_ids=[course.pk], catalog_revision=newer)
    assert card_view(cards) == {course.pk: ("SQL, revised", [])}


def test_the_first_read_loads_the_whole_catalog_and_later_ones_only_new_courses():
    first, second = CourseFactory(), CourseFactory()
    approved(second, SkillFactory(name="Statistics"))

    with CaptureIds() as captured:
        assert set(course_cards_by_id(course_ids=[first.pk])) == {first.pk}
        cards = course_cards_by_id(course_ids=[first.pk, second.pk])
    assert captured.course_reads == [None]
    assert card_view(cards)[second.pk] == (second.title, ["Statistics"])

    # A course written since is a new revision: the next read loads the catalog again.
    third = CourseFactory()
    with CaptureIds() as captured:
        assert set(course_cards_by_id(course_ids=[third.pk, first.pk])) == {first.pk, third.pk}
        assert set(course_cards_by_id(course_ids=[first.pk, 424242])) == {first.pk}
    assert captured.course_reads == [None, [424242]]


class CaptureIds:
    """Records the ids the cache asks the database for (None: the whole catalog)."""

    def __enter__(self):
        from catalog import selectors

        self._selectors = selectors
        self._load = selectors._card_data_load
        self.course_reads = []

        def load(course_ids):
            self.course_reads.append(None if course_ids is None else sorted(course_ids))
            return self._load(course_ids)

        selectors._card_data_load = load
        return self

    def __exit__(self, *exc):
        self._selectors._card_data_load = self._load


def test_a_committed_edit_of_a_course_a_tag_or_a_skill_shows_at_once():
    course = CourseFactory(title="Pivot tables")
    skill = SkillFactory(name="Spreadsheets")
    tag = approved(course, skill)
    course_cards_by_id(course_ids=[course.pk])

    Course.objects.filter(pk=course.pk).update(title="Pivot tables, revised")
    assert card_view(course_cards_by_id(course_ids=[course.pk])) == {
        course.pk: ("Pivot tables, revised", ["Spreadsheets"])
    }

    skill.name = "Spreadsheet software"
    skill.save()
    assert card_view(course_cards_by_id(course_ids=[course.pk])) == {
        course.pk: ("Pivot tables, revised", ["Spreadsheet software"])
    }

    CourseSkill.objects.filter(pk=tag.pk).update(status=CourseSkill.Status.REJECTED)
    assert card_view(course_cards_by_id(course_ids=[course.pk])) == {
        course.pk: ("Pivot tables, revised", [])
    }

    Course.objects.filter(pk=course.pk).delete()
    assert course_cards_by_id(course_ids=[course.pk]) == {}


def test_revisions_are_never_reused_even_after_a_rollback():
    course = CourseFactory()
    seen = [catalog_revision_current()]
    for title in ("One", "Two"):
        with pytest.raises(RuntimeError), transaction.atomic():
            Course.objects.filter(pk=course.pk).update(title=f"rolled back {title}")
            raise RuntimeError
        assert catalog_revision_current() == seen[-1]
        Course.objects.filter(pk=course.pk).update(title=title)
        seen.append(catalog_revision_current())

    assert None not in seen
    assert len(set(seen)) == 3


def test_an_uncommitted_edit_is_not_kept_under_the_old_revision():
    course = CourseFactory(title="Before")
    course_cards_by_id(course_ids=[course.pk])

    with pytest.raises(RuntimeError), transaction.atomic():
        Course.objects.filter(pk=course.pk).update(title="Never committed")
        raise RuntimeError

    assert card_view(course_cards_by_id(course_ids=[course.pk])) == {course.pk: ("Before", [])}


def test_without_a_revision_row_nothing_is_kept(django_assert_num_queries):
    course = CourseFactory(title="Kept nowhere")
    CatalogRevision.objects.all().delete()

    for _ in range(2):
        with django_assert_num_queries(3):
            assert card_view(course_cards_by_id(course_ids=[course.pk])) == {
                course.pk: ("Kept nowhere", [])
            }


def test_the_setting_turns_the_cache_off(settings, django_assert_num_queries):
    settings.CATALOG_CARD_CACHE = False
    course = CourseFactory()
    course_cards_by_id(course_ids=[course.pk])

    with django_assert_num_queries(2):
        course_cards_by_id(course_ids=[course.pk])


def test_the_revision_table_keeps_a_single_row():
    CourseFactory()
    assert list(CatalogRevision.objects.values_list("id", flat=True)) == [1]
    with pytest.raises(IntegrityError), transaction.atomic():
        CatalogRevision.objects.create(id=2, revision=1)


def test_cached_cards_are_copies_equal_to_what_the_orm_builds(django_assert_num_queries):
    saved = CourseFactory(title="SQL", description="Joins.")
    course_cards_by_id(course_ids=[saved.pk])

    first = course_cards_by_id(course_ids=[saved.pk])[saved.pk]
    built = Course.objects.only(*CARD_FIELDS).get(pk=saved.pk)
    assert {name: getattr(first, name) for name in CARD_FIELDS} == {
        name: getattr(built, name) for name in CARD_FIELDS
    }
    assert first.get_deferred_fields() == built.get_deferred_fields()
    assert first._state.adding is False and first._state.db == built._state.db
    # The copies skip Model.__init__, whose signals would have no receiver for a course.
    assert not pre_init.has_listeners(Course) and not post_init.has_listeners(Course)

    # Loading a deferred field, or changing a copy, touches neither the cache nor other copies.
    with django_assert_num_queries(1):
        assert first.description == "Joins."
    first.title = "Changed"
    second = course_cards_by_id(course_ids=[saved.pk])[saved.pk]
    assert second is not first and second._state is not first._state
    assert second.title == "SQL"
    assert "description" in second.get_deferred_fields()
