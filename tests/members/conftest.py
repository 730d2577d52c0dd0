import pytest

from members.signals import member_activity_changed


@pytest.fixture
def announced():
    """Member ids announced, in order, with the refresh task's receiver kept out."""
    sent: list[int] = []

    def collect(*, member_id: int, **_: object) -> None:
        sent.append(member_id)

    member_activity_changed.disconnect(dispatch_uid="recommendations.member_refresh")
    member_activity_changed.connect(collect, dispatch_uid="tests.collect")
    yield sent
    member_activity_changed.disconnect(dispatch_uid="tests.collect")
    from recommendations.apps import member_refresh_enqueue

    member_activity_changed.connect(
        member_refresh_enqueue, dispatch_uid="recommendations.member_refresh"
    )
