"""Permissions for the API's staff endpoints: the same model permissions the admin asks for.

`IsAdminUser` let any staff account call them, even one the admin refuses everything (a curator
with no permissions on training runs could start a retrain). `StaffModelPermission` asks what
the admin asks for the same action: an active staff account holding the permission, where the
admin's "view" is the view or the change permission (`ModelAdmin.has_view_permission`).
"""

from rest_framework.permissions import BasePermission
from rest_framework.request import Request


def staff_model_permission(*any_of: str) -> type[BasePermission]:
    """A permission class for active staff holding at least one of `any_of` ("app.codename")."""

    class StaffModelPermission(BasePermission):
        perms = any_of

        def has_permission(self, request: Request, view) -> bool:
            user = request.user
            if not (user and user.is_authenticated and user.is_active and user.is_staff):
                return False
            return any(user.has_perm(perm) for perm in self.perms)

    StaffModelPermission.__name__ = StaffModelPermission.__qualname__ = (
        f"StaffModelPermission[{' | '.join(any_of)}]"
    )
    return StaffModelPermission
