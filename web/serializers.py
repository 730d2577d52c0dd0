"""The API's serializers for what `web` answers: the member's data export (a description of the
document for the OpenAPI schema: the document itself is written by `web.selectors`), the
account deletion's input, and the member's goal (`/api/v1/me/goal/`)."""

from rest_framework import serializers

from catalog.serializers import CourseSummarySerializer
from members.forms import GOAL_UNMATCHED
from members.selectors import job_title_match


class _RefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ExportAccountSerializer(serializers.Serializer):
    username = serializers.CharField()
    email = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_joined = serializers.DateTimeField()
    last_login = serializers.DateTimeField(allow_null=True)


class ExportPeopleSettingsSerializer(serializers.Serializer):
    discoverable = serializers.BooleanField()
    display_name = serializers.CharField()
    shows_title = serializers.BooleanField()
    shows_skills = serializers.BooleanField()
    shows_courses = serializers.BooleanField()


class ExportProfileSerializer(serializers.Serializer):
    member_id = serializers.IntegerField()
    title = serializers.CharField(help_text="The job title as the member typed it.")
    occupation = _RefSerializer(allow_null=True, help_text="The occupation it was matched to.")
    industry = _RefSerializer(allow_null=True)
    seniority = serializers.CharField()
    goal = serializers.CharField(help_text="The role aimed for, as typed; empty: no goal.")
    goal_occupation = _RefSerializer(allow_null=True, help_text="The occupation it matched.")
    onboarded_at = serializers.DateTimeField(allow_null=True)
    digest_opt_in = serializers.BooleanField(help_text="Gets the weekly recommendations email.")
    created_at = serializers.DateTimeField()
    external_id = serializers.CharField(allow_null=True, help_text="Id in an imported system.")
    people = ExportPeopleSettingsSerializer()


class ExportCardSerializer(serializers.Serializer):
    course_id = serializers.IntegerField()
    title = serializers.CharField()
    score = serializers.FloatField()
    explanation = serializers.CharField(help_text="Why the card is shown, as the homepage says.")


class ExportCarouselSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Reason family: follow, watched, als, popular...")
    key = serializers.CharField()
    label = serializers.CharField()
    courses = ExportCardSerializer(many=True)


class ExportCandidateSerializer(serializers.Serializer):
    course_id = serializers.IntegerField()
    reason = serializers.CharField(help_text="als, watched or text.")
    anchor_course_id = serializers.IntegerField(
        allow_null=True, help_text="The course a 'Because you watched' pick follows from."
    )
    score = serializers.FloatField(help_text="The learned model's raw score.")


class ExportLearnedRowSerializer(serializers.Serializer):
    run_id = serializers.IntegerField(help_text="The training run that computed it.")
    computed_at = serializers.DateTimeField()
    candidates = ExportCandidateSerializer(many=True)


class ExportRecommendationsSerializer(serializers.Serializer):
    homepage = ExportCarouselSerializer(
        many=True, help_text="The homepage's carousels as the member would get them now."
    )
    learned_row = ExportLearnedRowSerializer(
        allow_null=True, help_text="The learned candidates stored for the member by a retrain."
    )


class ExportSkillSerializer(serializers.Serializer):
    skill_id = serializers.IntegerField()
    skill = serializers.CharField()


class ExportFollowedSkillSerializer(ExportSkillSerializer):
    followed_at = serializers.DateTimeField()


class ExportProfileSkillSerializer(ExportSkillSerializer):
    source = serializers.CharField(help_text="self, import or inferred.")
    weight = serializers.FloatField()
    created_at = serializers.DateTimeField()


class ExportCourseRowSerializer(serializers.Serializer):
    course_id = serializers.IntegerField()
    course = serializers.CharField(help_text="The course's title.")


class ExportEnrolmentSerializer(ExportCourseRowSerializer):
    enrolled_at = serializers.DateTimeField()
    progress_percent = serializers.IntegerField()
    watched_seconds = serializers.IntegerField()
    last_watched_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)


class ExportDatedCourseSerializer(ExportCourseRowSerializer):
    created_at = serializers.DateTimeField()


