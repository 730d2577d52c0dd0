import contextlib
import datetime as dt
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from members.models import Bookmark, Enrolment, Member
from members.services import (
    bookmark_set,
    bookmark_toggle,
    enrolment_finish,
    enrolment_progress_reach,
    enrolment_start,
    enrolment_watch,
)
from members.signals import member_activity_changed
from tests.factories import PASSWORD, CourseFactory, EnrolmentFactory, MemberFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
ACTIONS = ("enrol", "watch", "finish", "bookmark")


def _state(enrolment: Enrolment) -> tuple:
    enrolment.refresh_from_db()
    return (
        enrolment.progress_percent,
        enrolment.watched_seconds,
        enrolment.last_watched_at,
        enrolment.completed_at,
    )


@pytest.fixture
def course():
    return CourseFactory(title="Intro to SQL", slug="intro-to-sql", duration_minutes=60)


# Services


def test_enrol_is_idempotent(member: Member, course) -> None:
    first = enrolment_start(member=member, course=course, now=T0)
    again = enrolment_start(member=member, course=course, now=T0 + dt.timedelta(days=1))

    assert again.pk == first.pk
    assert Enrolment.objects.get().enrolled_at == T0
    assert _state(first) == (0, 0, None, None)


def test_watch_enrols_and_advances_by_the_watched_share(member: Member, course) -> None:
    enrolment = enrolment_watch(member=member, course=course, now=T0)

    assert enrolment.enrolled_at == T0
    # 10 minutes of a 60-minute course: 16.7 %, rounded.
    assert _state(enrolment) == (17, 600, T0, None)


def test_watching_the_whole_duration_completes(member: Member, course) -> None:
    for step in range(5):
        enrolment_watch(member=member, course=course, now=T0 + dt.timedelta(minutes=step))
    enrolment = Enrolment.objects.get()
    assert _state(enrolment) == (85, 3000, T0 + dt.timedelta(minutes=4), None)

    done_at = T0 + dt.timedelta(minutes=5)
    enrolment_watch(member=member, course=course, now=done_at)

    assert _state(enrolment) == (100, 3600, done_at, done_at)


def test_a_short_course_completes_in_one_watch(member: Member) -> None:
    short = CourseFactory(duration_minutes=5)

    enrolment = enrolment_watch(member=member, course=short, now=T0)

    assert _state(enrolment) == (100, 600, T0, T0)


def test_a_long_course_moves_at_least_one_point(member: Member) -> None:
    long = CourseFactory(duration_minutes=100_000)

    enrolment = enrolment_watch(member=member, course=long, seconds=60, now=T0)

    assert _state(enrolment) == (1, 60, T0, None)


def test_watching_after_completion_keeps_the_completion(member: Member, course) -> None:
    enrolment_finish(member=member, course=course, now=T0)
    later = T0 + dt.timedelta(days=2)

    enrolment = enrolment_watch(member=member, course=course, now=later)

    assert _state(enrolment) == (100, 600, later, T0)


def test_watch_refuses_non_positive_time(member: Member, course) -> None:
    with pytest.raises(ValueError):
        enrolment_watch(member=member, course=course, seconds=0, now=T0)
    assert not Enrolment.objects.exists()


def test_finish_sets_full_progress_once(member: Member, course) -> None:
    enrolment_watch(member=member, course=course, now=T0)
    first = T0 + dt.timedelta(hours=1)

    enrolment = enrolment_finish(member=member, course=course, now=first)
    enrolment_finish(member=member, course=course, now=first + dt.timedelta(days=1))

    assert _state(enrolment) == (100, 600, T0, first)
    assert Enrolment.objects.count() == 1


def test_finish_without_enrolment_enrols_and_completes(member: Member, course) -> None:
    enrolment = enrolment_finish(member=member, course=course, now=T0)

    assert enrolment.enrolled_at == T0
    assert _state(enrolment) == (100, 0, None, T0)


def test_completion_is_never_before_enrolment(member: Member, course) -> None:
    EnrolmentFactory(member=member, course=course, enrolled_at=T0)

    enrolment = enrolment_finish(member=member, course=course, now=T0 - dt.timedelta(hours=1))

    assert _state(enrolment) == (100, 0, None, T0)


def test_bookmark_toggles(member: Member, course) -> None:
    assert bookmark_toggle(member=member, course=course, now=T0) is True
    assert Bookmark.objects.get().created_at == T0
    assert bookmark_toggle(member=member, course=course) is False
    assert not Bookmark.objects.exists()
    assert bookmark_toggle(member=member, course=course) is True
    assert Bookmark.objects.count() == 1


