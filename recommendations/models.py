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
        ENROL = "enrol", "Enrol"
        WATCH = "watch", "Watch progress"
        FINISH = "finish", "Finish"
        BOOKMARK = "bookmark", "Bookmark"
        UNBOOKMARK = "unbookmark", "Remove bookmark"

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Every page view inserts about a hundred rows, each updating every index: the member is
    # served by the composite indexes that start with it, not an index of its own.
    # No foreign-key constraints in the database on this table or the two count tables
    # (`db_constraint=False`): PostgreSQL checks each row's keys at commit, taking a share lock
    # on the member and on every course shown, which cost more than storing the rows (4 of
    # 11 ms per page view on the benchmark data) and made concurrent page views showing the
    # same courses share those locks. Deleting a member, course or variant still deletes (or
    # unsets) its rows, through the ORM's on_delete as before; the impression writer only
    # inserts rows for courses and a member that exist (see `impressions_log`).
    member = models.ForeignKey(
        Member,
        on_delete=models.CASCADE,
        related_name="feedback_events",
        db_index=False,
        db_constraint=False,
    )
    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="feedback_events", db_constraint=False
    )
    page_view_id = models.UUIDField(
        null=True, blank=True, help_text="The homepage render it came from."
    )
    reason = models.CharField(
        max_length=20, blank=True, help_text="Reason family, e.g. follow, watched, popular."
    )
    reason_key = models.CharField(
        max_length=80, blank=True, help_text="The carousel it was shown in, e.g. follow:42."
    )
    strategy = models.CharField(max_length=40, blank=True, help_text="Which model produced it.")
    carousel_position = models.PositiveSmallIntegerField(null=True, blank=True)
    position = models.PositiveSmallIntegerField(null=True, blank=True)
    value = models.FloatField(
        null=True, blank=True, help_text="Event payload, e.g. watch progress in percent."
    )
    variant = models.ForeignKey(
        "ExperimentVariant",
        null=True,
        blank=True,
        # Results outlive a deleted variant only as unattributed events; deleting an
        # experiment must not delete what members did.
        on_delete=models.SET_NULL,
        related_name="events",
        help_text="The experiment variant that served the page it came from.",
        # Indexed only where set (see Meta): most events come from outside experiments.
        db_index=False,
        db_constraint=False,
    )
    # The channel of the page view it cites (`PageView.Channel`: web, api, email), copied with
    # the card's reason when the event is stored, so click-through per channel reads this
    # table alone and outlives the pruned page views. Empty for events that cite no page view
    # (activity, reported impressions, the interactions import: the database default).
    channel = models.CharField(max_length=8, blank=True, default="", db_default="")
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=["", "web", "api", "email"]),
                name="feedback_event_channel_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "impression",
                        "click",
                        "dismiss",
                        "undo_dismiss",
                        "enrol",
                        "watch",
                        "finish",
                        "bookmark",
                        "unbookmark",
                    ]
                ),
                name="feedback_event_kind_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["member", "course", "kind"], name="feedback_member_course_kind"),
            models.Index(fields=["member", "kind", "created_at"], name="feedback_member_kind_time"),
            models.Index(fields=["page_view_id", "course"], name="feedback_page_view_course"),
            models.Index(
                fields=["variant"], condition=Q(variant__isnull=False), name="feedback_variant"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.course_id} by {self.member_id}"


