from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from catalog.models import Course, LearningPath, Skill


class JobTitle(models.Model):
    """An occupation, named by one job title: the cohort of the members whose typed title
    matches it (O*NET occupations, loaded by `load_taxonomy`, or added in the admin)."""

    name = models.CharField(max_length=150)
    onet_code = models.CharField(max_length=10, blank=True, help_text="O*NET-SOC occupation code.")
    onet_title = models.CharField(
        max_length=150, blank=True, help_text="O*NET's standard title of the occupation."
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="job_title_name_ci_unique"),
            models.CheckConstraint(condition=~Q(name=""), name="job_title_name_not_empty"),
            # `load_taxonomy` updates an occupation by its code, so a code names one row.
            models.UniqueConstraint(
                fields=["onet_code"], condition=~Q(onet_code=""), name="job_title_onet_code_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AlternateTitle(models.Model):
    """Another title people use for an occupation ("Reporting Analyst"); O*NET lists tens of
    thousands, and one title may belong to several occupations."""

    job_title = models.ForeignKey(
        JobTitle, on_delete=models.CASCADE, related_name="alternate_titles"
    )
    name = models.CharField(max_length=150)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"), "job_title", name="alternate_title_name_ci_unique"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="alternate_title_name_not_empty"),
        ]
        # Exact matching of a typed title compares lower-cased names.
        indexes = [models.Index(Lower("name"), name="alternate_title_name_lower")]

    def __str__(self) -> str:
        return self.name


class OccupationSkill(models.Model):
    """A skill an occupation's workers use (O*NET technology skills): what a member with that
    title is suggested before the cohort has skills of its own."""

    job_title = models.ForeignKey(
        JobTitle, on_delete=models.CASCADE, related_name="occupation_skills"
    )
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="occupations")
    hot = models.BooleanField(default=False, help_text="O*NET's Hot Technology flag.")
    weight = models.FloatField(
        default=1.0, help_text="How well the skill marks the occupation, in (0, 1]."
    )

    class Meta:
        ordering = ["job_title_id", "-weight"]
        constraints = [
            models.UniqueConstraint(fields=["job_title", "skill"], name="occupation_skill_unique"),
            models.CheckConstraint(
                condition=Q(weight__gt=0.0) & Q(weight__lte=1.0),
                name="occupation_skill_weight_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.job_title} uses {self.skill}"


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
    # The title as the member typed it, kept and shown as is; `title` is the occupation it was
    # matched to (the member's cohort), None when it matched none.
    title_text = models.CharField(max_length=150, blank=True)
    title = models.ForeignKey(
        JobTitle, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    industry = models.ForeignKey(
        Industry, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    seniority = models.CharField(max_length=20, choices=Seniority.choices, blank=True)
    # The role the member aims for (their career goal), as typed, and the occupation it matched:
    # both empty, or both set (a goal that matches no occupation is refused, see
    # `services.member_goal_set`). Read with the member row, so the homepage's "Toward" carousel
    # costs no query of its own.
    goal_text = models.CharField(max_length=150, blank=True)
    goal = models.ForeignKey(
        JobTitle, null=True, blank=True, on_delete=models.SET_NULL, related_name="aspirants"
    )
    onboarded_at = models.DateTimeField(null=True, blank=True)
    # The weekly recommendations email (recommendations/digest/): off until the member ticks it
    # (questionnaire, profile); imported members start without it. A database default too, so
    # writers that name their columns (the demo's COPY) need not know the field.
    digest_opt_in = models.BooleanField(
        "Weekly recommendations email",
        default=False,
        db_default=False,
        help_text="The member asked for the weekly email of recommendations.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # "People to learn with": off by default. Only a discoverable member is ever suggested to
    # anyone, and only they get suggestions (to see people, be seen). Others see the display
    # name and what the `shows_*` flags allow, never the username or email.
    discoverable = models.BooleanField(default=False)
    display_name = models.CharField(max_length=60, blank=True)
    shows_title = models.BooleanField(default=True)
    shows_skills = models.BooleanField(default=True)
    shows_courses = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(seniority__in=["", "entry", "mid", "senior", "lead", "executive"]),
                name="member_seniority_valid",
            ),
            models.CheckConstraint(
                condition=Q(discoverable=False) | ~Q(display_name=""),
                name="member_discoverable_has_display_name",
            ),
        ]
        indexes = [
            # The few discoverable members, the only people candidates (a partial index).
            models.Index(fields=["id"], condition=Q(discoverable=True), name="member_discoverable"),
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


class FollowedPath(models.Model):
    """A curated learning path (`catalog.LearningPath`) the learner follows."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="followed_paths")
    path = models.ForeignKey(LearningPath, on_delete=models.CASCADE, related_name="followers")
    followed_at = models.DateTimeField()

    class Meta:
        ordering = ["member_id", "-followed_at"]
        constraints = [
            models.UniqueConstraint(fields=["member", "path"], name="followed_path_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.member} follows {self.path}"


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
    member's tokens apart on the profile page, with `name`, what the member called it ("phone",
    "reports script"; empty for tokens obtained through the API without one)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=60, blank=True, default="")
    prefix = models.CharField(max_length=8)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "expires_at"])]

    def __str__(self) -> str:
        return f"API token {self.prefix}… of user {self.user_id}"