@contextlib.contextmanager
def _announcements() -> Iterator[list[int]]:
    """The member ids `member_activity_changed` announces inside the block, in order."""
    announced: list[int] = []

    def receiver(**kwargs):
        announced.append(kwargs["member_id"])

    member_activity_changed.connect(receiver)
    try:
        yield announced
    finally:
        member_activity_changed.disconnect(receiver)


# Committed for real: inside a test's transaction, the first announcement would stay pending and
# hide the next ones (see members/signals.py).
@pytest.mark.django_db(transaction=True)
def test_bookmark_set_saves_and_unsaves_and_setting_again_changes_nothing(course) -> None:
    member = MemberFactory()

    with _announcements() as announced:
        assert bookmark_set(member=member, course=course, saved=True, now=T0) is True
        assert bookmark_set(member=member, course=course, saved=True) is False
        assert Bookmark.objects.get().created_at == T0
        assert bookmark_set(member=member, course=course, saved=False) is True
        assert bookmark_set(member=member, course=course, saved=False) is False
    assert not Bookmark.objects.exists()
    # The activity is announced (a refresh of the member's row) once per change only.
    assert announced == [member.pk, member.pk]


def test_unsaving_removes_only_this_members_bookmark_of_this_course(course) -> None:
    member, other = MemberFactory(), MemberFactory()
    elsewhere = CourseFactory()
    for who, what in ((member, course), (member, elsewhere), (other, course)):
        bookmark_set(member=who, course=what, saved=True, now=T0)
    assert bookmark_set(member=member, course=course, saved=False) is True
    assert sorted(Bookmark.objects.values_list("member_id", "course_id")) == sorted(
        [(member.pk, elsewhere.pk), (other.pk, course.pk)]
    )


def test_enrolling_inserts_in_one_statement_and_enrolling_again_reads_the_first(
    member: Member, course, django_assert_num_queries
) -> None:
    with django_assert_num_queries(1):
        first = enrolment_start(member=member, course=course, now=T0)
    # The insert finds the row, then the row is read.
    with django_assert_num_queries(2):
        again = enrolment_start(member=member, course=course, now=T0 + dt.timedelta(days=1))
    assert again.pk == first.pk
    assert again.enrolled_at == T0


# Committed for real, as above.
@pytest.mark.django_db(transaction=True)
def test_only_the_enrolment_that_starts_is_announced(course) -> None:
    member = MemberFactory()

    with _announcements() as announced:
        enrolment_start(member=member, course=course, now=T0)
        enrolment_start(member=member, course=course, now=T0 + dt.timedelta(days=1))
    assert Enrolment.objects.get().enrolled_at == T0
    assert announced == [member.pk]


def test_progress_reach_moves_forward_only(member: Member, course) -> None:
    enrolment = enrolment_progress_reach(member=member, course=course, percent=40, now=T0)
    # 40 % of a 60-minute course: 24 minutes.
    assert _state(enrolment) == (40, 1440, T0, None)
    later = T0 + dt.timedelta(hours=1)
    # A late report of an earlier point changes nothing, not even the last watch time.
    assert enrolment_progress_reach(member=member, course=course, percent=25, now=later)
    assert _state(enrolment) == (40, 1440, T0, None)
    enrolment_progress_reach(member=member, course=course, percent=130, now=later)
    assert _state(enrolment) == (100, 3600, later, later)


def test_progress_reach_of_nothing_starts_no_enrolment(member: Member, course) -> None:
    assert enrolment_progress_reach(member=member, course=course, percent=0, now=T0) is None
    assert not Enrolment.objects.exists()


def test_watch_locks_an_existing_enrolment_in_one_query(
    member: Member, course, django_assert_num_queries
) -> None:
    enrolment_start(member=member, course=course, now=T0)
    # The savepoint and its release, the locked read, the update.
    with django_assert_num_queries(4):
        enrolment_watch(member=member, course=course, seconds=60, now=T0)


# Views


def test_enrol_without_htmx_redirects_to_the_course(member_client: Client, member, course) -> None:
    response = member_client.post(reverse("members:enrol", args=[course.slug]))

    assert response.status_code == 302
    assert response.url == reverse("web:course_detail", args=[course.slug])
    enrolment = Enrolment.objects.get(member=member, course=course)
    assert _state(enrolment) == (0, 0, None, None)