class PageView(models.Model):
    """One page that showed recommendations to a member, with every card it showed, in one
    row: the served impressions (see recommendations/feedback/page_views.py for the packing).

    `id` is the `page_view_id` the page hands to its client (the homepage's card links and
    forms, the recommendations API's answer); clicks, dismissals and other events cite it, and
    the slot of the card they act on (`FeedbackEvent.carousel_position` and `position`).
    Impressions the server did not serve itself (the interactions import, the events API's
    `impression` events) stay `FeedbackEvent`s of kind `impression`: one row per report.
    """

    class Channel(models.TextChoices):
        WEB = "web", "Site page"
        API = "api", "API answer"
        EMAIL = "email", "Email"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No foreign-key constraints in the database, as for FeedbackEvent (the row is written after
    # the response; the ORM's on_delete still removes a deleted member's page views). The member
    # is served by the index that starts with it.
    member = models.ForeignKey(
        Member,
        on_delete=models.CASCADE,
        related_name="page_views",
        db_index=False,
        db_constraint=False,
    )
    created_at = models.DateTimeField()
    channel = models.CharField(max_length=8, choices=Channel.choices)
    variant = models.ForeignKey(
        "ExperimentVariant",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="page_views",
        help_text="The experiment variant that served the page (not its Continue learning row).",
        db_index=False,
        db_constraint=False,
    )
    # The cards in page order (slot 0, 1, ...): course ids as big-endian int32, and per slot
    # (label, carousel position, position) as big-endian int16, where label indexes `labels`,
    # the page's distinct [reason, reason key, strategy] triples. Big-endian so that SQL can
    # write them (int4send, int2send: the migration that made page views of the old rows).
    courses = models.BinaryField()
    slots = models.BinaryField()
    labels = models.JSONField(default=list)
    recommended = models.PositiveSmallIntegerField(
        default=0, help_text="Cards that are recommendations (not the Continue learning row)."
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=["web", "api", "email"]), name="page_view_channel_valid"
            ),
        ]
        indexes = [
            # "What did this member see recently": on PostgreSQL an index-only scan (the
            # course ids are in the index; `page_views_courses_since`).
            models.Index(
                fields=["member", "created_at"],
                include=["courses"],
                name="page_view_member_time",
            ),
            models.Index(fields=["created_at"], name="page_view_time"),
            models.Index(
                fields=["variant"], condition=Q(variant__isnull=False), name="page_view_variant"
            ),
        ]

    def __str__(self) -> str:
        return f"Page view {self.pk} of member {self.member_id}"


class CourseFeedbackDay(models.Model):
    """Impressions and clicks of one course for one member on one day: what impression
    discounting reads, so a page view sums a window of these instead of counting raw events
    (thousands per active member)."""

    # The unique and (member, day) indexes lead with member: no index of its own. No
    # constraints in the database, as for FeedbackEvent, whose rows these counts sum.
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    day = models.DateField()
    impressions = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["member", "course", "day"], name="course_feedback_day_unique"
            ),
        ]
        indexes = [models.Index(fields=["member", "day"], name="course_feedback_member_day")]

    def __str__(self) -> str:
        return f"{self.member_id} x {self.course_id} on {self.day}"


class ReasonFeedback(models.Model):
    """All-time impressions and clicks per reason family for one member: the click-through that
    orders the member's carousels."""

    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    reason = models.CharField(max_length=20, blank=True)
    impressions = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "reason"], name="reason_feedback_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} x {self.reason or '(none)'}"


class TrainingRun(models.Model):
    """One build of the recommendation models; exactly one succeeded run serves at a time."""

    class Kind(models.TextChoices):
        RULES = "rules", "Rule-based (skills, popularity, recency)"
        LEARNED = (
            "learned",
            "Rules + a learned model (ALS, item-item kNN or EASE) + text similarity",
        )

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.RULES)
    trigger = models.CharField(max_length=40, blank=True, help_text="Who or what started it.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    is_active = models.BooleanField(default=False)
    params = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    artifact = models.BinaryField(
        null=True, blank=True, editable=False, help_text="The rules snapshot web processes load."
    )
    model_artifact = models.BinaryField(
        null=True, blank=True, editable=False, help_text="Learned models workers load (ALS)."
    )
    ranker_artifact = models.BinaryField(
        null=True,
        blank=True,
        editable=False,
        help_text="The learned ranker's coefficients (global, per-member, per-course).",
    )
    precompute_shards = models.PositiveIntegerField(default=0)
    precompute_shards_done = models.PositiveIntegerField(default=0)
    precompute_started_at = models.DateTimeField(
        null=True, blank=True, help_text="When its member ranges were last queued."
    )
    precomputed_at = models.DateTimeField(null=True, blank=True)
    # Set when a member whose rows this run learned from deleted their account while the run
    # served (or trained): the artifacts are cleared as soon as another run takes over (see
    # recommendations/training/retention.py).
    holds_deleted_members = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="one_active_training_run"
            ),
            # Two retrains never run at once: a second one cannot even create its row.
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="running"), name="one_running_training_run"
            ),
            models.CheckConstraint(
                condition=Q(is_active=False) | Q(status="succeeded"),
                name="active_training_run_succeeded",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["running", "succeeded", "failed"]),
                name="training_run_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Run {self.pk} ({self.kind}, {self.status})"


