"""Writes to the catalog."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models, transaction
from django.utils import timezone

from catalog.models import Category, CourseSkill, Skill, SkillSynonym, TaggerEvaluation
from core.csv_import import slug_unique
from core.tasks import task_queue

REVIEW_DECISIONS = frozenset({CourseSkill.Status.APPROVED, CourseSkill.Status.REJECTED})


def course_skills_review(*, tag_ids: Iterable[int], status: str, reviewer: AbstractBaseUser) -> int:
    """Record a curator's decision on course-skill tags; returns how many tags were updated.

    Only a decision (approved or rejected) is recorded: putting a tag back to pending is not a
    review, and doing it here would leave a reviewer on a tag nobody has decided on.
    """
    if status not in REVIEW_DECISIONS:
        raise ValueError(f"A review decides approved or rejected, not {status!r}.")
    return CourseSkill.objects.filter(pk__in=list(tag_ids)).update(
        status=status, reviewed_by=reviewer, reviewed_at=timezone.now()
    )


# Taxonomy loading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaxonomySkill:
    name: str
    category: str
    description: str = ""


@dataclass
class TaxonomySkillsLoaded:
    """What `taxonomy_skills_load` wrote, and every loaded name's skill id."""

    skill_ids: dict[str, int]  # lower-cased name (or synonym it was merged into) -> skill id
    categories_created: int = 0
    skills_created: int = 0
    skills_updated: int = 0
    synonyms_created: int = 0
    related_created: int = 0  # pairs of related skills newly tied


@transaction.atomic
def taxonomy_skills_load(
    *,
    skills: Iterable[TaxonomySkill],
    synonyms: Iterable[tuple[str, str]],
    related: Iterable[tuple[str, str]],
) -> TaxonomySkillsLoaded:
    """Create or update skills, their categories, synonyms and related skills, by name.

    Safe to run again: names match case-insensitively, so nothing is duplicated. A loaded skill
    takes the loaded category; its description is filled only while empty (a curator's text
    stays). A name that is now another skill's synonym (a curator merged it away) maps to that
    skill and is not created again. Synonyms that would repeat a skill's name or another
    synonym are left out.
    """
    skills = list(skills)
    categories = {c.name.lower(): c for c in Category.objects.all()}
    category_slugs = set(Category.objects.values_list("slug", flat=True))
    loaded = TaxonomySkillsLoaded(skill_ids={})
    for name in sorted({skill.category for skill in skills}):
        if name.lower() not in categories:
            categories[name.lower()] = Category.objects.create(
                name=name,
                slug=slug_unique(
                    text=name, taken=category_slugs, fallback="category", max_length=140
                ),
            )
            loaded.categories_created += 1

    existing = {skill.name.lower(): skill for skill in Skill.objects.all()}
    merged_into = {
        name.lower(): skill_id
        for name, skill_id in SkillSynonym.objects.values_list("name", "skill_id")
    }
    skill_slugs = set(Skill.objects.values_list("slug", flat=True))
    created: list[Skill] = []
    changed: list[Skill] = []
    for item in skills:
        key = item.name.lower()
        category = categories[item.category.lower()]
        skill = existing.get(key)
        if skill is None and key in merged_into:
            loaded.skill_ids[key] = merged_into[key]
            continue
        if skill is None:
            skill = Skill(
                name=item.name,
                slug=slug_unique(
                    text=item.name, taken=skill_slugs, fallback="skill", max_length=140
                ),
                category=category,
                description=item.description,
            )
            created.append(skill)
            existing[key] = skill
        elif skill.category_id != category.pk or (not skill.description and item.description):
            skill.category = category
            skill.description = skill.description or item.description
            changed.append(skill)
    Skill.objects.bulk_create(created)
    Skill.objects.bulk_update(changed, ["category", "description"])
    loaded.skills_created, loaded.skills_updated = len(created), len(changed)
    for key, skill in existing.items():
        loaded.skill_ids.setdefault(key, skill.pk)

    taken = set(existing) | set(merged_into)
    new_synonyms = []
    for name, synonym in synonyms:
        skill_id = loaded.skill_ids.get(name.lower())
        if skill_id is not None and synonym.lower() not in taken:
            taken.add(synonym.lower())
            new_synonyms.append(SkillSynonym(skill_id=skill_id, name=synonym))
    SkillSynonym.objects.bulk_create(new_synonyms)
    loaded.synonyms_created = len(new_synonyms)

    through = Skill.related.through
    pairs = set(through.objects.values_list("from_skill_id", "to_skill_id"))
    new_pairs: set[tuple[int, int]] = set()
    for name, other in related:
        a, b = loaded.skill_ids.get(name.lower()), loaded.skill_ids.get(other.lower())
        if a is None or b is None or a == b:
            continue
        # The relation is symmetrical: Django stores both directions.
        for pair in ((a, b), (b, a)):
            if pair not in pairs:
                new_pairs.add(pair)
    through.objects.bulk_create(
        [through(from_skill_id=a, to_skill_id=b) for a, b in sorted(new_pairs)]
    )
    loaded.related_created = len({frozenset(pair) for pair in new_pairs})
    return loaded


