"""The digest's pages: a followed course link (signed, no login), the unsubscribe page
(signed, no login, and RFC 8058's one-click POST) and the member's preview of their next
digest (the profile loads it)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from members.selectors import member_digest_subscribed
from members.services import member_digest_subscription_set, member_get_or_create_for_user
from recommendations.digest.composition import digest_preview
from recommendations.digest.links import (
    DigestLinkRefused,
    click_token_read,
    unsubscribe_token_read,
)
from recommendations.digest.services import digest_click_record


def _refused(request: HttpRequest, error: DigestLinkRefused) -> HttpResponse:
    return render(
        request,
        "recommendations/digest_link_refused.html",
        {"message": str(error), "expired": error.expired},
        status=400,
    )


@require_GET
def click(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = click_token_read(token)
    except DigestLinkRefused as error:
        return _refused(request, error)
    course = digest_click_record(send_id=link.send_id, position=link.position)
    if course is None:
        raise Http404("This course is no longer available.")
    return redirect("web:course_detail", slug=course.slug)


# The token is the credential, not a session: a mail client's one-click POST carries no CSRF
# token or cookie, and all the page can do is turn the email off.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (a link scanner opening it unsubscribes nobody), POST unsubscribes: the page's
    button or the mail client's `List-Unsubscribe-Post`. Twice is fine."""
    try:
        member_id = unsubscribe_token_read(token)
    except DigestLinkRefused as error:
        return _refused(request, error)
    subscribed = member_digest_subscribed(member_id=member_id)
    if subscribed is None:
        raise Http404("No such account.")
    if request.method == "POST":
        member_digest_subscription_set(member_id=member_id, subscribed=False)
        subscribed = False
        done = True
    else:
        done = False
    return render(
        request,
        "recommendations/digest_unsubscribe.html",
        {"subscribed": subscribed, "done": done},
    )


@login_required
@require_GET
def preview(request: HttpRequest) -> HttpResponse:
    member = member_get_or_create_for_user(user=request.user)
    digest = digest_preview(member=member, now=timezone.now())
    template = (
        "recommendations/_digest_preview.html"
        if request.htmx
        else "recommendations/digest_preview.html"
    )
    return render(request, template, {"digest": digest})