class MemberRecommendations(models.Model):
    """One compact row per member: the learned candidates precomputed by the active run.

    `payload` packs, for every candidate course, its id, reason family, anchor course and raw
    score (see recommendations/training/precompute.py). A row is replaced in one statement, so
    readers see the old list or the new one, never a mix.
    """

    member = models.OneToOneField(
        Member, primary_key=True, on_delete=models.CASCADE, related_name="recommendations"
    )
    run = models.ForeignKey(TrainingRun, on_delete=models.CASCADE, related_name="member_rows")
    computed_at = models.DateTimeField()
    payload = models.BinaryField()

    class Meta:
        verbose_name_plural = "member recommendations"

    def __str__(self) -> str:
        return f"Recommendations of member {self.member_id} from run {self.run_id}"


class ComposedPage(models.Model):
    """A member's next homepage, composed once the last one was sent (see
    recommendations/serving/stored_pages.py): the carousels, and a digest of everything they were
    composed from. A page view whose inputs have the same digest, soon enough after
    `composed_at`, serves these carousels instead of composing them again.

    A cache: on PostgreSQL the table is UNLOGGED (no WAL; emptied after a crash), and losing a
    row only costs the next page view its composition.
    """

    # No constraint in the database, as for the feedback counts: the row is written after the
    # response, when the member may be gone; Django's cascade still deletes it with them.
    member = models.OneToOneField(
        Member,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
    )
    digest = models.BinaryField(max_length=16)
    # The digest of the same inputs but the impressions: what the member did, which alone
    # changes the page within COMPOSED_PAGE_STEADY_SECONDS of `composed_at`.
    digest_without_impressions = models.BinaryField(max_length=16, default=b"")
    composed_at = models.DateTimeField()
    # The carousels as JSON: [reason, key, label, [course id...], [score...]] each, in order.
    layout = models.BinaryField()

    def __str__(self) -> str:
        return f"Next homepage of member {self.member_id}, composed {self.composed_at}"


