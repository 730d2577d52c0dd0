import functools
import math
from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from catalog.models import Skill
from catalog.selectors import (
    course_get_by_slug,
    learning_path_published_get,
    skill_get_by_slug,
    skills_search,
)
from core.client_address import client_address
from members import services
from members.forms import (
    ApiTokenCreateForm,
    DigestSubscriptionForm,
    EmailChangeForm,
    FollowedSkillRemoveForm,
    FollowedSkillsAddForm,
    FollowSearchForm,
    GoalForm,
    MemberPasswordChangeForm,
    OnboardingForm,
    OnboardingTypedForm,
    PeopleSettingsForm,
    ProfileSkillAddForm,
    ProfileSkillRemoveForm,
    ResetSetPasswordForm,
    SignUpForm,
    SkillIdsQueryForm,
    SkillQueryForm,
    TitleQueryForm,
    TitleSuggestionsQueryForm,
)
from members.models import FollowedSkill, JobTitle, Member
from members.selectors import (
    api_tokens_of_user,
    course_activity_for_member,
    followed_skills_of_member,
    job_title_by_name,
    job_titles_search,
    learning_paths_listed,
    learning_paths_progress,
    member_learning,
    member_profile,
    skill_followed_by_member,
    skills_by_ids,
    skills_suggested_for_title,
)

SUGGESTION_LIMIT = 12


def _member(request: HttpRequest) -> Member:
    return services.member_get_or_create_for_user(user=request.user)


# Accounts


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        member = services.member_sign_up(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
        )
        login(request, member.user, backend="members.authentication.MemberModelBackend")
        messages.success(request, "Welcome! Tell us a little about you to tailor your courses.")
        return redirect("members:onboarding")
    return render(request, "members/signup.html", {"form": form})


def _rate_limited(request: HttpRequest, *, wait: float, reason: str) -> HttpResponse:
    response = render(
        request,
        "members/rate_limited.html",
        {"reason": reason, "minutes": max(1, math.ceil(wait / 60))},
        status=429,
    )
    response["Retry-After"] = str(max(1, math.ceil(wait)))
    return response


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link by email. Known or not, the address gets the same answer (the "sent"
    page); only the rate limit, which counts unknown addresses too, answers otherwise."""

    template_name = "members/password_reset.html"
    form_class = PasswordResetForm
    success_url = reverse_lazy("members:password_reset_done")

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        email = form.cleaned_data["email"]
        wait = services.password_reset_rate_take(email=email, address=client_address(self.request))
        if wait is not None:
            return _rate_limited(
                self.request,
                wait=wait,
                reason=(
                    "Too many password resets were asked for from your network or for this "
                    "email address."
                ),
            )
        services.password_reset_send(
            email=email, domain=self.request.get_host(), use_https=self.request.is_secure()
        )
        return redirect(self.success_url)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The page a reset link opens: Django's (the token moves from the URL to the session, so
    it does not leak in a Referer), with the site's form and template."""

    template_name = "members/password_reset_confirm.html"
    form_class = ResetSetPasswordForm
    success_url = reverse_lazy("members:password_reset_complete")


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "members/password_change.html"
    form_class = MemberPasswordChangeForm
    success_url = reverse_lazy("members:profile")

    def form_valid(self, form: MemberPasswordChangeForm) -> HttpResponse:
        # Django's view saves the form and keeps this session signed in.
        response = super().form_valid(form)
        messages.success(
            self.request,
            "Your password was changed. Other sessions are logged out and your API tokens "
            "are revoked.",
        )
        return response


