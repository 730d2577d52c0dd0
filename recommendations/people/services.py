"""What members do with suggested people: each showing (one page view row, the shown ids
packed), clicks and hides pointing at it, and hiding a person for good."""

import datetime as dt
import uuid

from django.db import transaction
from django.utils import timezone

from members.models import Member
from recommendations.models import PeoplePageView, PersonClick, PersonHidden, PersonSuggestion
from recommendations.people.serving import shown_ids_pack, shown_ids_unpack


def people_page_view_log(
    *, member: Member, surface: str, shown: list[int], now: dt.datetime | None = None
) -> uuid.UUID | None:
    """One row for one showing of people (none when nobody was shown); its id goes into the
    page's click and hide links."""
    if not shown:
        return None
    page_view = PeoplePageView.objects.create(
        id=uuid.uuid4(),
        member=member,
        surface=surface,
        shown=shown_ids_pack(shown),
        created_at=now or timezone.now(),
    )
    return page_view.pk


def _page_view_showing(
    *, member: Member, page_view_id: uuid.UUID | None, person_id: int
) -> PeoplePageView | None:
    """The member's own page view that showed the person, else None (forged or stale)."""
    if page_view_id is None:
        return None
    page_view = PeoplePageView.objects.filter(pk=page_view_id, member=member).first()
    if page_view is None or person_id not in shown_ids_unpack(page_view.shown):
        return None
    return page_view


def person_click_log(
    *, member: Member, page_view_id: uuid.UUID, person_id: int, now: dt.datetime | None = None
) -> PersonClick | None:
    """A click on a shown person, attributed to the page view that showed them; a click with
    no such page view (forged, stale, another member's) is not recorded."""
    page_view = _page_view_showing(member=member, page_view_id=page_view_id, person_id=person_id)
    if page_view is None:
        return None
    return PersonClick.objects.create(
        page_view=page_view, member=member, person_id=person_id, created_at=now or timezone.now()
    )


@transaction.atomic
def person_hide(
    *,
    member: Member,
    person_id: int,
    page_view_id: uuid.UUID | None = None,
    now: dt.datetime | None = None,
) -> PersonHidden | None:
    """Never suggest this person to the member again: recorded (with the page view it came
    from, when it showed them) and their stored suggestion row deleted. Only a person suggested
    to the member can be hidden (None otherwise); hiding twice keeps the first."""
    suggested = PersonSuggestion.objects.filter(member=member, person_id=person_id)
    already = PersonHidden.objects.filter(member=member, person_id=person_id).first()
    if already is not None:
        return already
    if not suggested.exists():
        return None
    page_view = _page_view_showing(member=member, page_view_id=page_view_id, person_id=person_id)
    hidden = PersonHidden.objects.create(
        member=member, person_id=person_id, page_view=page_view, created_at=now or timezone.now()
    )
    suggested.delete()
    return hidden
