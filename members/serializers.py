"""Input and output serializers of the members API (members/api.py)."""

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from catalog.models import Skill
from catalog.serializers import CourseSummarySerializer, SkillRefSerializer
from members import services
from members.models import Bookmark, Enrolment, FollowedSkill, Industry, Member
from members.selectors import skills_by_ids

# Beyond this a questionnaire is not a list of interests but the taxonomy.
MAX_FOLLOWED_SKILLS = 100
MAX_ID = 2**63 - 1


# Output -----------------------------------------------------------------------------------------


class NamedRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class OccupationRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="The occupation's job title.")
    onet_code = serializers.CharField(help_text="O*NET-SOC code; empty for a title made here.")


class TitleMatchSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="job_title.pk", help_text="The occupation's id.")
    name = serializers.CharField(source="job_title.name", help_text="The occupation's job title.")
    onet_code = serializers.CharField(
        source="job_title.onet_code", help_text="O*NET-SOC code; empty for a title made here."
    )
    alternate_title = serializers.CharField(
        allow_null=True, help_text="The alternate title that matched, null for the title itself."
    )
    score = serializers.FloatField(help_text="100 for an exact match, else the fuzzy score.")
    suggested_skills = SkillRefSerializer(
        many=True, help_text="Up to 10 skills for the title: O*NET's, blended with the cohort's."
    )


class FollowedSkillSerializer(serializers.ModelSerializer):
    skill = SkillRefSerializer()

    class Meta:
        model = FollowedSkill
        fields = ["skill", "followed_at"]


class ProfileSkillSerializer(serializers.Serializer):
    skill = SkillRefSerializer()
    weight = serializers.FloatField(help_text="How strongly the member holds it, in (0, 1].")
    source = serializers.CharField(help_text="self, import or inferred.")


class PeopleSettingsSerializer(serializers.Serializer):
    """`PATCH /api/v1/me/`: any of these; the others keep their values."""

    discoverable = serializers.BooleanField(
        required=False,
        help_text=(
            "Off by default. Only discoverable members are suggested to others and get "
            "suggestions; switching off removes the member from every suggestion at once."
        ),
    )
    display_name = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=60,
        help_text="What others see; needed to be discoverable. Never the username or an email.",
    )
    shows_title = serializers.BooleanField(required=False, help_text="Job title and industry.")
    shows_skills = serializers.BooleanField(required=False, help_text="Followed skills.")
    shows_courses = serializers.BooleanField(required=False, help_text="Courses in progress.")


class ProfileSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="member.pk")
    username = serializers.CharField(source="member.user.username")
    email = serializers.EmailField(source="member.user.email")
    title = NamedRefSerializer(
        source="member.title",
        allow_null=True,
        help_text="The occupation the typed title matched (the member's cohort).",
    )
    title_text = serializers.CharField(
        source="member.title_text", help_text="The job title as the member typed it."
    )
    industry = NamedRefSerializer(source="member.industry", allow_null=True)
    seniority = serializers.CharField(source="member.seniority", help_text="Empty when not said.")
    onboarded_at = serializers.DateTimeField(source="member.onboarded_at", allow_null=True)
    needs_onboarding = serializers.SerializerMethodField()
    followed_skills = FollowedSkillSerializer(many=True)
    profile_skills = ProfileSkillSerializer(many=True)
    people = PeopleSettingsSerializer(
        source="member",
        read_only=True,
        help_text="People to learn with: discoverability and what other members see.",
    )

    def get_needs_onboarding(self, profile) -> bool:
        return profile.member.onboarded_at is None


class OnboardingAnswersSerializer(serializers.Serializer):
    """What the member answered last (empty before the first submit), and suggestions."""

    title = serializers.CharField(
        allow_null=True, help_text="The job title as the member typed it."
    )
    occupation = OccupationRefSerializer(
        allow_null=True, help_text="The occupation the title matched (the member's cohort)."
    )
    industry = serializers.IntegerField(allow_null=True, help_text="An industry's id.")
    seniority = serializers.CharField()
    skills = serializers.ListField(
        child=serializers.IntegerField(), help_text="Followed skill ids."
    )
    suggested_skills = SkillRefSerializer(
        many=True, help_text="Skills common among members with the title, for the next answer."
    )
    industries = NamedRefSerializer(many=True, help_text="Every industry the answer may name.")
    seniorities = serializers.ListField(child=serializers.CharField())


