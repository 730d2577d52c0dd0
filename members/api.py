"""The member's own data: profile, onboarding questionnaire, learning.

Every endpoint here is about the authenticated member only (`/me/...`), so no id in a URL can
point at another member's data.
"""

from django.contrib.auth import authenticate, update_session_auth_hash
from django.db.models import prefetch_related_objects
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.selectors import course_card_skills_prefetch
from core.api_errors import error_responses
from core.client_address import client_address
from members import services
from members.models import ApiToken, Industry, Member
from members.selectors import (
    job_titles_search,
    member_learning,
    member_profile,
    skills_suggested_for_title,
    skills_suggested_for_titles,
)
from members.serializers import (
    LearningSerializer,
    OnboardingAnswersSerializer,
    OnboardingInputSerializer,
    PasswordChangeInputSerializer,
    PasswordResetAnswerSerializer,
    PasswordResetInputSerializer,
    PeopleSettingsSerializer,
    ProfileSerializer,
    TitleMatchSerializer,
    TitleQuerySerializer,
    TokenInputSerializer,
    TokenSerializer,
)

SUGGESTION_LIMIT = 12


def request_member(request: Request) -> Member:
    """The authenticated user's member row (created for accounts made outside sign-up)."""
    return services.member_get_or_create_for_user(user=request.user)


class MeView(APIView):
    @extend_schema(
        operation_id="me_retrieve",
        tags=["me"],
        summary="The member's profile",
        responses={200: ProfileSerializer, **error_responses(401, 403)},
    )
    def get(self, request: Request) -> Response:
        profile = member_profile(member=request_member(request))
        return Response(ProfileSerializer(profile).data)

    @extend_schema(
        operation_id="me_partial_update",
        tags=["me"],
        summary="Set discoverability (People to learn with) and what other members see",
        description=(
            "Any of the fields; the others keep their values. Discoverable needs a display "
            "name, which may not be the username or contain `@` (a 400 on `display_name`; "
            "nothing is saved). Switching `discoverable` off removes the member from every "
            "stored suggestion at once; switching it on computes their own people."
        ),
        request=PeopleSettingsSerializer,
        responses={200: ProfileSerializer, **error_responses(400, 401, 403, 415)},
        examples=[
            OpenApiExample(
                "Become discoverable",
                value={"discoverable": True, "display_name": "Ana P."},
                request_only=True,
            )
        ],
    )
    def patch(self, request: Request) -> Response:
        serializer = PeopleSettingsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        member = request_member(request)
        current = {
            "discoverable": member.discoverable,
            "display_name": member.display_name,
            "shows_title": member.shows_title,
            "shows_skills": member.shows_skills,
            "shows_courses": member.shows_courses,
        }
        try:
            services.member_people_settings_set(
                member=member, **{**current, **serializer.validated_data}
            )
        except services.PeopleSettingsInvalid as refused:
            raise exceptions.ValidationError(
                {name: [message] for name, message in refused.errors.items()}
            ) from refused
        return Response(ProfileSerializer(member_profile(member=member)).data)


def _answers(member: Member) -> dict:
    profile = member_profile(member=member)
    member = profile.member
    followed_ids = sorted(row.skill_id for row in profile.followed_skills)
    suggested = skills_suggested_for_title(
        title=member.title, limit=SUGGESTION_LIMIT + len(followed_ids)
    )
    return {
        "title": member.title_text or (member.title.name if member.title_id else None),
        "occupation": member.title,
        "industry": member.industry_id,
        "seniority": member.seniority,
        "skills": followed_ids,
        "suggested_skills": [s for s in suggested if s.pk not in set(followed_ids)][
            :SUGGESTION_LIMIT
        ],
        "industries": list(Industry.objects.order_by("name")),
        "seniorities": [value for value, _ in Member.Seniority.choices],
    }


class OnboardingView(APIView):
    @extend_schema(
        operation_id="me_onboarding_retrieve",
        tags=["me"],
        summary="The questionnaire's current answers, with skill suggestions",
        responses={200: OnboardingAnswersSerializer, **error_responses(401, 403)},
    )
    def get(self, request: Request) -> Response:
        return Response(OnboardingAnswersSerializer(_answers(request_member(request))).data)

    @extend_schema(
        operation_id="me_onboarding_submit",
        tags=["me"],
        summary="Submit the questionnaire",
        description=(
            "Same rules as the site's questionnaire: `title` is any job title as the member says "
            "it (kept as typed, matched to an occupation when one is close enough), `skills` "
            "must hold at least one known skill id and becomes the followed set "
            "(skills already followed keep their follow date). The first submit completes "
            "onboarding."
        ),
        request=OnboardingInputSerializer,
        responses={200: OnboardingAnswersSerializer, **error_responses(400, 401, 403, 415)},
        examples=[
            OpenApiExample(
                "Answers",
                value={
                    "title": "Data Analyst",
                    "industry": None,
                    "seniority": "mid",
                    "skills": [12, 40],
                },
                request_only=True,
            )
        ],
    )
    def put(self, request: Request) -> Response:
        member = request_member(request)
        serializer = OnboardingInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.member_onboarding_submit(
            member=member,
            title_text=data["title"],
            industry=data["industry"],
            seniority=data["seniority"],
            skills=data["skills"],
        )
        return Response(OnboardingAnswersSerializer(_answers(member)).data)