class Experiment(models.Model):
    """An A/B test of homepage strategies: members split across variants by a stable hash.

    `channel` says which pages it serves: the homepage (on the site and in the API), the weekly
    digest (composed from the member's variant's page), or both."""

    class Channel(models.TextChoices):
        HOMEPAGE = "homepage", "Homepage (site and API)"
        EMAIL = "email", "Weekly digest email"
        ALL = "all", "Homepage and weekly digest"

    name = models.CharField(max_length=120)
    key = models.SlugField(
        max_length=60,
        unique=True,
        help_text="Salt of the assignment hash: changing it reshuffles members.",
    )
    description = models.TextField(blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Empty: runs until stopped.")
    exploration_share = models.FloatField(
        default=0.0,
        help_text="Share of slots given to random eligible courses (strategy 'explore').",
    )
    channel = models.CharField(
        max_length=10,
        choices=Channel.choices,
        default=Channel.HOMEPAGE,
        help_text="Which pages the experiment serves; its results count that channel's pages.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="experiment_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(exploration_share__gte=0) & Q(exploration_share__lte=0.5),
                name="experiment_exploration_share_range",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=["homepage", "email", "all"]),
                name="experiment_channel_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ExperimentVariant(models.Model):
    """One arm: a serving strategy the homepage understands, and its share of traffic."""

    class Strategy(models.TextChoices):
        RECENCY = "recency", "Recency baseline (new and popular, not personalised)"
        AFFINITY = "affinity", "Skill affinity (rule-based reasons only)"
        ALS = "als", "Rule-based reasons + learned candidates (ALS, similar, text)"
        RANKED = "ranked", "Learned candidates re-ordered by the ranker"
        DEFAULT = "default", "Whatever the site serves without an experiment"

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="variants")
    code = models.SlugField(max_length=40)
    strategy = models.CharField(max_length=20, choices=Strategy.choices)
    weight = models.PositiveIntegerField(default=1, help_text="Relative share of traffic.")
    is_control = models.BooleanField(default=False)

    class Meta:
        ordering = ["experiment_id", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "code"], name="variant_code_unique"),
            models.UniqueConstraint(
                fields=["experiment"], condition=Q(is_control=True), name="one_control_variant"
            ),
            models.CheckConstraint(condition=Q(weight__gt=0), name="variant_weight_positive"),
            models.CheckConstraint(
                condition=Q(strategy__in=["recency", "affinity", "als", "ranked", "default"]),
                name="variant_strategy_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.experiment.key}/{self.code}"


class ExperimentAssignment(models.Model):
    """A member's variant, written on first exposure and never changed afterwards."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="assignments")
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="experiment_assignments"
    )
    variant = models.ForeignKey(
        ExperimentVariant, on_delete=models.CASCADE, related_name="assignments"
    )
    assigned_at = models.DateTimeField()

    class Meta:
        ordering = ["experiment_id", "member_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "member"], name="one_assignment_per_experiment"
            ),
        ]

    def __str__(self) -> str:
        return f"member {self.member_id} in {self.variant}"


class PersonSuggestion(models.Model):
    """One suggested person for a member ("People to learn with"), precomputed by the retrain
    (`people/training.py`). Both are discoverable when written; a member who stops being
    discoverable, or is deleted, is removed from every row at once (`people_rows_purge`, the
    cascade), and serving reads only discoverable people anyway.

    Pairs, not one packed row per member as for courses: removing a person from everyone's
    suggestions is one indexed delete by `person`, where packed rows would all be rewritten.
    Both sides are discoverable members only (a small share), so the table stays small.
    """

    class Family(models.IntegerChoices):
        LEARNED = 0, "Learned (co-enrolment)"
        RULES = 1, "Rules (shared skills, cohort, courses)"

    # No index of its own: the unique (member, person) index leads with it, and each index costs
    # every retrain's rewrite of the table. A member's rows (at most PEOPLE_PER_MEMBER) are
    # found by that index and ordered by rank after it, so rank needs no index either.
    # No foreign-key constraints in the database, as for FeedbackEvent: every retrain rewrites
    # the table, and PostgreSQL checked both keys of each row at commit (0.8 of the people
    # stage's 2.0 s at 100,000 rows). Rows are written only for members read as discoverable
    # under the table lock (`people_rows_store`), and deleting a member still deletes its rows
    # through the ORM's on_delete.
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    person = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    rank = models.PositiveSmallIntegerField()
    score = models.FloatField()
    family = models.PositiveSmallIntegerField(choices=Family.choices)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "person"], name="person_suggestion_unique"),
            models.CheckConstraint(
                condition=~Q(member=models.F("person")), name="person_suggestion_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"member {self.member_id} → person {self.person_id} (#{self.rank})"


class PeoplePageView(models.Model):
    """One showing of suggested people (the people page, the homepage block, the API): the
    shown member ids packed as little-endian int32 in display order, one row per showing, so
    the ranker and experiments can read impressions without a row per person. Clicks and hides
    point at it."""

    class Surface(models.TextChoices):
        PAGE = "page", "People page"
        HOME = "home", "Homepage block"
        API = "api", "API"

    id = models.UUIDField(primary_key=True)
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    surface = models.CharField(max_length=8, choices=Surface.choices)
    shown = models.BinaryField()
    created_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"people page view {self.pk} ({self.surface})"


class PersonClick(models.Model):
    """A member opened a suggested person from a page view that showed them."""

    page_view = models.ForeignKey(PeoplePageView, on_delete=models.CASCADE, related_name="clicks")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"member {self.member_id} opened person {self.person_id}"


class PersonHidden(models.Model):
    """A person the member never wants suggested again, with the page view it was hidden
    from (None when it no longer exists)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    page_view = models.ForeignKey(
        PeoplePageView, null=True, blank=True, on_delete=models.SET_NULL, related_name="hides"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "person"], name="person_hidden_unique"),
        ]

    def __str__(self) -> str:
        return f"member {self.member_id} hid person {self.person_id}"


