"""Authentication that loads the member row with the user: API tokens and site sessions.

Nearly every request then asks for the member (`member_get_or_create_for_user`): reading it in
the statement that reads the user, with the title and industry the homepage names, saves a
query per request (see `members.selectors.token_with_member`).
"""

from asgiref.sync import sync_to_async
from django.contrib.auth.backends import ModelBackend
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from members.selectors import token_with_member, user_with_member
from members.services import api_token_digest


class MemberTokenAuthentication(TokenAuthentication):
    """DRF's `TokenAuthentication` (`Authorization: Token <key>`) over `ApiToken`: the presented
    key is hashed and looked up by its digest, with `user.member` (title, industry) read in the
    same query. Unknown and inactive users get DRF's messages; an expired token its own.
    """

    def authenticate_credentials(self, key):
        token = token_with_member(digest=api_token_digest(key=key))
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if token.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed(_("Token expired; obtain a new one."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (token.user, token)


class MemberModelBackend(ModelBackend):
    """Django's `ModelBackend` (passwords and permissions unchanged), whose `get_user`, run on
    every request of a signed-in session, reads the member (title, industry) with the user."""

    def get_user(self, user_id):
        user = user_with_member(user_id=user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    async def aget_user(self, user_id):
        return await sync_to_async(self.get_user)(user_id)