class ExportAssignmentSerializer(serializers.Serializer):
    experiment = serializers.CharField(help_text="The experiment's key.")
    variant = serializers.CharField(help_text="The variant's code.")
    strategy = serializers.CharField()
    assigned_at = serializers.DateTimeField()


class ExportTokenSerializer(serializers.Serializer):
    prefix = serializers.CharField(help_text="The key's first characters (the key is not kept).")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


class ExportReasonCountSerializer(serializers.Serializer):
    reason = serializers.CharField()
    impressions = serializers.IntegerField()
    clicks = serializers.IntegerField()


class ExportDayCountSerializer(serializers.Serializer):
    day = serializers.DateField()
    course_id = serializers.IntegerField()
    impressions = serializers.IntegerField()
    clicks = serializers.IntegerField()


class ExportShownCardSerializer(serializers.Serializer):
    course_id = serializers.IntegerField()
    reason = serializers.CharField()
    reason_key = serializers.CharField()
    strategy = serializers.CharField()
    carousel_position = serializers.IntegerField()
    position = serializers.IntegerField()


class ExportPageViewSerializer(serializers.Serializer):
    page_view_id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    channel = serializers.CharField(help_text="web, api or email.")
    variant_id = serializers.IntegerField(allow_null=True)
    cards = ExportShownCardSerializer(many=True, help_text="The cards it showed, in page order.")


class ExportEventSerializer(serializers.Serializer):
    event_id = serializers.UUIDField()
    kind = serializers.CharField(
        help_text="impression, click, dismiss, undo_dismiss, enrol, watch, finish, bookmark or "
        "unbookmark."
    )
    course_id = serializers.IntegerField()
    page_view_id = serializers.UUIDField(allow_null=True)
    reason = serializers.CharField()
    reason_key = serializers.CharField()
    strategy = serializers.CharField()
    carousel_position = serializers.IntegerField(allow_null=True)
    position = serializers.IntegerField(allow_null=True)
    value = serializers.FloatField(allow_null=True)
    variant_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()


class ExportFollowedPathSerializer(serializers.Serializer):
    path_id = serializers.IntegerField()
    path = serializers.CharField()
    followed_at = serializers.DateTimeField()


class ExportPersonSuggestionSerializer(serializers.Serializer):
    person_id = serializers.IntegerField()
    rank = serializers.IntegerField()
    family = serializers.IntegerField(help_text="0 learned (co-enrolment), 1 rule-based.")
    computed_at = serializers.DateTimeField()


class ExportPersonHiddenSerializer(serializers.Serializer):
    person_id = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class ExportPeoplePageViewSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    surface = serializers.CharField(help_text="page, home or api.")
    created_at = serializers.DateTimeField()


class ExportPersonClickSerializer(serializers.Serializer):
    page_view_id = serializers.UUIDField()
    person_id = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class ExportDigestSerializer(serializers.Serializer):
    digest_id = serializers.IntegerField()
    week = serializers.DateField(help_text="Monday of the ISO week.")
    state = serializers.CharField(
        help_text="sent; claimed (the send was not confirmed); empty (nothing new: not sent)."
    )
    strategy = serializers.CharField()
    variant_id = serializers.IntegerField(allow_null=True)
    claimed_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)


class ExportDigestCourseSerializer(serializers.Serializer):
    digest_id = serializers.IntegerField()
    position = serializers.IntegerField()
    carousel_position = serializers.IntegerField()
    course_id = serializers.IntegerField()
    course = serializers.CharField(help_text="The course's title.")
    reason = serializers.CharField()
    reason_key = serializers.CharField()
    clicked_at = serializers.DateTimeField(allow_null=True, help_text="Its link first followed.")