# Skill merging ----------------------------------------------------------------------------------

_STATUS_RANK = {
    CourseSkill.Status.APPROVED: 2,
    CourseSkill.Status.PENDING: 1,
    CourseSkill.Status.REJECTED: 0,
}


def _course_tag_winner(kept: CourseSkill, other: CourseSkill) -> CourseSkill:
    """The tag whose decision survives: the better status, then a taxonomist's, then confidence.

    Approved beats pending beats rejected, so one curator's approval under either name is never
    lost; a rejection only survives where nobody approved or still proposes the tag.
    """

    def rank(tag: CourseSkill) -> tuple[int, int, float]:
        return (
            _STATUS_RANK[tag.status],
            int(tag.source == CourseSkill.Source.TAXONOMIST),
            tag.confidence,
        )

    return other if rank(other) > rank(kept) else kept


def skill_rows_merge(
    *,
    model: type[models.Model],
    owner: str,
    survivor: Skill,
    merged: Skill,
    combine: Callable[[models.Model, models.Model], None],
) -> tuple[int, int]:
    """Move `model`'s rows of `merged` to `survivor`: (moved, combined into an existing row).

    A row whose `owner` (a field name, e.g. "course_id") already has a row of `survivor` is
    folded into that row by `combine(kept, row)`, which saves `kept`, and then deleted. The one
    mechanism of every table a skill merge touches (`web.services.skill_merge`)."""
    kept_by_owner = {getattr(row, owner): row for row in model.objects.filter(skill=survivor)}
    moved = combined = 0
    for row in model.objects.filter(skill=merged):
        kept = kept_by_owner.get(getattr(row, owner))
        if kept is None:
            row.skill = survivor
            row.save(update_fields=["skill"])
            moved += 1
            continue
        combine(kept, row)
        row.delete()
        combined += 1
    return moved, combined


def course_tags_merge(*, survivor: Skill, merged: Skill) -> tuple[int, int]:
    """Move `merged`'s course tags to `survivor`: (moved, combined into an existing tag).

    Where both skills tag the same course one row is kept, with the higher confidence and the
    better decision (see `_course_tag_winner`). Part of a skill merge (`web.services.skill_merge`).
    """

    def combine(kept: CourseSkill, tag: CourseSkill) -> None:
        winner = _course_tag_winner(kept, tag)
        kept.confidence = max(kept.confidence, tag.confidence)
        kept.status, kept.source = winner.status, winner.source
        kept.reviewed_by_id, kept.reviewed_at = winner.reviewed_by_id, winner.reviewed_at
        kept.save(update_fields=["confidence", "status", "source", "reviewed_by", "reviewed_at"])

    return skill_rows_merge(
        model=CourseSkill, owner="course_id", survivor=survivor, merged=merged, combine=combine
    )


def skills_merge_lock(*, survivor: Skill, merged: Skill) -> tuple[Skill, Skill]:
    """Both skills of a merge, re-read and locked, so a concurrent merge or edit of either waits.

    Refuses unsaved skills, a skill merged into itself, and a skill deleted meanwhile. Call it
    inside the merge's transaction.
    """
    if survivor.pk is None or merged.pk is None:
        raise ValueError("Both skills must be saved before they can be merged.")
    if survivor.pk == merged.pk:
        raise ValueError("A skill cannot be merged into itself.")
    locked = Skill.objects.select_for_update().in_bulk([survivor.pk, merged.pk])
    if len(locked) != 2:
        raise ValueError("Both skills must still exist to be merged.")
    return locked[survivor.pk], locked[merged.pk]


def skill_absorb(*, survivor: Skill, merged: Skill) -> tuple[int, int]:
    """The last step of a merge: `merged`'s synonyms and related skills go to `survivor`, then
    `merged` is deleted and its name becomes a synonym of `survivor`.

    Returns (synonyms moved, related skills added). Every row that points at `merged` must have
    been moved before this, or the delete cascades it away.
    """
    synonyms_moved = SkillSynonym.objects.filter(skill=merged).update(skill=survivor)
    related = set(merged.related.exclude(pk=survivor.pk).values_list("pk", flat=True))
    related -= set(survivor.related.values_list("pk", flat=True))
    survivor.related.add(*related)

    merged_name = merged.name
    merged.delete()
    # After the delete: a synonym may not repeat a skill's name, and the merged name is free now.
    if not SkillSynonym.objects.filter(name__iexact=merged_name).exists():
        SkillSynonym.objects.create(skill=survivor, name=merged_name)
    return synonyms_moved, len(related)


