"""The Django side of the tagger: load courses and curated tags, fit and run it, store results.

Reads go straight to the ORM here (as in `recommendations/training/`): this module is the
adapter between the database and the Django-free `matching`, `model` and `evaluation` modules.
Every write goes through `catalog.services`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from django.conf import settings

from catalog.models import Course, CourseSkill, Skill, SkillSynonym, TaggerEvaluation
from catalog.services import (
    SuggestionsStoreResult,
    TagSuggestionInput,
    course_skill_suggestions_store,
    tagger_evaluation_record,
)
from catalog.tagging.evaluation import cross_validate
from catalog.tagging.matching import SkillLexicon
from catalog.tagging.model import Scores, SkillTagger

BATCH_SIZE = 200


@dataclass(frozen=True)
class CourseText:
    course_id: int
    title: str
    description: str
    category_names: tuple[str, ...]

    @property
    def document(self) -> str:
        # The title twice: it is short and names what the course is about, where a description
        # also mentions what it merely touches on.
        return " ".join([self.title, self.title, self.description, *self.category_names])


def tagger_settings() -> dict:
    return settings.TAGGER


def _course_texts(course_ids: Sequence[int] | None = None) -> list[CourseText]:
    courses = Course.objects.order_by("pk").prefetch_related("categories")
    if course_ids is not None:
        courses = courses.filter(pk__in=list(course_ids))
    return [
        CourseText(
            course_id=course.pk,
            title=course.title,
            description=course.description,
            category_names=tuple(category.name for category in course.categories.all()),
        )
        for course in courses.only("pk", "title", "description")
    ]


def skill_lexicon_load() -> SkillLexicon:
    names = list(Skill.objects.values_list("pk", "name"))
    names += list(SkillSynonym.objects.values_list("skill_id", "name"))
    return SkillLexicon(names)


def _approved_labels() -> dict[int, set[int]]:
    labels: dict[int, set[int]] = defaultdict(set)
    approved = CourseSkill.objects.filter(status=CourseSkill.Status.APPROVED)
    for course_id, skill_id in approved.values_list("course_id", "skill_id"):
        labels[course_id].add(skill_id)
    return dict(labels)


def _matches(lexicon: SkillLexicon, courses: Sequence[CourseText]) -> list[Scores]:
    return [
        lexicon.match(title=c.title, description=c.description, category_names=c.category_names)
        for c in courses
    ]


def tagger_build(config: dict | None = None, *, seed: int = 0) -> SkillTagger:
    config = config or tagger_settings()
    return SkillTagger(
        min_positives=config["MIN_POSITIVES"],
        folds=config["EVALUATION_FOLDS"],
        seed=seed,
        fallback_threshold=config["SUGGEST_THRESHOLD"],
    )


@dataclass(frozen=True)
class TaggingResult:
    courses: int
    learned: bool  # False: too few curated courses, name matching alone
    fallback_reason: str
    threshold: float
    max_per_course: int | None
    expected: dict  # cross-validated precision, recall and F1 at the operating point
    modelled_skills: int
    suggestions: int
    stored: SuggestionsStoreResult
    dry_run: bool

    def as_dict(self) -> dict:
        return asdict(self)


def courses_tag_run(
    *,
    course_ids: Sequence[int] | None = None,
    dry_run: bool = False,
    on_start: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> TaggingResult:
    """Suggest skills for the given courses (all courses by default) and store them.

    The tagger is fitted on every course's approved tags (which also chooses its threshold and
    per-course limit by cross-validation), then scores the courses in batches; `on_start` hears
    how many courses will be scored, `on_progress` how many each batch covered. Protected rows
    (a taxonomist's tag, a decision already made) are left alone by the service that stores
    them.
    """
    config = tagger_settings()
    lexicon = skill_lexicon_load()
    labels = _approved_labels()
    training = _course_texts(sorted(labels))
    tagger = tagger_build(config).fit(
        [c.document for c in training],
        [labels[c.course_id] for c in training],
        _matches(lexicon, training),
    )
    source = CourseSkill.Source.MODEL if tagger.learned else CourseSkill.Source.TAGGER
    targets = _course_texts(course_ids)
    if on_start is not None:
        on_start(len(targets))

    suggestions: list[TagSuggestionInput] = []
    for start in range(0, len(targets), BATCH_SIZE):
        batch = targets[start : start + BATCH_SIZE]
        suggested = tagger.suggest([c.document for c in batch], _matches(lexicon, batch))
        for course, scores in zip(batch, suggested, strict=True):
            suggestions += [
                TagSuggestionInput(course.course_id, skill_id, confidence, source)
                for skill_id, confidence in scores.items()
            ]
        if on_progress is not None:
            on_progress(len(batch))

    point = tagger.operating_point
    auto = config["AUTO_APPROVE_THRESHOLD"] if config["AUTO_APPROVE"] else None
    stored = course_skill_suggestions_store(
        suggestions=suggestions,
        threshold=point.threshold,
        auto_approve_threshold=auto,
        dry_run=dry_run,
    )
    return TaggingResult(
        courses=len(targets),
        learned=tagger.learned,
        fallback_reason=tagger.fallback_reason,
        threshold=point.threshold,
        max_per_course=point.max_per_course,
        expected={"precision": point.precision, "recall": point.recall, "f1": point.f1},
        modelled_skills=len(tagger.modelled_skills),
        suggestions=len(suggestions),
        stored=stored,
        dry_run=dry_run,
    )


def tagger_evaluate(*, folds: int | None = None, seed: int = 0) -> TaggerEvaluation:
    """Cross-validate name matching alone and the tagger on the curated tags; store the result.

    The ground truth is the approved tags of every course that has any. `combined` is the
    tagger that runs, scored fold by fold on held-out courses at the operating point it chose
    on the other folds; `operating_point` is the point a run on every curated course chooses
    now (its threshold and per-course limit, with the precision, recall and F1 that its own
    cross-validation measured there).
    """
    config = tagger_settings()
    folds = folds or config["EVALUATION_FOLDS"]
    labels = _approved_labels()
    courses = _course_texts(sorted(labels))
    if len(courses) < folds:
        raise ValueError(
            f"Evaluation needs at least {folds} courses with approved tags, found {len(courses)}."
        )
    lexicon = skill_lexicon_load()
    matches = _matches(lexicon, courses)
    texts = [c.document for c in courses]
    truth = [labels[c.course_id] for c in courses]
    results = cross_validate(
        texts=texts,
        truth=truth,
        matches=matches,
        build=lambda: tagger_build(config, seed=seed),
        folds=folds,
        seed=seed,
        fallback_threshold=config["SUGGEST_THRESHOLD"],
        top_k=config["EVALUATION_TOP_K"],
    )
    tagger = tagger_build(config, seed=seed).fit(texts, truth, matches)
    point = tagger.operating_point
    params = {
        "folds": folds,
        "seed": seed,
        "model": "combined" if tagger.learned else "name matching",
        "threshold": point.threshold,
        "max_per_course": point.max_per_course,
        "fallback_threshold": config["SUGGEST_THRESHOLD"],
        "top_k": config["EVALUATION_TOP_K"],
        "min_positives": config["MIN_POSITIVES"],
        "courses": len(courses),
        "curated_tags": sum(len(t) for t in truth),
    }
    metrics = {
        "stage1": results["stage1"],
        "combined": results["combined"],
        "operating_point": point.as_dict(),
        "learned": tagger.learned,
        "fallback_reason": tagger.fallback_reason,
        "stacker_weights": getattr(tagger, "stacker_weights", {}),
    }
    return tagger_evaluation_record(params=params, metrics=metrics)