@login_required
@require_http_methods(["GET", "POST"])
def email_change(request: HttpRequest) -> HttpResponse:
    form = EmailChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        wait = services.email_change_rate_take(user=request.user)
        if wait is not None:
            return _rate_limited(
                request, wait=wait, reason="Too many email changes were asked for on this account."
            )
        new_email = form.cleaned_data["email"]
        services.email_change_request(
            user=request.user,
            new_email=new_email,
            domain=request.get_host(),
            use_https=request.is_secure(),
        )
        messages.success(
            request,
            f"We sent a link to {new_email}: your address changes when you open it.",
        )
        return redirect("members:profile")
    return render(request, "members/email_change.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def email_change_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows what the link would change and a button; only the POST changes it (a mail
    scanner that opens links must not confirm them)."""
    try:
        if request.method == "POST":
            new_email = services.email_change_confirm(user=request.user, token=token)
            messages.success(request, f"Your email address is now {new_email}.")
            return redirect("members:profile")
        new_email = services.email_change_token_read(user=request.user, token=token)
    except services.EmailChangeRefused as refused:
        return render(
            request, "members/email_change_confirm.html", {"refused": str(refused)}, status=400
        )
    return render(request, "members/email_change_confirm.html", {"new_email": new_email})


# Onboarding questionnaire


def _suggestions(*, title: JobTitle | None, exclude_ids: set[int]) -> list[Skill]:
    # Ask for extra so that hiding already-chosen skills still leaves a full block.
    suggested = skills_suggested_for_title(title=title, limit=SUGGESTION_LIMIT + len(exclude_ids))
    return [skill for skill in suggested if skill.pk not in exclude_ids][:SUGGESTION_LIMIT]


def _onboarding_page(
    request: HttpRequest,
    *,
    form: OnboardingForm,
    title_name: str,
    skill_ids: list[str],
    query: str,
    typed: OnboardingTypedForm | None = None,
) -> HttpResponse:
    selected = skills_by_ids(ids=skill_ids)
    selected_ids = {skill.pk for skill in selected}
    title = job_title_by_name(name=title_name)
    context = {
        "form": form,
        "title_name": title_name,
        "selected_skills": selected,
        "suggested_skills": _suggestions(title=title, exclude_ids=selected_ids),
        "title": title,
        "query": query,
        "query_errors": typed.errors.get("q") if typed is not None else None,
        # Without JavaScript the "Search" button posts the form back and results render here.
        "skill_results": [s for s in skills_search(query=query) if s.pk not in selected_ids]
        if query
        else [],
    }
    return render(request, "members/onboarding.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def onboarding(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    if request.method == "GET":
        followed_ids = [str(pk) for pk in member.followed_skills.values_list("skill_id", flat=True)]
        title_name = member.title_text or (member.title.name if member.title_id else "")
        form = OnboardingForm(
            initial={
                "title": title_name,
                "industry": member.industry_id,
                "seniority": member.seniority,
                "goal": member.goal_text,
                "skills": followed_ids,
                "digest_opt_in": member.digest_opt_in,
            }
        )
        return _onboarding_page(
            request, form=form, title_name=title_name, skill_ids=followed_ids, query=""
        )

    # The typed title and search text, checked (length, no NUL) before they reach a query; one
    # that fails is shown as its field's error and looked up as empty.
    typed = OnboardingTypedForm(request.POST)
    typed_valid = typed.is_valid()
    title_name = typed.cleaned_data.get("title", "")
    query = typed.cleaned_data.get("q", "")
    skill_ids = request.POST.getlist("skills")
    page = functools.partial(
        _onboarding_page,
        request,
        title_name=title_name,
        skill_ids=skill_ids,
        query=query,
        typed=typed,
    )
    if request.POST.get("action") == "refresh":
        if not typed_valid:
            # The bound form names what is wrong with the title; nothing is saved.
            return page(form=OnboardingForm(request.POST))
        # Not a submit: keep what was entered, without shouting errors at a half-filled form.
        form = OnboardingForm(
            initial={
                "title": title_name,
                "industry": request.POST.get("industry", ""),
                "seniority": request.POST.get("seniority", ""),
                "goal": typed.cleaned_data.get("goal", ""),
                "digest_opt_in": bool(request.POST.get("digest_opt_in")),
            }
        )
        return page(form=form)

    form = OnboardingForm(request.POST)
    if not form.is_valid():
        return page(form=form)
    services.member_onboarding_submit(
        member=member,
        title_text=form.cleaned_data["title"],
        industry=form.cleaned_data["industry"],
        seniority=form.cleaned_data["seniority"],
        skills=form.cleaned_data["skills"],
        digest_opt_in=form.cleaned_data["digest_opt_in"],
    )
    if form.cleaned_data["goal"]:
        services.member_goal_set(member=member, text=form.cleaned_data["goal"])
    elif member.goal_id is not None or member.goal_text:
        services.member_goal_clear(member=member)
    messages.success(request, "Thanks! Your recommendations now follow your answers.")
    return redirect("home")


def _bad_query(form: forms.Form) -> HttpResponse:
    # htmx swaps nothing on a 400: the partial on screen stays as it was.
    return HttpResponseBadRequest(form.errors.as_text(), content_type="text/plain; charset=utf-8")


@login_required
@require_GET
def title_search(request: HttpRequest) -> HttpResponse:
    query = TitleQueryForm(request.GET)
    if not query.is_valid():
        return _bad_query(query)
    titles = job_titles_search(query=query.cleaned_data["title"])
    return render(request, "members/_title_options.html", {"titles": titles})


@login_required
@require_GET
def title_suggestions(request: HttpRequest) -> HttpResponse:
    query = TitleSuggestionsQueryForm(request.GET)
    if not query.is_valid():
        return _bad_query(query)
    title_name = query.cleaned_data["title"]
    title = job_title_by_name(name=title_name)
    if title_name and title is None:
        # Still typing: keep the suggestions on screen (htmx swaps nothing on a 204).
        return HttpResponse(status=204)
    selected_ids = {skill.pk for skill in skills_by_ids(ids=query.cleaned_data["skills"])}
    context = {
        "suggested_skills": _suggestions(title=title, exclude_ids=selected_ids),
        "title": title,
    }
    return render(request, "members/_suggested_skills.html", context)


@login_required
@require_GET
def selected_skills(request: HttpRequest) -> HttpResponse:
    query = SkillIdsQueryForm(request.GET)
    if not query.is_valid():
        return _bad_query(query)
    selected = skills_by_ids(ids=query.cleaned_data["skills"])
    return render(request, "members/_selected_skills.html", {"selected_skills": selected})


# Profile


def _followed_context(
    *,
    followed: list[FollowedSkill],
    search: FollowSearchForm | None = None,
    add_form: FollowedSkillsAddForm | None = None,
    remove_form: FollowedSkillRemoveForm | None = None,
) -> dict[str, object]:
    """The profile's "Skills you follow" section: the follows, the skill picker's search (its
    results rendered here when the search was submitted without JavaScript, skills already
    followed left out) and the errors of a refused add or remove."""
    search = search or FollowSearchForm()
    query = search.cleaned_data.get("q", "") if search.is_bound and search.is_valid() else ""
    followed_ids = {row.skill_id for row in followed}
    results = [s for s in skills_search(query=query) if s.pk not in followed_ids] if query else []
    return {
        "followed_skills": followed,
        "follow_search": search,
        "follow_query": query,
        "follow_results": results,
        "follow_add_form": add_form,
        "follow_remove_form": remove_form,
    }


def _profile_page(
    request: HttpRequest,
    *,
    member: Member,
    add_form: ProfileSkillAddForm | None = None,
    remove_form: ProfileSkillRemoveForm | None = None,
    follow_search: FollowSearchForm | None = None,
    follow_add_form: FollowedSkillsAddForm | None = None,
    follow_remove_form: FollowedSkillRemoveForm | None = None,
    token_form: ApiTokenCreateForm | None = None,
    new_token_key: str | None = None,
    goal_form: GoalForm | None = None,
    people_form: PeopleSettingsForm | None = None,
) -> HttpResponse:
    profile = member_profile(member=member)
    context = {
        "people_form": people_form or _people_settings_form(profile.member),
        "profile": profile,
        "goal_form": goal_form or GoalForm(initial={"goal": member.goal_text}),
        "add_form": add_form or ProfileSkillAddForm(),
        "remove_form": remove_form,
        "api_tokens": api_tokens_of_user(user=request.user),
        "token_form": token_form or ApiTokenCreateForm(),
        "digest_form": DigestSubscriptionForm(initial={"digest_opt_in": member.digest_opt_in}),
        "new_token_key": new_token_key,
        **_followed_context(
            followed=profile.followed_skills,
            search=follow_search,
            add_form=follow_add_form,
            remove_form=follow_remove_form,
        ),
    }
    return render(request, "members/profile.html", context)


def _people_settings_form(member: Member) -> PeopleSettingsForm:
    return PeopleSettingsForm(
        initial={
            "discoverable": member.discoverable,
            "display_name": member.display_name,
            "shows_title": member.shows_title,
            "shows_skills": member.shows_skills,
            "shows_courses": member.shows_courses,
        }
    )


@login_required
@require_POST
def people_settings(request: HttpRequest) -> HttpResponse:
    """The profile's "People to learn with" section: htmx swaps the section, without
    JavaScript the profile page comes back (with the errors, or after a redirect)."""
    member = _member(request)
    form = PeopleSettingsForm(request.POST)
    if form.is_valid():
        try:
            services.member_people_settings_set(member=member, **form.cleaned_data)
        except services.PeopleSettingsInvalid as refused:
            for name, message in refused.errors.items():
                form.add_error(name, message)
    if request.htmx:
        context = {"people_form": form if form.errors else _people_settings_form(member)}
        context["people_saved"] = not form.errors
        return render(request, "members/_people_settings.html", context)
    if form.errors:
        return _profile_page(request, member=member, people_form=form)
    messages.success(request, "Your people settings are saved.")
    return redirect(f"{reverse('members:profile')}#people-settings")


def _followed_section(
    request: HttpRequest,
    *,
    member: Member,
    add_form: FollowedSkillsAddForm | None = None,
    remove_form: FollowedSkillRemoveForm | None = None,
) -> HttpResponse:
    """htmx gets the "Skills you follow" section; a plain form post goes back to the profile
    page (a refused one renders it with the error)."""
    if request.htmx:
        context = _followed_context(
            followed=followed_skills_of_member(member=member),
            add_form=add_form,
            remove_form=remove_form,
        )
        return render(request, "members/_followed_skills.html", context)
    if add_form is not None or remove_form is not None:
        return _profile_page(
            request, member=member, follow_add_form=add_form, follow_remove_form=remove_form
        )
    return redirect("members:profile")


def _api_tokens_section(request: HttpRequest) -> HttpResponse:
    """htmx gets the tokens section; a plain form post goes back to the profile page."""
    if request.htmx:
        return render(
            request,
            "members/_api_tokens.html",
            {
                "api_tokens": api_tokens_of_user(user=request.user),
                "token_form": ApiTokenCreateForm(),
            },
        )
    return redirect("members:profile")


@login_required
@require_POST
def api_token_create(request: HttpRequest) -> HttpResponse:
    """A named token, its key shown in the answer to this POST and never again: htmx gets the
    tokens section with it, a plain post the profile page (rendered, not redirected to, so the
    key is never kept anywhere to show after a redirect). Never cached."""
    form = ApiTokenCreateForm(request.POST)
    new_key = None
    if form.is_valid():
        _, new_key = services.api_token_create(user=request.user, name=form.cleaned_data["name"])
        form = ApiTokenCreateForm()
    if request.htmx:
        context = {
            "api_tokens": api_tokens_of_user(user=request.user),
            "token_form": form,
            "new_token_key": new_key,
        }
        response = render(request, "members/_api_tokens.html", context)
    else:
        response = _profile_page(
            request, member=_member(request), token_form=form, new_token_key=new_key
        )
    add_never_cache_headers(response)
    return response


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    if not services.api_token_revoke(user=request.user, token_id=token_id):
        raise Http404("No such token.")
    if not request.htmx:
        messages.success(request, "The API token was revoked.")
    return _api_tokens_section(request)


@login_required
@require_POST
def api_tokens_revoke_all(request: HttpRequest) -> HttpResponse:
    revoked = services.api_tokens_revoke_all(user=request.user)
    if not request.htmx:
        messages.success(request, f"{revoked} API token{'s' if revoked != 1 else ''} revoked.")
    return _api_tokens_section(request)


@login_required
@require_GET
def profile(request: HttpRequest) -> HttpResponse:
    search = FollowSearchForm(request.GET) if "q" in request.GET else None
    return _profile_page(request, member=_member(request), follow_search=search)


@login_required
@require_POST
def digest_subscription(request: HttpRequest) -> HttpResponse:
    """The profile's switch for the weekly recommendations email."""
    member = _member(request)
    form = DigestSubscriptionForm(request.POST)
    form.is_valid()  # a checkbox: anything but a ticked box is off
    subscribed = bool(form.cleaned_data.get("digest_opt_in"))
    if services.member_digest_subscription_set(member_id=member.pk, subscribed=subscribed):
        messages.success(
            request,
            "You will get your top recommendations by email once a week."
            if subscribed
            else "You will no longer get the weekly recommendations email.",
        )
    return redirect(reverse("members:profile") + "#digest")


