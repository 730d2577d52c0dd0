from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from catalog.models import Course, Skill


class JobTitle(models.Model):
    """A job title a learner can pick (from O*NET occupations and their common alternate titles)."""

    name = models.CharField(max_length=150)
    onet_code = models.CharField(max_length=10, blank=True, help_text="O*NET-SOC occupation code.")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="job_title_name_ci_unique"),
            models.CheckConstraint(condition=~Q(name=""), name="job_title_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class Industry(models.Model):
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "industries"
        constraints = [
            models.UniqueConstraint(Lower("name"), name="industry_name_ci_unique"),
            models.CheckConstraint(condition=~Q(name=""), name="industry_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class Member(models.Model):
    class Seniority(models.TextChoices):
        ENTRY = "entry", "Entry level"
        MID = "mid", "Mid level"
        SENIOR = "senior", "Senior"
        LEAD = "lead", "Lead / manager"
        EXECUTIVE = "executive", "Executive"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="member"
    )
    external_id = models.CharField(
        max_length=64, null=True, blank=True, unique=True, help_text="Id in an imported system."
    )
    title = models.ForeignKey(
        JobTitle, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    industry = models.ForeignKey(
        Industry, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    seniority = models.CharField(max_length=20, choices=Seniority.choices, blank=True)
    onboarded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(seniority__in=["", "entry", "mid", "senior", "lead", "executive"]),
                name="member_seniority_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.user.get_username()


class MemberSkill(models.Model):
    """A skill on the learner's profile, with where we learned it and how strongly it holds."""

    class Source(models.TextChoices):
        SELF = "self", "Added by the member"
        IMPORT = "import", "Imported"
        INFERRED = "inferred", "Inferred from activity"

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="profile_skills")
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="member_profiles")
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.SELF)
    weight = models.FloatField(default=1.0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["member_id", "-weight"]
        constraints = [
            models.UniqueConstraint(fields=["member", "skill"], name="member_skill_unique"),
            models.CheckConstraint(
                condition=Q(weight__gt=0.0) & Q(weight__lte=1.0), name="member_skill_weight_range"
            ),
            models.CheckConstraint(
                condition=Q(source__in=["self", "import", "inferred"]),
                name="member_skill_source_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} has {self.skill}"


class FollowedSkill(models.Model):
    """A skill the learner chose to follow (onboarding questionnaire or later)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="followed_skills")
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="followers")
    followed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["member_id", "-followed_at"]
        constraints = [
            models.UniqueConstraint(fields=["member", "skill"], name="followed_skill_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.member} follows {self.skill}"


class Enrolment(models.Model):
    """A learner's progress through one course."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="enrolments")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrolments")
    enrolled_at = models.DateTimeField()
    progress_percent = models.PositiveSmallIntegerField(default=0)
    watched_seconds = models.PositiveIntegerField(default=0)
    last_watched_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["member_id", "-enrolled_at"]
        constraints = [
            models.UniqueConstraint(fields=["member", "course"], name="enrolment_unique"),
            models.CheckConstraint(
                condition=Q(progress_percent__gte=0) & Q(progress_percent__lte=100),
                name="enrolment_progress_range",
            ),
            # A finished course is at 100 %, and only a finished course is.
            models.CheckConstraint(
                condition=(Q(completed_at__isnull=True) & Q(progress_percent__lt=100))
                | (Q(completed_at__isnull=False) & Q(progress_percent=100)),
                name="enrolment_completed_iff_full",
            ),
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True) | Q(completed_at__gte=F("enrolled_at")),
                name="enrolment_completed_after_enrolled",
            ),
        ]
        indexes = [models.Index(fields=["course", "enrolled_at"], name="enrolment_course_time")]

    def __str__(self) -> str:
        return f"{self.member} in {self.course} ({self.progress_percent}%)"

    @property
    def is_completed(self) -> bool:
        return self.completed_at is not None


class Bookmark(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="bookmarks")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="bookmarks")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["member_id", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["member", "course"], name="bookmark_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.member} saved {self.course}"


class ApiToken(models.Model):
    """An API token, stored as the SHA-256 digest of its key: the key itself is shown once,
    when it is created, and never stored. `prefix` (the key's first characters) tells a
    member's tokens apart on the profile page."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    prefix = models.CharField(max_length=8)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "expires_at"])]

    def __str__(self) -> str:
        return f"API token {self.prefix}… of user {self.user_id}"
