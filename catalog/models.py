from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower


class Category(models.Model):
    """A broad area of the taxonomy (O*NET commodity titles, e.g. "Spreadsheet software")."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(Lower("name"), name="category_name_ci_unique"),
            models.CheckConstraint(condition=~Q(name=""), name="category_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class Skill(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="skills")
    description = models.TextField(blank=True)
    related = models.ManyToManyField("self", blank=True, symmetrical=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="skill_name_ci_unique"),
            models.CheckConstraint(condition=~Q(name=""), name="skill_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class SkillSynonym(models.Model):
    """Another name for a skill ("Excel" for "Microsoft Excel"); used by search and the tagger."""

    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="synonyms")
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="skill_synonym_name_ci_unique"),
            models.CheckConstraint(condition=~Q(name=""), name="skill_synonym_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class Course(models.Model):
    class Level(models.TextChoices):
        BEGINNER = "beginner", "Beginner"
        INTERMEDIATE = "intermediate", "Intermediate"
        ADVANCED = "advanced", "Advanced"

    external_id = models.CharField(
        max_length=64, null=True, blank=True, unique=True, help_text="Id in an imported catalog."
    )
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField()
    level = models.CharField(max_length=20, choices=Level.choices, default=Level.BEGINNER)
    duration_minutes = models.PositiveIntegerField()
    teacher = models.CharField(max_length=120)
    published_at = models.DateTimeField(db_index=True)
    categories = models.ManyToManyField(Category, blank=True, related_name="courses")
    skills = models.ManyToManyField(Skill, through="CourseSkill", related_name="courses")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-published_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__in=["beginner", "intermediate", "advanced"]),
                name="course_level_valid",
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=1) & Q(duration_minutes__lte=100_000),
                name="course_duration_positive",
            ),
            models.CheckConstraint(condition=~Q(title=""), name="course_title_not_empty"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def level_label(self) -> str:
        """`get_level_display()`, which rebuilds the field's choices map on every call: a
        homepage shows close to a hundred cards."""
        return _LEVEL_LABELS.get(self.level, self.level)


_LEVEL_LABELS = dict(Course.Level.choices)


class LearningPath(models.Model):
    """A path curated by the platform's editors: a title and an ordered list of courses
    (`LearningPathStep`), which members can follow (`members.FollowedPath`)."""

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField(blank=True)
    is_published = models.BooleanField(
        default=True, help_text="Only published paths are listed and can be followed."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(title=""), name="learning_path_title_not_empty"),
        ]

    def __str__(self) -> str:
        return self.title


class LearningPathStep(models.Model):
    """One course of a curated path, at its place in the path's order (1 first)."""

    path = models.ForeignKey(LearningPath, on_delete=models.CASCADE, related_name="steps")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="path_steps")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["path_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["path", "course"], name="learning_path_course_unique"),
            models.UniqueConstraint(
                fields=["path", "position"], name="learning_path_position_unique"
            ),
            models.CheckConstraint(
                condition=Q(position__gte=1), name="learning_path_position_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.path} #{self.position}: {self.course}"


class CourseSkill(models.Model):
    """A course-to-skill tag, with where it came from and what a curator decided about it."""

    class Source(models.TextChoices):
        TAXONOMIST = "taxonomist", "Taxonomist"
        TAGGER = "tagger", "Tagger (text matching)"
        MODEL = "model", "Model (learned)"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="skill_tags")
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="course_tags")
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.TAXONOMIST)
    confidence = models.FloatField(default=1.0)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.APPROVED)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["course_id", "-confidence"]
        constraints = [
            models.UniqueConstraint(fields=["course", "skill"], name="course_skill_unique"),
            models.CheckConstraint(
                condition=Q(confidence__gte=0.0) & Q(confidence__lte=1.0),
                name="course_skill_confidence_range",
            ),
            models.CheckConstraint(
                condition=Q(source__in=["taxonomist", "tagger", "model"]),
                name="course_skill_source_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "approved", "rejected"]),
                name="course_skill_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["skill", "status"], name="course_skill_skill_status")]

    def __str__(self) -> str:
        return f"{self.course} → {self.skill} ({self.source}, {self.status})"


class TagSuggestionManager(models.Manager["TagSuggestion"]):
    def get_queryset(self) -> models.QuerySet["TagSuggestion"]:
        return (
            super()
            .get_queryset()
            .filter(
                status=CourseSkill.Status.PENDING,
                source__in=[CourseSkill.Source.TAGGER, CourseSkill.Source.MODEL],
            )
        )


class TagSuggestion(CourseSkill):
    """The review queue: the tagger's and the model's pending course-skill tags."""

    objects = TagSuggestionManager()

    class Meta:
        proxy = True
        ordering = ["-confidence", "course_id", "skill_id"]
        verbose_name = "tag suggestion"
        verbose_name_plural = "tag suggestions (review queue)"


class TaggerEvaluation(models.Model):
    """One cross-validated measurement of the automatic tagger against the curated tags."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    params = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Tagger evaluation {self.pk} ({self.created_at:%Y-%m-%d %H:%M})"


class TaxonomyOverview(TaggerEvaluation):
    """Admin entry for the taxonomy overview page (coverage and tagger quality over time).

    A proxy only so the page gets a link on the admin index like any model; it has no rows of
    its own.
    """

    class Meta:
        proxy = True
        verbose_name = "taxonomy overview"
        verbose_name_plural = "taxonomy overview"


class CatalogRevision(models.Model):
    """A number that changes whenever a course, a course's skill tag or a skill is written.

    Database triggers keep it (migration 0003), so every write path moves it: the admin, imports
    and COPY alike. It is a transaction id (PostgreSQL) or a random 64-bit number (SQLite),
    never reused, so a value cached from a rolled-back write cannot come back. Readers that keep
    catalog data between requests (see `catalog/card_cache.py`) compare it on each use.
    """

    revision = models.BigIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="catalog_revision_single_row"),
        ]

    def __str__(self) -> str:
        return f"Catalog revision {self.revision}"