class EnrolmentSerializer(serializers.ModelSerializer):
    course = CourseSummarySerializer()

    class Meta:
        model = Enrolment
        fields = [
            "course",
            "enrolled_at",
            "progress_percent",
            "watched_seconds",
            "last_watched_at",
            "completed_at",
        ]


class BookmarkSerializer(serializers.ModelSerializer):
    course = CourseSummarySerializer()

    class Meta:
        model = Bookmark
        fields = ["course", "created_at"]


class LearningSerializer(serializers.Serializer):
    in_progress = EnrolmentSerializer(many=True, help_text="Most recently watched first.")
    finished = EnrolmentSerializer(many=True, help_text="Most recently finished first.")
    bookmarked = BookmarkSerializer(many=True, help_text="Most recently saved first.")


# Input ------------------------------------------------------------------------------------------


class OnboardingInputSerializer(serializers.Serializer):
    """The questionnaire, with the site's rules: a known title (by name, any case), an optional
    industry and seniority, and at least one known skill."""

    title = serializers.CharField(
        max_length=150,
        help_text="The job title as the member says it. Matched to an occupation (exact title, "
        "alternate title, then the closest); a title that matches none is kept without one.",
    )
    industry = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        allow_null=True,
        required=False,
        default=None,
        help_text="An industry's id, or null for no answer.",
    )
    seniority = serializers.ChoiceField(
        choices=[("", "Prefer not to say"), *Member.Seniority.choices],
        required=False,
        default="",
        allow_blank=True,
    )
    skills = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        min_length=1,
        max_length=MAX_FOLLOWED_SKILLS,
        error_messages={"min_length": "Follow at least one skill."},
        help_text="Ids of the skills to follow; replaces the followed set.",
    )

    def validate_title(self, value: str) -> str:
        # Any title is accepted as typed (spaces collapsed); the service matches it.
        return " ".join(value.split())

    def validate_industry(self, value: int | None) -> Industry | None:
        if value is None:
            return None
        industry = Industry.objects.filter(pk=value).first()
        if industry is None:
            raise serializers.ValidationError(f"No industry has the id {value}.")
        return industry

    def validate_skills(self, value: list[int]) -> list[Skill]:
        wanted = set(value)
        found = {skill.pk: skill for skill in skills_by_ids(ids=wanted)}
        unknown = sorted(wanted - set(found))
        if unknown:
            raise serializers.ValidationError(
                f"Not skills we know: {', '.join(str(pk) for pk in unknown)}."
            )
        return [found[pk] for pk in sorted(wanted)]


# Tokens -----------------------------------------------------------------------------------------


class TokenInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    name = serializers.CharField(
        max_length=60,
        required=False,
        default="",
        allow_blank=True,
        help_text="What the token is for, shown on the profile page's list of tokens.",
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text="Send as `Authorization: Token <token>`. Shown once: only its digest is kept."
    )
    expires = serializers.DateTimeField(help_text="When the token stops being accepted.")


class TitleQuerySerializer(serializers.Serializer):
    q = serializers.CharField(max_length=150, help_text="A job title as typed, or part of one.")


# Passwords --------------------------------------------------------------------------------------


class PasswordChangeInputSerializer(serializers.Serializer):
    """The current password and a new one, which must pass the site's password validators
    (length, not common, not all digits, not like the username or email). Needs the user in
    the context."""

    current_password = serializers.CharField(max_length=4096, trim_whitespace=False)
    new_password = serializers.CharField(max_length=4096, trim_whitespace=False)

    def validate_current_password(self, value: str) -> str:
        refused = services.current_password_check(user=self.context["user"], password=value)
        if refused is not None:
            raise serializers.ValidationError(refused)
        return value

    def validate_new_password(self, value: str) -> str:
        try:
            password_validation.validate_password(value, user=self.context["user"])
        except DjangoValidationError as error:
            raise serializers.ValidationError(list(error.messages)) from error
        return value


class PasswordResetInputSerializer(serializers.Serializer):
    email = serializers.EmailField(
        max_length=254, help_text="The address the account uses (any case)."
    )


class PasswordResetAnswerSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="The same for every address, known or not.")
