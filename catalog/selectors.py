"""Reads of the catalog: course search and browsing, the skills taxonomy, popularity.

A course is visible in the catalog once its `published_at` has passed; only approved course-skill
tags count anywhere a learner sees skills, because pending and rejected ones are the tagger's
guesses that a curator has not confirmed (or has turned down).
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.aggregates import StringAgg
from django.db import connections, router
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.base import ModelState
from django.db.models.functions import Coalesce, Greatest, Length, Lower
from django.utils import timezone

from catalog.card_cache import CardData, card_cache
from catalog.models import (
    Category,
    Course,
    CourseSkill,
    LearningPath,
    LearningPathStep,
    Skill,
    SkillSynonym,
    TaggerEvaluation,
    TagSuggestion,
)
from core.prepared_statements import prepared_cursor
from core.queries import SubqueryCount

APPROVED = CourseSkill.Status.APPROVED


def course_published_q(*, prefix: str = "") -> Q:
    """The published rule as a filter: `published_at` has passed. `prefix` reaches a course
    through a relation (`"course__"`)."""
    return Q(**{f"{prefix}published_at__lte": timezone.now()})


def _published_courses() -> QuerySet[Course]:
    return Course.objects.filter(course_published_q())


def course_published_get(*, course_id: int) -> Course | None:
    """The course if it is published; None for an unknown, unpublished or future course."""
    return _published_courses().filter(pk=course_id).first()


def course_card_skills_prefetch() -> Prefetch:
    """The prefetch that `_course_card.html` reads (`course.card_skill_tags`).

    Any list of course cards should apply it, so the cards' skill line costs one query per list
    instead of one per card.
    """
    return Prefetch(
        "skill_tags",
        queryset=CourseSkill.objects.filter(status=APPROVED)
        .select_related("skill")
        .order_by("-confidence", "skill__name"),
        to_attr="card_skill_tags",
    )


# What a recommendation card shows of a course (the homepage and the recommendations API), in
# the model's field order, which `Model.from_db` expects.
CARD_FIELDS = tuple(
    field.attname
    for field in Course._meta.concrete_fields
    if field.attname
    in {"id", "slug", "title", "level", "duration_minutes", "teacher", "published_at"}
)


def course_cards_by_id(
    *, course_ids: Iterable[int], catalog_revision: int | None = None
) -> dict[int, Course]:
    """Courses by id with only `CARD_FIELDS` loaded (the others load on first access), for the
    dozens of cards one page view shows; unknown ids are left out, published or not. Each
    course carries `card_skills`: its approved skills as `{"id", "slug", "name"}` dicts, most
    confident first (ties by name), as the API's course summaries list them.

    Kept per process between requests while the catalog does not change (`card_cache`), when
    settings.CATALOG_CARD_CACHE is on; `catalog_revision`, when the caller has read it already
    in this request, saves reading it again. Each call gets new model instances.
    """
    ids = list(course_ids)
    if not ids:
        return {}
    if settings.CATALOG_CARD_CACHE:
        cards = card_cache.get_many(ids, load=_card_data_load, revision=catalog_revision)
    else:
        cards = _card_data_load(ids)
    courses = {}
    for course_id, card in cards.items():
        course = _course_from_card(card)
        course.card_skills = list(card.skills)
        courses[course_id] = course
    return courses


def _course_from_card(card: CardData) -> Course:
    """A new instance with the card's loaded field values and a state of its own.

    What `Model.from_db` would build from the same row, for a tenth of the cost: a page view
    takes close to a hundred cards, and `Model.__init__` sets every field one by one and sends
    the init signals (which no receiver handles for courses).
    """
    course = Course.__new__(Course)
    values = card.fields.copy()
    state = ModelState()
    state.db, state.adding = card.db, False
    values["_state"] = state
    course.__dict__ = values
    return course


def _card_data_load(course_ids: list[int] | None) -> dict[int, CardData]:
    """Card data of the given courses, or of every course for None."""
    courses, tags = Course.objects.all(), CourseSkill.objects.all()
    if course_ids is not None:
        courses, tags = courses.filter(pk__in=course_ids), tags.filter(course_id__in=course_ids)
    cards = {row[0]: row for row in courses.values_list(*CARD_FIELDS)}
    if not cards:
        return {}
    skills = _approved_skills_by_course(tags, course_ids=cards)
    db = router.db_for_read(Course)
    return {
        course_id: CardData(
            fields=_loaded_fields(Course.from_db(db, CARD_FIELDS, row)),
            db=db,
            skills=tuple(skills[course_id]),
        )
        for course_id, row in cards.items()
    }


def _loaded_fields(course: Course) -> dict:
    """What `Model.from_db` (the step the ORM itself ends with) set on `course`, but its state."""
    return {name: value for name, value in course.__dict__.items() if name != "_state"}


def _approved_skills_by_course(
    tags: QuerySet[CourseSkill], *, course_ids: Iterable[int]
) -> dict[int, list[dict]]:
    skills: dict[int, list[dict]] = {course_id: [] for course_id in course_ids}
    rows = (
        tags.filter(status=APPROVED)
        .order_by("course_id", "-confidence", "skill__name")
        .values_list("course_id", "skill_id", "skill__slug", "skill__name")
    )
    for course_id, skill_id, slug, name in rows:
        if course_id in skills:  # a course added after the courses were read
            skills[course_id].append({"id": skill_id, "slug": slug, "name": name})
    return skills


def _courses_for_cards(queryset: QuerySet[Course]) -> QuerySet[Course]:
    return queryset.prefetch_related(course_card_skills_prefetch())


def _approved_tag_course_ids(**skill_lookups: object) -> QuerySet[CourseSkill]:
    return CourseSkill.objects.filter(status=APPROVED, **skill_lookups).values("course_id")


def _in_category(category: Category | OuterRef) -> Q:
    """A course belongs to a category if it is filed there or teaches an approved skill of it.

    Imported courses are often filed under no category at all, while their skills always have
    one; taking both keeps the category filter useful without a curator filing every course.
    `pk__in` subqueries (rather than joins) keep each course to one row without DISTINCT.
    """
    filed = Course.categories.through.objects.filter(category=category).values("course_id")
    return Q(pk__in=filed) | Q(pk__in=_approved_tag_course_ids(skill__category=category))


def _term_matches(term: str) -> Q:
    taught = _approved_tag_course_ids(skill__name__icontains=term)
    synonym_skill_ids = SkillSynonym.objects.filter(name__icontains=term).values("skill_id")
    taught_by_synonym = _approved_tag_course_ids(skill_id__in=synonym_skill_ids)
    return (
        Q(title__icontains=term)
        | Q(description__icontains=term)
        | Q(pk__in=taught)
        | Q(pk__in=taught_by_synonym)
    )


COURSE_SORTS = ("relevance", "newest", "popular")
# Typo tolerance: a query word at least this similar (pg_trgm's strict_word_similarity: shared
# trigrams over all trigrams of the word and the closest whole words) to words of the title or
# of a skill name matches. A swap of two letters keeps few trigrams: "pyhton" and "python" score
# 0.27, while unrelated words of about that length score under 0.2.
TRIGRAM_MIN_SIMILARITY = 0.25
# Shorter words have too few trigrams: "r" would be half like every word starting with r.
TRIGRAM_MIN_WORD_LENGTH = 4
# Words past these many only match by their letters (each typo-tolerant word costs two
# similarity computations per course).
TRIGRAM_MAX_WORDS = 8
# A typo match ranks below a full-text match of the same course (SearchRank is about 0.1-1).
TRIGRAM_RANK_WEIGHT = 0.5


def courses_search(
    *,
    query: str,
    skill: Skill | None = None,
    category: Category | None = None,
    level: str | None = None,
    sort: str = "relevance",
) -> QuerySet[Course]:
    """Published courses matching `query` and all the given filters, in `sort` order.

    Each word may match the title, the description, or the name or a synonym of a skill the
    course is approved for, so "excel pivot" finds a course tagged "Microsoft Excel" whose
    description mentions pivot tables. On PostgreSQL a course also matches by full-text search
    (title, approved skills, description and teacher, weighted in that order) and, for typos,
    by trigram similarity of the query to a word of its title or a skill name; `relevance` is
    then `SearchRank` plus the trigram similarity, and each course carries it as `relevance`
    (elsewhere: 2 when the title contains the whole query, 1 when it contains a word of it).

    `sort`: `relevance` (best first, then newest; newest without a query), `newest`, or
    `popular` (most enrolments, then newest).
    """
    if sort not in COURSE_SORTS:
        raise ValueError(f"unknown course sort {sort!r}")
    courses = _published_courses()
    if skill is not None:
        courses = courses.filter(pk__in=_approved_tag_course_ids(skill=skill))
    if category is not None:
        courses = courses.filter(_in_category(category))
    if level:
        courses = courses.filter(level=level)
    words = query.split()
    if words:
        if connection_vendor() == "postgresql":
            courses = _ranked_search_postgresql(courses, query=" ".join(words))
        else:
            courses = _search_fallback(courses, words=words)
    newest = ("-published_at", "-id")
    if sort == "newest":
        order = newest
    elif sort == "popular":
        courses = courses.annotate(enrolment_count=SubqueryCount(_enrolments_of_course()))
        order = ("-enrolment_count", *newest)
    elif words:
        order = ("-relevance", *newest)
    else:
        order = newest
    return _courses_for_cards(courses.order_by(*order))


def connection_vendor() -> str:
    return connections[router.db_for_read(Course)].vendor


def _enrolments_of_course() -> QuerySet:
    # The reverse relation from members' Enrolment: the catalog reads it by name only, as
    # `courses_popular` does, without importing the members app.
    return Course.enrolments.rel.related_model.objects.filter(course_id=OuterRef("pk")).values("pk")


def _words_match(courses: QuerySet[Course], words: list[str]) -> Q:
    """Every word matches the title, description, or an approved skill's name or synonym."""
    match = Q()
    for term in words:
        match &= _term_matches(term)
    return match