@login_required
@require_POST
def profile_follow_add(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    form = FollowedSkillsAddForm(request.POST)
    if not form.is_valid():
        return _followed_section(request, member=member, add_form=form)
    followed = services.member_skills_follow(member=member, skills=form.cleaned_data["skills"])
    if followed and not request.htmx:
        names = ", ".join(skill.name for skill in followed)
        messages.success(request, f"You now follow {names}.")
    return _followed_section(request, member=member)


@login_required
@require_POST
def profile_follow_remove(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    form = FollowedSkillRemoveForm(request.POST)
    if not form.is_valid():
        return _followed_section(request, member=member, remove_form=form)
    skill = form.cleaned_data["skill"]
    if services.member_skill_unfollow(member=member, skill=skill) and not request.htmx:
        messages.success(request, f"You no longer follow {skill.name}.")
    return _followed_section(request, member=member)


@login_required
@require_POST
def goal_set(request: HttpRequest) -> HttpResponse:
    """Set the member's goal role; a refused one renders the profile with the field's error."""
    member = _member(request)
    form = GoalForm(request.POST)
    if not form.is_valid():
        return _profile_page(request, member=member, goal_form=form)
    services.member_goal_set(member=member, text=form.cleaned_data["goal"])
    messages.success(request, f"Your goal is now {member.goal_text}.")
    return redirect("web:goal")


@login_required
@require_POST
def goal_clear(request: HttpRequest) -> HttpResponse:
    if services.member_goal_clear(member=_member(request)):
        messages.success(request, "Your goal is cleared.")
    return redirect("members:profile")


@login_required
@require_GET
def learning_paths(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "members/learning_paths.html",
        {"paths": learning_paths_listed(member=_member(request))},
    )


@login_required
@require_GET
def learning_path_detail(request: HttpRequest, slug: str) -> HttpResponse:
    path = learning_path_published_get(slug=slug)
    if path is None:
        raise Http404("No such learning path.")
    (progress,) = learning_paths_progress(member=_member(request), paths=[path])
    return render(request, "members/learning_path.html", {"progress": progress})


def _path_follow_action(*, follow: bool) -> Callable[[HttpRequest, str], HttpResponse]:
    @login_required
    @require_POST
    def action(request: HttpRequest, slug: str) -> HttpResponse:
        path = learning_path_published_get(slug=slug)
        if path is None:
            raise Http404("No such learning path.")
        member = _member(request)
        if follow and services.member_path_follow(member=member, path=path):
            messages.success(request, f"You now follow the path {path.title}.")
        elif not follow and services.member_path_unfollow(member=member, path=path):
            messages.success(request, f"You no longer follow the path {path.title}.")
        return redirect("members:learning_path", slug=path.slug)

    return action


learning_path_follow = _path_follow_action(follow=True)
learning_path_unfollow = _path_follow_action(follow=False)


@login_required
@require_POST
def profile_skill_add(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    form = ProfileSkillAddForm(request.POST)
    if not form.is_valid():
        return _profile_page(request, member=member, add_form=form)
    skill = form.cleaned_data["skill"]
    services.member_profile_skill_add(
        member=member, skill=skill, weight=form.cleaned_data["weight"]
    )
    messages.success(request, f"{skill.name} is on your profile.")
    return redirect("members:profile")


@login_required
@require_POST
def profile_skill_remove(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    form = ProfileSkillRemoveForm(request.POST)
    if not form.is_valid():
        return _profile_page(request, member=member, remove_form=form)
    skill = form.cleaned_data["skill"]
    if services.member_profile_skill_remove(member=member, skill=skill):
        messages.success(request, f"{skill.name} was removed from your profile.")
    return redirect("members:profile")


@login_required
@require_GET
def skill_options(request: HttpRequest) -> HttpResponse:
    query = SkillQueryForm(request.GET)
    if not query.is_valid():
        return _bad_query(query)
    skills = skills_search(query=query.cleaned_data["skill"])
    return render(request, "members/_skill_options.html", {"skills": skills})


# Following a skill from its page


def _skill_follow_action(*, follow: bool) -> Callable[[HttpRequest, str], HttpResponse]:
    """A POST-only endpoint that follows (or unfollows) the skill of the page it is on: htmx
    gets the button swapped in place, a plain form post goes back to the skill page."""

    @require_POST
    def view(request: HttpRequest, slug: str) -> HttpResponse:
        skill = skill_get_by_slug(slug=slug)
        if skill is None:
            raise Http404("No such skill.")
        skill_url = reverse("catalog:skill_detail", args=[skill.slug])
        if not request.user.is_authenticated:
            # Back to the skill page after login: the action URL itself only takes POSTs.
            if request.htmx:
                return HttpResponseClientRedirect(redirect_to_login(skill_url).headers["Location"])
            return redirect_to_login(skill_url)
        member = _member(request)
        if follow:
            changed = bool(services.member_skills_follow(member=member, skills=[skill]))
        else:
            changed = services.member_skill_unfollow(member=member, skill=skill)
        if request.htmx:
            following = skill_followed_by_member(member=member, skill=skill)
            return render(
                request, "members/_follow_button.html", {"skill": skill, "following": following}
            )
        if changed:
            messages.success(
                request,
                f"You follow {skill.name}: your homepage gets a row for it."
                if follow
                else f"You no longer follow {skill.name}.",
            )
        return redirect(skill_url)

    view.__name__ = "skill_follow" if follow else "skill_unfollow"
    return view


skill_follow = _skill_follow_action(follow=True)
skill_unfollow = _skill_follow_action(follow=False)


# Course activity


def _course_activity_action(
    act: Callable[..., object],
) -> Callable[[HttpRequest, str], HttpResponse]:
    """A POST-only endpoint that applies `act` to the course and shows the result."""

    @require_POST
    def view(request: HttpRequest, slug: str) -> HttpResponse:
        course = course_get_by_slug(slug=slug, include_unpublished=request.user.is_staff)
        if course is None:
            raise Http404("No such course.")
        course_url = reverse("web:course_detail", args=[course.slug])
        if not request.user.is_authenticated:
            # Back to the course page after login: the action URL itself only takes POSTs.
            if request.htmx:
                return HttpResponseClientRedirect(redirect_to_login(course_url).headers["Location"])
            return redirect_to_login(course_url)
        member = _member(request)
        act(member=member, course=course)
        if request.htmx:
            activity = course_activity_for_member(member=member, course=course)
            return render(
                request, "members/_course_activity.html", {"activity": activity, "course": course}
            )
        return redirect(course_url)

    view.__name__ = getattr(act, "__name__", "course_activity_action")
    return view


enrol = _course_activity_action(services.enrolment_start)
watch = _course_activity_action(services.enrolment_watch)
finish = _course_activity_action(services.enrolment_finish)
bookmark = _course_activity_action(services.bookmark_toggle)


# My learning


@login_required
@require_GET
def my_learning(request: HttpRequest) -> HttpResponse:
    learning = member_learning(member=_member(request))
    return render(request, "members/my_learning.html", {"learning": learning})
