"""The API's serializers for what `web` answers: the member's data export (a description of the
document for the OpenAPI schema: the document itself is written by `web.selectors`) and the
account deletion's input."""

from rest_framework import serializers


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


class ExportProfileSerializer(serializers.Serializer):
    member_id = serializers.IntegerField()
    title = serializers.CharField(help_text="The job title as the member typed it.")
    occupation = _RefSerializer(allow_null=True, help_text="The occupation it was matched to.")
    industry = _RefSerializer(allow_null=True)
    seniority = serializers.CharField()
    onboarded_at = serializers.DateTimeField(allow_null=True)
    digest_opt_in = serializers.BooleanField(help_text="Gets the weekly recommendations email.")
    created_at = serializers.DateTimeField()
    external_id = serializers.CharField(allow_null=True, help_text="Id in an imported system.")


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
    digests = ExportDigestSerializer(many=True, help_text="Weekly emails, oldest first.")
    digest_courses = ExportDigestCourseSerializer(
        many=True, help_text="What each weekly email showed, and its links followed."
    )
    feedback_events = ExportEventSerializer(
        many=True, help_text="Every logged event, oldest first (impressions within retention)."
    )


class AccountDeleteSerializer(serializers.Serializer):
    password = serializers.CharField(
        max_length=4096, trim_whitespace=False, help_text="The account's current password."
    )
