"""The digest's signed links. A course link carries (digest id, position) and is good for
`DIGEST["LINK_MAX_AGE_DAYS"]`; the unsubscribe link carries the member id and never expires (a
member may act on an old email). Both are signed with SECRET_KEY under salts of their own, so
neither can be forged, altered, or used as the other; neither needs a login: the link is the
credential, and all it can do is record a click or turn the email off."""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

_CLICK_SALT = "recommendations.digest.click"
_UNSUBSCRIBE_SALT = "recommendations.digest.unsubscribe"


class DigestLinkRefused(Exception):
    """A link that was altered, is not a digest link at all, or has expired (`expired`)."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True)
class ClickLink:
    send_id: int
    position: int


def click_token_make(*, send_id: int, position: int) -> str:
    return signing.dumps([send_id, position], salt=_CLICK_SALT, compress=False)


def click_token_read(token: str, *, now: dt.datetime | None = None) -> ClickLink:
    max_age = dt.timedelta(days=settings.DIGEST["LINK_MAX_AGE_DAYS"])
    try:
        payload = signing.loads(token, salt=_CLICK_SALT, max_age=max_age)
    except signing.SignatureExpired as error:
        raise DigestLinkRefused("This link has expired.", expired=True) from error
    except signing.BadSignature as error:
        raise DigestLinkRefused("This link is not valid.") from error
    if (
        not isinstance(payload, list)
        or len(payload) != 2
        or not all(type(value) is int and value >= 0 for value in payload)
    ):
        raise DigestLinkRefused("This link is not valid.")
    return ClickLink(send_id=payload[0], position=payload[1])


def unsubscribe_token_make(*, member_id: int) -> str:
    return signing.dumps(member_id, salt=_UNSUBSCRIBE_SALT)


def unsubscribe_token_read(token: str) -> int:
    try:
        member_id = signing.loads(token, salt=_UNSUBSCRIBE_SALT)
    except signing.BadSignature as error:
        raise DigestLinkRefused("This link is not valid.") from error
    if type(member_id) is not int or member_id <= 0:
        raise DigestLinkRefused("This link is not valid.")
    return member_id


def site_url(path: str) -> str:
    """`path` on the site as members reach it (`SITE_URL`): emails leave the request behind."""
    return f"{settings.SITE_URL}{path}"


def click_url(*, send_id: int, position: int) -> str:
    token = click_token_make(send_id=send_id, position=position)
    return site_url(reverse("digest:click", args=[token]))


def unsubscribe_url(*, member_id: int) -> str:
    token = unsubscribe_token_make(member_id=member_id)
    return site_url(reverse("digest:unsubscribe", args=[token]))
