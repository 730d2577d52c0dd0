"""API token authentication that loads the member row with the user.

Nearly every API request then asks for the member (`request_member`): reading it in the token's
query, with the title and industry the homepage names, saves a query per request.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication


class MemberTokenAuthentication(TokenAuthentication):
    """DRF's `TokenAuthentication`, with `user.member` (title, industry) read in the same query.

    The checks and their messages are DRF's own (unknown key, inactive user).
    """

    def authenticate_credentials(self, key):
        model = self.get_model()
        try:
            token = model.objects.select_related(
                "user__member__title", "user__member__industry"
            ).get(key=key)
        except model.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (token.user, token)