# Tagger suggestions -----------------------------------------------------------------------------

MACHINE_SOURCES = frozenset({CourseSkill.Source.TAGGER, CourseSkill.Source.MODEL})


@dataclass(frozen=True)
class TagSuggestionInput:
    course_id: int
    skill_id: int
    confidence: float
    source: str  # CourseSkill.Source.TAGGER or MODEL


@dataclass(frozen=True)
class SuggestionsStoreResult:
    created: int
    updated: int
    auto_approved: int
    protected: int  # suggestions left alone: a taxonomist's tag, a decision already made
    below_threshold: int


def course_skill_suggestions_store(
    *,
    suggestions: Iterable[TagSuggestionInput],
    threshold: float,
    auto_approve_threshold: float | None = None,
    dry_run: bool = False,
) -> SuggestionsStoreResult:
    """Store the tagger's suggestions as pending tags, never touching a human decision.

    A suggestion at or above `threshold` becomes a new pending tag (approved outright when
    `auto_approve_threshold` is given and reached). A (course, skill) pair that already has a
    tag is never duplicated: a pending machine tag gets the new confidence and source; a
    taxonomist's tag, an approved tag and a rejected tag are left exactly as they are, so a
    rejected suggestion is never suggested again. Safe to run twice: the second run changes
    nothing.
    """
    wanted: dict[tuple[int, int], TagSuggestionInput] = {}
    below = 0
    for suggestion in suggestions:
        if suggestion.source not in MACHINE_SOURCES:
            raise ValueError(
                f"Suggestions come from the tagger or the model, not {str(suggestion.source)!r}."
            )
        if suggestion.confidence < threshold:
            below += 1
            continue
        key = (suggestion.course_id, suggestion.skill_id)
        if key not in wanted or suggestion.confidence > wanted[key].confidence:
            wanted[key] = suggestion

    course_ids = {course_id for course_id, _ in wanted}
    existing = {
        (tag.course_id, tag.skill_id): tag
        for tag in CourseSkill.objects.filter(course_id__in=course_ids).only(
            "pk", "course_id", "skill_id", "source", "status", "confidence"
        )
    }

    def approves(confidence: float) -> bool:
        return auto_approve_threshold is not None and confidence >= auto_approve_threshold

    to_create, to_update, protected = [], [], 0
    for key, suggestion in wanted.items():
        confidence = min(1.0, max(0.0, float(suggestion.confidence)))
        tag = existing.get(key)
        if tag is None:
            status = (
                CourseSkill.Status.APPROVED if approves(confidence) else CourseSkill.Status.PENDING
            )
            to_create.append(
                CourseSkill(
                    course_id=suggestion.course_id,
                    skill_id=suggestion.skill_id,
                    source=suggestion.source,
                    confidence=confidence,
                    status=status,
                )
            )
        elif tag.status == CourseSkill.Status.PENDING and tag.source in MACHINE_SOURCES:
            changed = abs(tag.confidence - confidence) > 1e-9 or tag.source != suggestion.source
            if changed or approves(confidence):
                to_update.append((tag.pk, confidence, suggestion.source, approves(confidence)))
        else:
            protected += 1

    auto_approved = sum(1 for tag in to_create if tag.status == CourseSkill.Status.APPROVED)
    updated = 0
    if not dry_run:
        with transaction.atomic():
            # ignore_conflicts: a curator who tags the same pair meanwhile keeps their tag.
            CourseSkill.objects.bulk_create(to_create, batch_size=500, ignore_conflicts=True)
            for pk, confidence, source, approve in to_update:
                fields: dict[str, object] = {"confidence": confidence, "source": source}
                if approve:
                    fields["status"] = CourseSkill.Status.APPROVED
                # Filtered on pending again: a curator's decision since the read above wins.
                updated += CourseSkill.objects.filter(
                    pk=pk, status=CourseSkill.Status.PENDING
                ).update(**fields)
                auto_approved += int(approve)
    else:
        updated = len(to_update)
        auto_approved += sum(1 for *_, approve in to_update if approve)
    return SuggestionsStoreResult(
        created=len(to_create),
        updated=updated,
        auto_approved=auto_approved,
        protected=protected,
        below_threshold=below,
    )


def tagger_evaluation_record(*, params: dict, metrics: dict) -> TaggerEvaluation:
    return TaggerEvaluation.objects.create(params=params, metrics=metrics)


def course_tagging_enqueue() -> None:
    """Queue a tagging run for after the current transaction commits (now, outside one).

    Called by catalog imports: the worker must see the imported courses, and an import that
    rolls back must not leave a run behind.
    """
    transaction.on_commit(
        lambda: task_queue(
            func="catalog.tasks.courses_tag",
            task_name="courses_tag",
            repair="the next import or `manage.py tag_courses` tags the new courses",
        ),
        robust=True,
    )