def _search_fallback(courses: QuerySet[Course], *, words: list[str]) -> QuerySet[Course]:
    """SQLite: every word must match (`_term_matches`); courses whose title holds the whole
    query come first, then those whose title holds one of its words."""
    phrase = " ".join(words)
    any_word_in_title = Q()
    for term in words:
        any_word_in_title |= Q(title__icontains=term)
    return courses.filter(_words_match(courses, words)).annotate(
        relevance=Case(
            When(title__icontains=phrase, then=Value(2.0)),
            When(any_word_in_title, then=Value(1.0)),
            default=Value(0.0),
            output_field=FloatField(),
        )
    )


def _ranked_search_postgresql(courses: QuerySet[Course], *, query: str) -> QuerySet[Course]:
    from django.contrib.postgres.search import (
        SearchQuery,
        SearchRank,
        SearchVector,
        TrigramStrictWordSimilarity,
    )

    skill_names = Coalesce(
        Subquery(
            CourseSkill.objects.filter(course_id=OuterRef("pk"), status=APPROVED)
            .values("course_id")
            .annotate(names=StringAgg("skill__name", delimiter=" "))
            .values("names")[:1],
            output_field=TextField(),
        ),
        Value(""),
        output_field=TextField(),
    )
    document = (
        SearchVector("title", weight="A", config="english")
        + SearchVector("skill_names", weight="B", config="english")
        + SearchVector("description", weight="C", config="english")
        + SearchVector("teacher", weight="D", config="english")
    )
    search_query = SearchQuery(query, search_type="websearch", config="english")
    courses = courses.annotate(skill_names=skill_names).annotate(document=document)
    # Every word must match, as elsewhere: by its letters (`_term_matches`) or, for a word long
    # enough for its trigrams to mean something, by trigram similarity to a word of the title or
    # a skill name. A full-text match of the whole query (stemmed) also counts.
    every_word = Q()
    typos = []
    for index, term in enumerate(query.split()):
        matches = _term_matches(term)
        if len(term) >= TRIGRAM_MIN_WORD_LENGTH and index < TRIGRAM_MAX_WORDS:
            name = f"typo_{index}"
            courses = courses.annotate(
                **{
                    name: Greatest(
                        TrigramStrictWordSimilarity(Value(term), "title"),
                        TrigramStrictWordSimilarity(Value(term), "skill_names"),
                    )
                }
            )
            matches |= Q(**{f"{name}__gte": TRIGRAM_MIN_SIMILARITY})
            typos.append(F(name))
        every_word &= matches
    typo_rank = sum(typos[1:], typos[0]) / len(typos) if typos else Value(0.0)
    return courses.filter(Q(document=search_query) | every_word).annotate(
        relevance=SearchRank(F("document"), search_query) + TRIGRAM_RANK_WEIGHT * typo_rank
    )


