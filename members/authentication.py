"""Authentication that loads the member row with the user: API tokens and site sessions.

Nearly every request then asks for the member (`member_get_or_create_for_user`): reading it in
the statement that reads the user, with the title and industry the homepage names, saves a
query per request (see `members.selectors.token_with_member`).
"""

from asgiref.sync import sync_to_async
from django.contrib.auth.backends import ModelBackend
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from members.selectors import token_with_member, user_with_member


class MemberTokenAuthentication(TokenAuthentication):
    """DRF's `TokenAuthentication`, with `user.member` (title, industry) read in the same query.

    The checks and their messages are DRF's own (unknown key, inactive user).
    """

    def authenticate_credentials(self, key):
        token = token_with_member(key=key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
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