class SimilarCourses(models.Model):
    """One compact row per course: the courses most like it, best first, as the run that wrote
    it scored them (see recommendations/training/similar_rows.py).

    `payload` packs each similar course's id and score (`engine.SIMILAR_COURSE`, 8 bytes each).
    Activating a run (a retrain or a rollback) rewrites every course's row in the same
    transaction, and a course added since gets its row by text (`serving/similar.py`); a row is
    replaced in one statement, so readers see the old list or the new one. Similar courses
    unpublished or deleted since are left out when the row is read.
    """

    # No constraint in the database: the rows are written set-based from a catalog read a
    # moment earlier, and a course deleted in between must not fail the activation; Django's
    # cascade still deletes a deleted course's row.
    course = models.OneToOneField(
        Course, primary_key=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    run = models.ForeignKey(TrainingRun, on_delete=models.CASCADE, related_name="course_rows")
    computed_at = models.DateTimeField()
    payload = models.BinaryField()

    class Meta:
        verbose_name_plural = "similar courses"

    def __str__(self) -> str:
        return f"Similar courses of course {self.course_id} from run {self.run_id}"


class DigestSend(models.Model):
    """One member's weekly recommendations email (recommendations/digest/): claimed before it
    is sent, so a re-run never sends the same member twice in a week (unique member and week).

    `claimed`: taken by a run that has not confirmed the send (still sending, or the run died
    between handing the message over and marking it: it may or may not have gone out, and is
    never sent again: at most once). `sent`: handed to the email backend. `empty`: nothing new
    to recommend that week; no email, and the week is settled for the member.
    """

    class State(models.TextChoices):
        CLAIMED = "claimed", "Claimed, not confirmed sent"
        SENT = "sent", "Sent"
        EMPTY = "empty", "Nothing new: not sent"

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="digest_sends")
    # Monday of the ISO week the digest belongs to.
    week = models.DateField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.CLAIMED)
    strategy = models.CharField(max_length=40, blank=True, help_text="What composed its page.")
    variant = models.ForeignKey(
        "ExperimentVariant",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="digest_sends",
        help_text="The experiment variant whose page it was built from.",
    )
    # Its impression: the page view (channel email) holding the courses it showed, slot =
    # `DigestItem.position`; a followed link is a click citing (this page view, that slot).
    # Null for an empty digest. No foreign key, as clicks cite page views (`PageView` rows are
    # pruned after IMPRESSIONS_KEPT_DAYS; the digest stays).
    page_view_id = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField()
    # The run that claimed it: a run reads back its own claims, never another's.
    claimed_by = models.UUIDField(editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-week", "member_id"]
        constraints = [
            models.UniqueConstraint(fields=["member", "week"], name="digest_send_member_week"),
            models.CheckConstraint(
                condition=Q(state__in=["claimed", "sent", "empty"]),
                name="digest_send_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(state="sent", sent_at__isnull=False)
                | (~Q(state="sent") & Q(sent_at__isnull=True)),
                name="digest_send_sent_at_iff_sent",
            ),
        ]
        indexes = [models.Index(fields=["week", "state"], name="digest_send_week_state")]

    def __str__(self) -> str:
        return f"digest of {self.week:%G-W%V} for member {self.member_id}"


class DigestItem(models.Model):
    """One course a digest showed, where and why, and when its link was first followed."""

    send = models.ForeignKey(DigestSend, on_delete=models.CASCADE, related_name="items")
    # Order in the email, from 0; the click link signs (digest, position).
    position = models.PositiveSmallIntegerField()
    carousel_position = models.PositiveSmallIntegerField()
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="digest_items")
    reason = models.CharField(max_length=20, help_text="Reason family, e.g. follow, popular.")
    reason_key = models.CharField(max_length=80, help_text="The carousel, e.g. follow:42.")
    clicked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["send_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["send", "position"], name="digest_item_position"),
        ]

    def __str__(self) -> str:
        return f"course {self.course_id} at {self.position} of {self.send_id}"
