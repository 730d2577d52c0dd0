"""The client's network address, by one rule for the API's throttles and the login lockout.

The rule is DRF's (``NUM_PROXIES`` in ``REST_FRAMEWORK``): with 0 proxies the address is
``REMOTE_ADDR``; behind N proxies it is the entry N from the right of ``X-Forwarded-For``, the one
the outermost trusted proxy wrote. A header the client writes itself is never taken whole, or a
fresh value per request would be a fresh client.
"""

from django.http import HttpRequest
from rest_framework.throttling import BaseThrottle


def client_address(request: HttpRequest) -> str | None:
    return BaseThrottle().get_ident(request)
