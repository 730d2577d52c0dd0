import uuid

from django.db import models
from django.db.models import Q

from catalog.models import Course
from members.models import Member


class Dismissal(models.Model):
    """'Not interested': the course stays out of this member's recommendations until undone."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="dismissals")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="dismissals")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["member_id", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["member", "course"], name="dismissal_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.member} dismissed {self.course}"


class FeedbackEvent(models.Model):
    """One logged interaction with a recommendation surface: shown, clicked, dismissed, undone."""

    class Kind(models.TextChoices):
        IMPRESSION = "impression", "Impression"
        CLICK = "click", "Click"
        DISMISS = "dismiss", "Dismiss"
        UNDO_DISMISS = "undo_dismiss", "Undo dismiss"

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="feedback_events")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="feedback_events")
    page_view_id = models.UUIDField(
        null=True, blank=True, help_text="The homepage render it came from."
    )
    reason = models.CharField(
        max_length=80, blank=True, help_text="Reason code, e.g. follow:python."
    )
    strategy = models.CharField(max_length=40, blank=True, help_text="Which model produced it.")
    carousel_position = models.PositiveSmallIntegerField(null=True, blank=True)
    position = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["impression", "click", "dismiss", "undo_dismiss"]),
                name="feedback_event_kind_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["member", "course", "kind"], name="feedback_member_course_kind"),
            models.Index(fields=["member", "kind", "created_at"], name="feedback_member_kind_time"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.course_id} by {self.member_id}"