class MemberExportSerializer(serializers.Serializer):
    format = serializers.CharField(help_text="skillpath-member-export/1")
    exported_at = serializers.DateTimeField()
    account = ExportAccountSerializer()
    profile = ExportProfileSerializer()
    recommendations = ExportRecommendationsSerializer()
    followed_skills = ExportFollowedSkillSerializer(many=True)
    followed_paths = ExportFollowedPathSerializer(many=True)
    profile_skills = ExportProfileSkillSerializer(many=True)
    enrolments = ExportEnrolmentSerializer(many=True)
    bookmarks = ExportDatedCourseSerializer(many=True)
    dismissals = ExportDatedCourseSerializer(many=True)
    experiment_assignments = ExportAssignmentSerializer(many=True)
    api_tokens = ExportTokenSerializer(many=True)
    feedback_by_reason = ExportReasonCountSerializer(
        many=True, help_text="All-time impressions and clicks per reason family."
    )
    feedback_by_day = ExportDayCountSerializer(
        many=True,
        help_text="Impressions and clicks per course and day (kept after raw "
        "impressions are pruned).",
    )
    people_suggestions = ExportPersonSuggestionSerializer(
        many=True, help_text="People to learn with stored for the member, by rank."
    )
    people_hidden = ExportPersonHiddenSerializer(many=True)
    people_page_views = ExportPeoplePageViewSerializer(many=True)
    people_clicks = ExportPersonClickSerializer(many=True)
    page_views = ExportPageViewSerializer(
        many=True,
        help_text="Every page that showed the member recommendations, oldest first (within "
        "retention), with its cards.",
    )
    digests = ExportDigestSerializer(many=True, help_text="Weekly emails, oldest first.")
    digest_courses = ExportDigestCourseSerializer(
        many=True, help_text="What each weekly email showed, and its links followed."
    )
    feedback_events = ExportEventSerializer(
        many=True,
        help_text="Every logged event, oldest first (clicks, dismissals, activity; impressions "
        "reported by import or the events API, within retention).",
    )


class AccountDeleteSerializer(serializers.Serializer):
    password = serializers.CharField(
        max_length=4096, trim_whitespace=False, help_text="The account's current password."
    )


class GoalInputSerializer(serializers.Serializer):
    goal = serializers.CharField(
        max_length=150,
        help_text="The role aimed for, as the member says it. Matched to an occupation as a job "
        "title is (exact title, alternate title, then the closest); a goal that matches none is "
        "refused.",
    )

    def validate_goal(self, value: str) -> str:
        text = " ".join(value.split())
        if job_title_match(text=text) is None:
            raise serializers.ValidationError(GOAL_UNMATCHED % {"text": text})
        return text


class GoalSkillSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="skill_id")
    name = serializers.CharField()
    hot = serializers.BooleanField(help_text="O*NET marks it an in-demand technology.")
    importance = serializers.FloatField(help_text="How much the role needs it, for ordering.")
    covered = serializers.SerializerMethodField()
    held_by = serializers.ChoiceField(
        choices=["", "profile", "followed", "course"],
        help_text="How the member has it: on their profile, followed, or taught by a course "
        "they finished; empty while it is to learn.",
    )

    def get_covered(self, skill) -> bool:
        return bool(skill.held_by)


class GoalStepSerializer(serializers.Serializer):
    course = CourseSummarySerializer()
    covers = serializers.ListField(
        child=serializers.CharField(), help_text="The gap skills the course teaches."
    )
    progress = serializers.IntegerField(
        allow_null=True, help_text="Percent done when the member started it, else null."
    )


class GoalSerializer(serializers.Serializer):
    goal = serializers.CharField(help_text="The role as the member typed it; empty: no goal.")
    occupation = _RefSerializer(allow_null=True, help_text="The occupation it matched.")
    share_covered = serializers.FloatField(help_text="Share of the role's skills the member has.")
    skills = GoalSkillSerializer(many=True, help_text="The role's skills, in-demand first.")
    path = GoalStepSerializer(many=True, help_text="The courses planned to close the gap.")


def goal_data(overview) -> dict:
    """The body of `GET /api/v1/me/goal/` from `recommendations.serving.goal.goal_for_member`."""
    gap = overview.gap
    occupation = overview.occupation
    return GoalSerializer(
        {
            "goal": overview.goal_text,
            "occupation": {"id": occupation.pk, "name": occupation.name} if occupation else None,
            "share_covered": round(gap.share_covered, 4) if gap is not None else 0.0,
            "skills": gap.skills if gap is not None else [],
            "path": overview.steps,
        }
    ).data