def course_get_by_slug(*, slug: str, include_unpublished: bool = False) -> Course | None:
    courses = Course.objects.all() if include_unpublished else _published_courses()
    return courses.prefetch_related("categories").filter(slug=slug).first()


def course_approved_skills(*, course: Course) -> list[Skill]:
    """The skills a course teaches, most confident tag first."""
    return list(
        Skill.objects.filter(course_tags__course=course, course_tags__status=APPROVED)
        .select_related("category")
        .order_by("-course_tags__confidence", "name")
    )


def skill_get_by_slug(*, slug: str) -> Skill | None:
    return (
        Skill.objects.select_related("category")
        .prefetch_related(
            "synonyms",
            Prefetch("related", queryset=Skill.objects.select_related("category").order_by("name")),
        )
        .filter(slug=slug)
        .first()
    )


def courses_for_skill(*, skill: Skill) -> QuerySet[Course]:
    """Published courses approved as teaching `skill`, newest first."""
    return courses_search(query="", skill=skill)


def _skill_course_count() -> SubqueryCount:
    # A correlated count rather than Count() over a join, so unpublished courses drop out of the
    # count without dropping skills that have no courses at all.
    return SubqueryCount(
        CourseSkill.objects.filter(
            skill=OuterRef("pk"), status=APPROVED, course__published_at__lte=timezone.now()
        ).values("pk")
    )