class LearningView(APIView):
    @extend_schema(
        operation_id="me_learning_retrieve",
        tags=["me"],
        summary="Courses in progress, finished and bookmarked",
        responses={200: LearningSerializer, **error_responses(401, 403)},
    )
    def get(self, request: Request) -> Response:
        learning = member_learning(member=request_member(request))
        courses = [
            row.course
            for rows in (learning.in_progress, learning.finished, learning.bookmarked)
            for row in rows
        ]
        prefetch_related_objects(courses, course_card_skills_prefetch())
        return Response(LearningSerializer(learning).data)


class TokenView(APIView):
    """Obtain (POST, with username and password) or revoke (DELETE) an API token.

    Each POST issues a new token, which expires `API_TOKEN_TTL_HOURS` later; only its digest
    is stored. DELETE revokes the token the request presents (every token of the user when the
    request comes with the site's session). The profile page lists and revokes them too.
    """

    def get_authenticators(self) -> list:
        # Obtaining a token authenticates by the posted password alone; a session cookie the
        # client happens to hold must not turn the request into a CSRF-checked session one.
        # (The schema generator asks before it has set a request.)
        if getattr(self.request, "method", None) == "POST":
            return []
        return super().get_authenticators()

    def get_permissions(self) -> list:
        if self.request.method == "POST":
            return [AllowAny()]
        return super().get_permissions()

    @extend_schema(
        operation_id="auth_token_create",
        tags=["auth"],
        summary="Obtain an API token with username and password",
        request=TokenInputSerializer,
        responses={200: TokenSerializer, **error_responses(400, 415, 429)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = TokenInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if user is None:
            raise exceptions.ValidationError("Unable to log in with these credentials.")
        token, key = services.api_token_create(user=user, name=serializer.validated_data["name"])
        return Response(TokenSerializer({"token": key, "expires": token.expires_at}).data)

    @extend_schema(
        operation_id="auth_token_revoke",
        tags=["auth"],
        summary="Revoke the API token this request presents",
        responses={204: None, **error_responses(401, 403)},
    )
    def delete(self, request: Request) -> Response:
        if isinstance(request.auth, ApiToken):
            services.api_token_revoke(user=request.user, token_id=request.auth.pk)
        else:
            services.api_tokens_revoke_all(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordView(APIView):
    @extend_schema(
        operation_id="me_password_change",
        tags=["me"],
        summary="Change the password",
        description=(
            "With the current password. The new one must pass the site's password rules "
            "(at least 8 characters, not a common password, not all digits, not like the "
            "username or email). Every other API token of the account is revoked and other "
            "sessions end; the token (or session) that made the change keeps working."
        ),
        request=PasswordChangeInputSerializer,
        responses={204: None, **error_responses(400, 401, 403, 415)},
    )
    def post(self, request: Request) -> Response:
        serializer = PasswordChangeInputSerializer(
            data=request.data, context={"user": request.user}
        )
        serializer.is_valid(raise_exception=True)
        keep = request.auth.pk if isinstance(request.auth, ApiToken) else None
        services.user_password_set(
            user=request.user,
            password=serializer.validated_data["new_password"],
            keep_token_id=keep,
        )
        if keep is None:
            # A session made the change: it stays signed in, the others end.
            update_session_auth_hash(request._request, request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


PASSWORD_RESET_ANSWER = (
    "If an account uses this address, a link to choose a new password was sent to it."
)


class PasswordResetView(APIView):
    """Ask for a password reset link by email: the API's way to the site's reset page."""

    # Anyone may ask (they cannot log in: that is the point), and a session cookie the client
    # holds must not make it a CSRF-checked session request.
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="auth_password_reset",
        tags=["auth"],
        summary="Email a password reset link",
        description=(
            "Mails a link to the site's page for choosing a new password to every account "
            "using `email`. The answer is the same whether or not one does, so it tells "
            "nothing about accounts. Limited per address asked for and per client "
            "(`PASSWORD_RESET_RATE_PER_EMAIL`, `PASSWORD_RESET_RATE_PER_ADDRESS`): over "
            "either, `429` with `Retry-After`, whether or not an account uses the address."
        ),
        request=PasswordResetInputSerializer,
        responses={202: PasswordResetAnswerSerializer, **error_responses(400, 415, 429)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = PasswordResetInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email = serializer.validated_data["email"]
        wait = services.password_reset_rate_take(email=email, address=client_address(request))
        if wait is not None:
            raise exceptions.Throttled(wait=wait)
        services.password_reset_send(
            email=email, domain=request.get_host(), use_https=request.is_secure()
        )
        return Response({"detail": PASSWORD_RESET_ANSWER}, status=status.HTTP_202_ACCEPTED)


TITLE_SUGGESTION_LIMIT = 10


class JobTitleSearchView(APIView):
    @extend_schema(
        operation_id="titles_list",
        tags=["me"],
        summary="Occupations matching a typed job title, each with suggested skills",
        description=(
            "At most 20, one per occupation, best first: the exact match (a job title, O*NET "
            "title or alternate title, any case) and then the closest titles and alternate "
            "titles (fuzzy). Each carries up to 10 `suggested_skills`: the occupation's O*NET "
            "technology skills (hot technologies first) blended with its members' own skills as "
            "the cohort grows."
        ),
        parameters=[TitleQuerySerializer],
        responses={200: TitleMatchSerializer(many=True), **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        serializer = TitleQuerySerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        matches = job_titles_search(query=serializer.validated_data["q"])
        suggested = skills_suggested_for_titles(
            titles=[m.job_title for m in matches], limit=TITLE_SUGGESTION_LIMIT
        )
        rows = [
            {
                "job_title": m.job_title,
                "alternate_title": m.alternate_title,
                "score": m.score,
                "suggested_skills": suggested[m.job_title.pk],
            }
            for m in matches
        ]
        return Response(TitleMatchSerializer(rows, many=True).data)