def test_htmx_actions_return_the_panel(member_client: Client, member, course) -> None:
    def post(action: str) -> str:
        response = member_client.post(
            reverse(f"members:{action}", args=[course.slug]), HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert html.lstrip().startswith('<section id="course-activity"')
        assert "<html" not in html
        return html

    html = post("enrol")
    assert "Progress: 0%" in html
    assert "Mark finished" in html
    assert ">Enrol<" not in html

    html = post("watch")
    assert "Progress: 17%" in html
    assert 'aria-valuenow="17"' in html

    html = post("bookmark")
    assert "Remove bookmark" in html
    html = post("bookmark")
    assert "Remove bookmark" not in html
    assert ">Bookmark<" in html

    html = post("finish")
    assert "Finished on" in html
    assert "Watch 10 min" not in html
    enrolment = Enrolment.objects.get(member=member, course=course)
    assert enrolment.progress_percent == 100
    assert enrolment.completed_at is not None


def test_panel_before_enrolment_offers_enrol(member_client: Client, course) -> None:
    response = member_client.post(
        reverse("members:bookmark", args=[course.slug]), HTTP_HX_REQUEST="true"
    )

    html = response.content.decode()
    assert "Not enrolled yet." in html
    assert ">Enrol<" in html
    assert f'hx-post="{reverse("members:enrol", args=[course.slug])}"' in html
    assert 'hx-target="#course-activity"' in html
    assert 'name="csrfmiddlewaretoken"' in html


@pytest.mark.parametrize("action", ACTIONS)
def test_get_is_refused(member_client: Client, course, action: str) -> None:
    response = member_client.get(reverse(f"members:{action}", args=[course.slug]))

    assert response.status_code == 405
    assert not Enrolment.objects.exists()
    assert not Bookmark.objects.exists()


@pytest.mark.parametrize("action", ACTIONS)
def test_unknown_course_is_404(member_client: Client, action: str) -> None:
    response = member_client.post(reverse(f"members:{action}", args=["no-such-course"]))

    assert response.status_code == 404


def test_unpublished_course_is_404_for_learners(member_client: Client) -> None:
    hidden = CourseFactory(published_at=timezone.now() + dt.timedelta(days=3))

    response = member_client.post(reverse("members:enrol", args=[hidden.slug]))

    assert response.status_code == 404
    assert not Enrolment.objects.exists()


@pytest.mark.parametrize("action", ACTIONS)
def test_anonymous_is_sent_to_login_and_back_to_the_course(
    client: Client, course, action: str
) -> None:
    response = client.post(reverse(f"members:{action}", args=[course.slug]))

    assert response.status_code == 302
    assert response.url == f"{reverse('members:login')}?next=/courses/intro-to-sql/"
    assert not Enrolment.objects.exists()
    assert not Bookmark.objects.exists()


def test_anonymous_htmx_request_redirects_the_whole_page(client: Client, course) -> None:
    response = client.post(reverse("members:enrol", args=[course.slug]), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{reverse('members:login')}?next=/courses/intro-to-sql/"


@pytest.mark.parametrize("action", ACTIONS)
def test_csrf_is_enforced(member: Member, course, action: str) -> None:
    client = Client(enforce_csrf_checks=True)
    client.login(username=member.user.username, password=PASSWORD)
    url = reverse(f"members:{action}", args=[course.slug])

    refused = client.post(url)

    assert refused.status_code == 403
    assert not Enrolment.objects.exists()
    assert not Bookmark.objects.exists()

    client.get(reverse("members:profile"))  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post(url, HTTP_X_CSRFTOKEN=token, HTTP_HX_REQUEST="true")

    assert accepted.status_code == 200


def test_staff_without_a_member_row_can_enrol(client: Client, course) -> None:
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "x")
    client.force_login(admin)

    response = client.post(reverse("members:watch", args=[course.slug]), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    enrolment = Enrolment.objects.get(member__user=admin, course=course)
    assert enrolment.progress_percent == 17


def test_the_locked_enrolment_read_is_the_orms_row(member: Member, course) -> None:
    """A watch reads the enrolment it advances with its row locked (on PostgreSQL a prepared
    statement): every field as the ORM reads it, aware datetimes included."""
    from django.db import transaction

    from members.services import _enrolment_existing_locked

    with transaction.atomic():
        assert _enrolment_existing_locked(member=member, course=course) is None
    started = EnrolmentFactory(
        member=member,
        course=course,
        enrolled_at=T0,
        progress_percent=30,
        watched_seconds=600,
        last_watched_at=T0 + dt.timedelta(minutes=5),
    )
    EnrolmentFactory(member=member)  # another course's
    with transaction.atomic():
        locked = _enrolment_existing_locked(member=member, course=course)
    fields = [field.attname for field in Enrolment._meta.concrete_fields]
    assert {name: getattr(locked, name) for name in fields} == Enrolment.objects.values().get(
        pk=started.pk
    )
    assert locked.enrolled_at.tzinfo is not None and not locked._state.adding
    locked.progress_percent = 35
    locked.save(update_fields=["progress_percent"])  # an UPDATE of the row it read
    assert Enrolment.objects.get(pk=started.pk).progress_percent == 35