def skills_search(*, query: str, limit: int = 20) -> list[Skill]:
    """Skills whose name or a synonym contains `query` (case-insensitive), best matches first.

    A name that starts with the query ranks before one that merely contains it, and a shorter
    name before a longer one, so typing "py" offers Python before "SPSS Python plugin". The
    ranking happens in the database so the best matches are never cut off by the limit.
    """
    query = query.strip()
    if not query:
        return []
    synonym_skill_ids = SkillSynonym.objects.filter(name__icontains=query).values("skill_id")
    matches = (
        Skill.objects.filter(Q(name__icontains=query) | Q(pk__in=synonym_skill_ids))
        .select_related("category")
        .annotate(
            prefix_rank=Case(
                When(name__istartswith=query, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("prefix_rank", Length("name"), Lower("name"))
    )
    return list(matches[:limit])


def skills_with_course_counts(*, query: str = "") -> list[Skill]:
    """Skills with `course_count` (published courses approved as teaching them).

    Without a query: every skill, ordered by category then name, ready for `{% regroup %}`.
    With a query: the matches of `skills_search`, in its ranking.
    """
    if not query.strip():
        return list(
            Skill.objects.select_related("category")
            .annotate(course_count=_skill_course_count())
            .order_by(Lower("category__name"), Lower("name"))
        )
    ranked_ids = [skill.pk for skill in skills_search(query=query)]
    by_id = Skill.objects.select_related("category").annotate(course_count=_skill_course_count())
    found = by_id.in_bulk(ranked_ids)
    return [found[pk] for pk in ranked_ids if pk in found]


def categories_with_counts() -> QuerySet[Category]:
    """Every category with `course_count` (published courses in it, counted the way the course
    filter selects them) and `skill_count`."""
    # Two levels out: the category, seen from the tag subqueries inside the course subquery.
    category = OuterRef(OuterRef("pk"))
    courses_in_category = _published_courses().filter(_in_category(category)).values("pk")
    return Category.objects.annotate(
        course_count=SubqueryCount(courses_in_category),
        skill_count=SubqueryCount(Skill.objects.filter(category=OuterRef("pk")).values("pk")),
    ).order_by(Lower("name"))


def courses_popular(*, limit: int, since: dt.datetime) -> list[Course]:
    """Published courses with the most enrolments since `since`; ties go to the newer course.

    Courses nobody enrolled in during the window are left out rather than padded in, so a
    "Popular this week" carousel never claims popularity it does not have.
    """
    courses = (
        _published_courses()
        .annotate(
            recent_enrolments=Count("enrolments", filter=Q(enrolments__enrolled_at__gte=since))
        )
        .filter(recent_enrolments__gt=0)
        .order_by("-recent_enrolments", "-published_at", "-id")
    )
    return list(_courses_for_cards(courses)[:limit])


def courses_newest(*, limit: int) -> list[Course]:
    return list(_courses_for_cards(_published_courses().order_by("-published_at", "-id"))[:limit])


def course_ids_published(*, course_ids: Iterable[int]) -> set[int]:
    """Which of `course_ids` are published courses (one query)."""
    return set(_published_courses().filter(pk__in=list(course_ids)).values_list("pk", flat=True))


def courses_in_bulk(*, course_ids: Iterable[int]) -> list[Course]:
    """Published courses by id, in the order given, ready for cards; unknown ids are skipped."""
    ids = list(course_ids)
    found = _courses_for_cards(_published_courses()).in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


def courses_published_by_id(*, course_ids: Iterable[int]) -> dict[int, Course]:
    """Published courses by id, rows only (no card skills): for writes that name courses;
    unknown and unpublished ids are left out."""
    ids = list(course_ids)
    db = router.db_for_read(Course)
    if connections[db].vendor != "postgresql":
        return _published_courses().in_bulk(ids)
    # Prepared: every event batch reads its courses here, and the ORM's in_bulk cost three
    # times as much to build and plan as to run.
    with prepared_cursor() as cursor:
        cursor.execute(_PUBLISHED_BY_ID_SQL, [ids, timezone.now()])
        courses = [Course.from_db(db, _COURSE_ATTNAMES, row) for row in cursor.fetchall()]
    return {course.pk: course for course in courses}


_COURSE_ATTNAMES = [field.attname for field in Course._meta.concrete_fields]
_PUBLISHED_BY_ID_SQL = (
    f"SELECT {', '.join(field.column for field in Course._meta.concrete_fields)} "
    f"FROM {Course._meta.db_table} WHERE id = ANY(%s::bigint[]) AND published_at <= %s"
)


# Curation ---------------------------------------------------------------------------------------


def skills_with_tag_counts(*, skills: QuerySet[Skill]) -> QuerySet[Skill]:
    """`skills` with `course_count`: their approved course tags.

    A correlated count rather than Count() over a join, so more counts can be annotated beside
    it (the members app's, in the skills changelist) without multiplying each other's rows.
    """
    return skills.annotate(
        course_count=SubqueryCount(
            CourseSkill.objects.filter(skill=OuterRef("pk"), status=APPROVED).values("pk")
        )
    )


@dataclass(frozen=True)
class EvaluationPoint:
    evaluation_id: int
    created_at: dt.datetime
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class TaxonomyOverview:
    skills_total: int
    skills_covered: int  # skills with at least one approved course tag
    courses_total: int
    courses_covered: int  # courses with at least `min_skills` approved skills
    min_skills: int
    pending_suggestions: int
    latest: TaggerEvaluation | None
    history: list[EvaluationPoint]  # oldest first

    @property
    def skill_coverage(self) -> float:
        return self.skills_covered / self.skills_total if self.skills_total else 0.0

    @property
    def course_coverage(self) -> float:
        return self.courses_covered / self.courses_total if self.courses_total else 0.0


def tagger_evaluation_headline(*, evaluation: TaggerEvaluation) -> dict[str, float]:
    """Precision, recall and F1 of the combined tagger at the operating threshold."""
    at_threshold = evaluation.metrics.get("combined", {}).get("at_threshold", {})
    return {key: float(at_threshold.get(key, 0.0)) for key in ("precision", "recall", "f1")}


def taxonomy_overview(*, min_skills: int, history_limit: int = 50) -> TaxonomyOverview:
    """Coverage of the taxonomy by approved tags, and the tagger's measured quality over time."""
    approved_per_course = (
        CourseSkill.objects.filter(status=APPROVED)
        .values("course_id")
        .annotate(n=Count("pk"))
        .filter(n__gte=min_skills)
    )
    recent = list(TaggerEvaluation.objects.order_by("-created_at", "-id")[:history_limit])
    history = [
        EvaluationPoint(
            evaluation_id=evaluation.pk,
            created_at=evaluation.created_at,
            **tagger_evaluation_headline(evaluation=evaluation),
        )
        for evaluation in reversed(recent)
    ]
    return TaxonomyOverview(
        skills_total=Skill.objects.count(),
        skills_covered=Skill.objects.filter(pk__in=_approved_skill_ids()).count(),
        courses_total=Course.objects.count(),
        courses_covered=approved_per_course.count(),
        min_skills=min_skills,
        pending_suggestions=TagSuggestion.objects.count(),
        latest=recent[0] if recent else None,
        history=history,
    )


def _approved_skill_ids() -> QuerySet[CourseSkill]:
    return CourseSkill.objects.filter(status=APPROVED).values("skill_id")


def learning_paths_published() -> list[LearningPath]:
    """The curated paths members can follow, by title, each with `step_count`."""
    return list(
        LearningPath.objects.filter(is_published=True)
        .annotate(step_count=Count("steps"))
        .order_by("title", "pk")
    )


def learning_path_published_get(*, slug: str) -> LearningPath | None:
    return LearningPath.objects.filter(slug=slug, is_published=True).first()


def learning_path_steps(*, path_ids: Iterable[int]) -> dict[int, list[Course]]:
    """Each path's published courses in the path's order (one query); a course unpublished
    since it was put on the path is left out until it is published again."""
    steps: dict[int, list[Course]] = {pk: [] for pk in path_ids}
    for step in (
        LearningPathStep.objects.filter(path_id__in=list(steps))
        .filter(course_published_q(prefix="course__"))
        .select_related("course")
        .order_by("path_id", "position")
    ):
        steps[step.path_id].append(step.course)
    return steps
