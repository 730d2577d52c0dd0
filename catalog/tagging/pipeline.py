"""The Django side of the tagger: load courses and curated tags, run both stages, store results.

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
from catalog.tagging.model import CANDIDATES, combine, tagger_build

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


@dataclass(frozen=True)
class TaggingResult:
    courses: int
    model: str
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

    The model is trained on every course's approved tags, then both stages score the courses in
    batches; `on_start` hears how many courses will be scored, `on_progress` how many each batch
    covered. Protected rows (a
    taxonomist's tag, a decision already made) are left alone by the service that stores them.
    """
    config = tagger_settings()
    lexicon = skill_lexicon_load()
    labels = _approved_labels()
    training = _course_texts(sorted(labels))
    tagger = tagger_build(kind=config["MODEL"], min_positives=config["MIN_POSITIVES"])
    if training:
        tagger.fit([c.document for c in training], [labels[c.course_id] for c in training])
    targets = _course_texts(course_ids)
    if on_start is not None:
        on_start(len(targets))

    suggestions: list[TagSuggestionInput] = []
    for start in range(0, len(targets), BATCH_SIZE):
        batch = targets[start : start + BATCH_SIZE]
        predicted = tagger.predict([c.document for c in batch]) if training else [{}] * len(batch)
        for course, stage2 in zip(batch, predicted, strict=True):
            stage1 = lexicon.match(
                title=course.title,
                description=course.description,
                category_names=course.category_names,
            )
            merged = combine(stage1=stage1, stage2=stage2, modelled=tagger.modelled_skills)
            suggestions += [
                TagSuggestionInput(course.course_id, skill_id, confidence, source)
                for skill_id, (confidence, source) in merged.items()
            ]
        if on_progress is not None:
            on_progress(len(batch))

    auto = config["AUTO_APPROVE_THRESHOLD"] if config["AUTO_APPROVE"] else None
    stored = course_skill_suggestions_store(
        suggestions=suggestions,
        threshold=config["SUGGEST_THRESHOLD"],
        auto_approve_threshold=auto,
        dry_run=dry_run,
    )
    return TaggingResult(
        courses=len(targets),
        model=config["MODEL"],
        modelled_skills=len(tagger.modelled_skills),
        suggestions=sum(1 for s in suggestions if s.confidence >= config["SUGGEST_THRESHOLD"]),
        stored=stored,
        dry_run=dry_run,
    )


def tagger_evaluate(*, folds: int | None = None, seed: int = 0) -> TaggerEvaluation:
    """Cross-validate stage 1 alone and combined with each stage-2 candidate; store the result.

    The ground truth is the approved tags of every course that has any. `combined` in the
    stored metrics is the configured candidate (`TAGGER["MODEL"]`), the tagger that runs.
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
    stage1 = [
        lexicon.match(title=c.title, description=c.description, category_names=c.category_names)
        for c in courses
    ]
    min_positives = config["MIN_POSITIVES"]
    results = cross_validate(
        texts=[c.document for c in courses],
        truth=[labels[c.course_id] for c in courses],
        stage1=stage1,
        build={
            kind: (lambda kind=kind: tagger_build(kind=kind, min_positives=min_positives))
            for kind in CANDIDATES
        },
        folds=folds,
        seed=seed,
        threshold=config["SUGGEST_THRESHOLD"],
        top_k=config["EVALUATION_TOP_K"],
    )
    params = {
        "folds": folds,
        "seed": seed,
        "model": config["MODEL"],
        "threshold": config["SUGGEST_THRESHOLD"],
        "top_k": config["EVALUATION_TOP_K"],
        "min_positives": min_positives,
        "courses": len(courses),
        "curated_tags": sum(len(labels[c.course_id]) for c in courses),
    }
    metrics = {
        "stage1": results["stage1"],
        "combined": results[config["MODEL"]],
        "candidates": {kind: results[kind] for kind in CANDIDATES},
    }
    return tagger_evaluation_record(params=params, metrics=metrics)
