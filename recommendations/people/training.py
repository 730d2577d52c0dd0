"""The people stage of a retrain: each discoverable member's suggested people, precomputed and
stored as `PersonSuggestion` rows, and their evaluation on a held-out split.

Both sides are discoverable members only: a member who is not discoverable is never a candidate
and gets no suggestions (to see people, be seen). Candidates' rows carry only what they show
(skills, title and industry, courses in progress), so a suggestion never rests on what a person
keeps to themselves. Learned (IDF-weighted co-enrolment cosine, members as items and courses as
users) once the discoverable members' interactions reach `PEOPLE_LEARNED_MIN_INTERACTIONS`,
with the rule-based picks filling the rows the learned ones leave short; rule-based only below.
"""

import datetime as dt
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from members.models import Enrolment, FollowedSkill, Member
from recommendations import engine
from recommendations.engine.people import (
    RuleWeights,
    co_enrolment_vectors,
    member_neighbours,
    neighbours_merge,
    people_hit_rate,
    rule_feature_vectors,
)
from recommendations.engine.positions import positions_of
from recommendations.engine.sparse_ops import as_csr, presence, scale_rows, select_rows
from recommendations.models import PersonHidden, PersonSuggestion
from recommendations.training.learned import Interactions
from recommendations.training.table_arrays import query_arrays


@dataclass(frozen=True)
class PeopleFeatures:
    """What people are matched on, one row per member of `member_ids` (sorted)."""

    member_ids: np.ndarray
    discoverable: np.ndarray  # bool
    title: np.ndarray  # a code per member, -1 for none
    industry: np.ndarray
    shows_title: np.ndarray  # bool: title and industry
    shows_skills: np.ndarray
    shows_courses: np.ndarray
    followed: sp.csr_array  # members × skills (the snapshot's)
    in_progress: sp.csr_array  # members × courses (the retrain's)

    @property
    def n_titles(self) -> int:
        return int(self.title.max(initial=-1)) + 1

    @property
    def n_industries(self) -> int:
        return int(self.industry.max(initial=-1)) + 1


def _flag(column: str) -> str:
    return f"CASE WHEN m.{column} THEN 1 ELSE 0 END"


def people_features_read(
    *,
    skill_ids: np.ndarray,
    course_ids: np.ndarray,
    only_member_id: int | None = None,
) -> PeopleFeatures:
    """Every member's features (one query per table), or with `only_member_id` those of the
    discoverable members and that member (a single member's refresh)."""
    where, params = "", []
    if only_member_id is not None:
        where, params = " WHERE (m.discoverable OR m.id = %s)", [only_member_id]
    members_table = f"{Member._meta.db_table} m"
    members = query_arrays(
        columns=[
            ("id", "m.id", "int"),
            ("title", "COALESCE(m.title_id, -1)", "int"),
            ("industry", "COALESCE(m.industry_id, -1)", "int"),
            ("discoverable", _flag("discoverable"), "int"),
            ("shows_title", _flag("shows_title"), "int"),
            ("shows_skills", _flag("shows_skills"), "int"),
            ("shows_courses", _flag("shows_courses"), "int"),
        ],
        source=f"{members_table}{where}",
        params=params,
        order_by="m.id",
    )
    follows = query_arrays(
        columns=[("member", "f.member_id", "int"), ("skill", "f.skill_id", "int")],
        source=(
            f"{FollowedSkill._meta.db_table} f JOIN {members_table} ON m.id = f.member_id{where}"
        ),
        params=params,
    )
    in_progress_where = " WHERE e.completed_at IS NULL" + (
        where.replace(" WHERE", " AND") if where else ""
    )
    enrolments = query_arrays(
        columns=[("member", "e.member_id", "int"), ("course", "e.course_id", "int")],
        source=(
            f"{Enrolment._meta.db_table} e JOIN {members_table} ON m.id = e.member_id"
            f"{in_progress_where}"
        ),
        params=params,
    )
    member_ids = members["id"]

    def codes(values: np.ndarray) -> np.ndarray:
        _, inverse = np.unique(values, return_inverse=True)
        has = values >= 0
        shift = 0 if not has.size or has.all() else 1  # -1 takes code 0 when present
        return np.where(has, inverse.ravel() - shift, -1)

    def pairs(rows: np.ndarray, columns: np.ndarray, shape: tuple[int, int]) -> sp.csr_array:
        keep = (rows >= 0) & (columns >= 0)
        return presence(
            sp.csr_array((np.ones(int(keep.sum())), (rows[keep], columns[keep])), shape=shape)
        )

    n = member_ids.size
    return PeopleFeatures(
        member_ids=member_ids,
        discoverable=members["discoverable"] > 0,
        title=codes(members["title"]),
        industry=codes(members["industry"]),
        shows_title=members["shows_title"] > 0,
        shows_skills=members["shows_skills"] > 0,
        shows_courses=members["shows_courses"] > 0,
        followed=pairs(
            positions_of(member_ids, follows["member"]),
            positions_of(skill_ids, follows["skill"]),
            (n, skill_ids.size),
        ),
        in_progress=pairs(
            positions_of(member_ids, enrolments["member"]),
            positions_of(course_ids, enrolments["course"]),
            (n, course_ids.size),
        ),
    )


def _cap() -> int:
    return settings.RECOMMENDATIONS["PEOPLE_MAX_CANDIDATES_PER_FEATURE"]


def _rule_weights() -> RuleWeights:
    return RuleWeights(**settings.RECOMMENDATIONS["PEOPLE_RULE_WEIGHTS"])


def _rule_vectors(
    features: PeopleFeatures,
    rows: np.ndarray,
    *,
    idf: np.ndarray,
    shown_only: bool,
    in_progress: sp.csr_array | None = None,
) -> sp.csr_array:
    """Rule features of `rows`; `shown_only` (candidates) keeps only what each one shows."""
    rows = np.asarray(rows, dtype=np.int64)
    followed = features.followed[rows]
    progress = (in_progress if in_progress is not None else features.in_progress)[rows]
    title, industry = features.title[rows], features.industry[rows]
    if shown_only:
        followed = scale_rows(followed, features.shows_skills[rows])
        progress = scale_rows(progress, features.shows_courses[rows])
        title = np.where(features.shows_title[rows], title, -1)
        industry = np.where(features.shows_title[rows], industry, -1)
    return rule_feature_vectors(
        followed=followed,
        skill_idf=idf,
        title=title,
        industry=industry,
        in_progress=progress,
        n_titles=features.n_titles,
        n_industries=features.n_industries,
        weights=_rule_weights(),
    )


@dataclass(frozen=True)
class PeopleRows:
    """Per query member (positions into the features), their people: positions (-1 pads),
    scores and families (`PersonSuggestion.Family`)."""

    members: np.ndarray
    people: np.ndarray
    scores: np.ndarray
    families: np.ndarray


def people_rows_compute(
    *,
    features: PeopleFeatures,
    idf: np.ndarray,
    query: np.ndarray,
    candidates: np.ndarray,
    co_enrolment: sp.csr_array | None,
    k: int,
) -> PeopleRows:
    """The `k` people of each `query` member among `candidates` (positions into `features`):
    with `co_enrolment` (rows per feature member) the learned neighbours first and the rule
    picks after them, else the rule picks only."""
    rules, rule_scores = member_neighbours(
        _rule_vectors(features, query, idf=idf, shown_only=False),
        _rule_vectors(features, candidates, idf=idf, shown_only=True),
        query_members=query,
        candidate_members=candidates,
        k=k,
        max_candidates_per_feature=_cap(),
    )
    if co_enrolment is None:
        people = rules
        scores = rule_scores
        families = np.where(rules >= 0, PersonSuggestion.Family.RULES, -1)
    else:
        # A candidate who keeps their courses to themselves is matched on what they show.
        learned, learned_scores = member_neighbours(
            co_enrolment[query],
            scale_rows(co_enrolment[candidates], features.shows_courses[candidates]),
            query_members=query,
            candidate_members=candidates,
            k=k,
            max_candidates_per_feature=_cap(),
        )
        people, source = neighbours_merge(learned, rules, k=k)
        scores = np.full(people.shape, -np.inf)
        for origin, picks, picked_scores in ((0, learned, learned_scores), (1, rules, rule_scores)):
            for row in range(people.shape[0]):
                lookup = dict(zip(picks[row].tolist(), picked_scores[row].tolist(), strict=True))
                slots = np.flatnonzero(source[row] == origin)
                scores[row, slots] = [lookup[int(p)] for p in people[row, slots]]
        families = np.where(
            source == 0,
            PersonSuggestion.Family.LEARNED,
            np.where(source == 1, PersonSuggestion.Family.RULES, -1),
        )
    mapped = np.where(people >= 0, candidates[np.maximum(people, 0)], -1)
    return PeopleRows(members=query, people=mapped, scores=scores, families=families)


def people_rows_store(
    *, features: PeopleFeatures, rows: PeopleRows, now: dt.datetime, only_member_id=None
) -> int:
    """Replace the stored suggestions (all of them, or `only_member_id`'s) in one transaction.

    Members or people no longer discoverable when the transaction runs, and people the member
    hid, are left out: the table
    is locked against `people_rows_purge` first (PostgreSQL), so a switch-off committed meanwhile
    either is seen here or purges after this commits.
    """
    member_ids = features.member_ids
    objects = []
    for slot_row, member in enumerate(rows.members.tolist()):
        for rank, person in enumerate(rows.people[slot_row].tolist()):
            if person < 0:
                break
            objects.append(
                PersonSuggestion(
                    member_id=int(member_ids[member]),
                    person_id=int(member_ids[person]),
                    rank=rank,
                    score=float(rows.scores[slot_row, rank]),
                    family=int(rows.families[slot_row, rank]),
                    computed_at=now,
                )
            )
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"LOCK TABLE {PersonSuggestion._meta.db_table} IN SHARE ROW EXCLUSIVE MODE"
                )
        stored = PersonSuggestion.objects.all()
        if only_member_id is not None:
            stored = stored.filter(member_id=only_member_id)
        stored.delete()
        PersonSuggestion.objects.bulk_create(objects, batch_size=5000)
        hidden = PersonHidden.objects.filter(
            member_id=OuterRef("member_id"), person_id=OuterRef("person_id")
        )
        gone, _ = PersonSuggestion.objects.filter(
            Q(member__discoverable=False) | Q(person__discoverable=False) | Q(Exists(hidden))
        ).delete()
    return len(objects) - gone


def people_rows_purge(*, member_id: int) -> int:
    """Remove a member from every stored suggestion, theirs and others' (switched off)."""
    deleted, _ = PersonSuggestion.objects.filter(
        Q(member_id=member_id) | Q(person_id=member_id)
    ).delete()
    return deleted


def _co_enrolment_if_learned(
    interactions: sp.csr_array, discoverable: np.ndarray
) -> sp.csr_array | None:
    """IDF-weighted co-enrolment rows, when the discoverable members' interactions reach the
    threshold (the course IDF counts every member)."""
    minimum = settings.RECOMMENDATIONS["PEOPLE_LEARNED_MIN_INTERACTIONS"]
    held = interactions[discoverable]
    if held.nnz < minimum:
        return None
    return co_enrolment_vectors(interactions)


def people_suggestions_build(
    *,
    member_ids: np.ndarray,
    course_ids: np.ndarray,
    skill_ids: np.ndarray,
    idf: np.ndarray,
    interactions: Interactions,
    now: dt.datetime | None = None,
) -> dict:
    """The retrain's people stage: every discoverable member's people, stored, and measured on
    a held-out split. Returns the run's `metrics["people"]`."""
    started = time.perf_counter()
    config = settings.RECOMMENDATIONS
    features = people_features_read(skill_ids=skill_ids, course_ids=course_ids)
    # The retrain's matrices are over its own member ids; a member who joined since has an
    # empty row.
    rows_of = positions_of(member_ids, features.member_ids)
    matrix = select_rows(interactions.matrix, rows_of)
    times = select_rows(interactions.times, rows_of)
    discoverable = np.flatnonzero(features.discoverable)
    co_enrolment = _co_enrolment_if_learned(matrix, discoverable)
    rows = people_rows_compute(
        features=features,
        idf=idf,
        query=discoverable,
        candidates=discoverable,
        co_enrolment=co_enrolment,
        k=config["PEOPLE_PER_MEMBER"],
    )
    computed = time.perf_counter()
    stored = people_rows_store(features=features, rows=rows, now=now or timezone.now())
    written = time.perf_counter()
    evaluation = people_evaluate(features=features, matrix=matrix, times=times, idf=idf)
    return {
        "mode": "learned" if co_enrolment is not None else "rules",
        "discoverable_members": int(discoverable.size),
        "rows": stored,
        "members_with_people": int(np.count_nonzero(rows.people[:, 0] >= 0))
        if rows.people.size
        else 0,
        "compute_seconds": computed - started,
        "store_seconds": written - computed,
        "evaluation": evaluation,
        "evaluation_seconds": time.perf_counter() - written,
    }


def people_member_refresh(
    *, member_id: int, skill_ids: np.ndarray, course_ids: np.ndarray, idf: np.ndarray
) -> int:
    """One member's people at once (they switched discoverability on): rule-based among the
    discoverable members; learned ones come with the next retrain. Returns the rows stored."""
    features = people_features_read(
        skill_ids=skill_ids, course_ids=course_ids, only_member_id=member_id
    )
    position = int(positions_of(features.member_ids, np.array([member_id]))[0])
    if position < 0 or not features.discoverable[position]:
        return 0
    rows = people_rows_compute(
        features=features,
        idf=idf,
        query=np.array([position]),
        candidates=np.flatnonzero(features.discoverable),
        co_enrolment=None,
        k=settings.RECOMMENDATIONS["PEOPLE_PER_MEMBER"],
    )
    return people_rows_store(
        features=features, rows=rows, now=timezone.now(), only_member_id=member_id
    )


def people_evaluate(
    *, features: PeopleFeatures, matrix: sp.csr_array, times: sp.csr_array, idf: np.ndarray
) -> dict:
    """Hit rate at k of suggested people on a held-out split: each evaluated member's latest
    interaction (by `times`) is held out,
    and a hit is a suggested person who has that course. Learned (co-enrolment), the rule-based
    fallback and random people, over the same members and candidates. Every member counts here,
    discoverable or not: it measures the method, and nothing is shown or stored."""
    config = settings.RECOMMENDATIONS
    k = config["EVALUATION_K"]
    rng = np.random.default_rng(config["SEED"])
    train, test = engine.holdout_split(
        matrix, min_interactions=2, n_last=1, seed=config["SEED"], by_time=times
    )
    evaluated = np.flatnonzero(np.diff(test.indptr) > 0)
    if evaluated.size > config["PEOPLE_EVALUATION_MEMBERS"]:
        evaluated = np.sort(
            rng.choice(evaluated, config["PEOPLE_EVALUATION_MEMBERS"], replace=False)
        )
    active = np.flatnonzero(np.diff(train.indptr) > 0)
    candidates = active
    if candidates.size > config["PEOPLE_EVALUATION_CANDIDATES"]:
        candidates = np.sort(
            rng.choice(candidates, config["PEOPLE_EVALUATION_CANDIDATES"], replace=False)
        )
    if evaluated.size == 0 or candidates.size == 0:
        return {"k": k, "members_evaluated": 0, "candidates": int(candidates.size)}
    held_out = test.indices[test.indptr[evaluated]].astype(np.int64)
    candidate_courses = as_csr(matrix)[candidates]
    # The held-out course leaves the member's own courses in progress too.
    in_progress = as_csr(features.in_progress - features.in_progress.multiply(presence(test)))
    co_enrolment = co_enrolment_vectors(train)
    learned, _ = member_neighbours(
        co_enrolment[evaluated],
        co_enrolment[candidates],
        query_members=evaluated,
        candidate_members=candidates,
        k=k,
        max_candidates_per_feature=_cap(),
    )
    rules, _ = member_neighbours(
        _rule_vectors(features, evaluated, idf=idf, shown_only=False, in_progress=in_progress),
        _rule_vectors(features, candidates, idf=idf, shown_only=False),
        query_members=evaluated,
        candidate_members=candidates,
        k=k,
        max_candidates_per_feature=_cap(),
    )
    random_people = rng.integers(0, candidates.size, size=(evaluated.size, k))

    def rate(neighbours: np.ndarray) -> float:
        return people_hit_rate(neighbours, held_out=held_out, candidate_courses=candidate_courses)

    return {
        "k": k,
        "members_evaluated": int(evaluated.size),
        "candidates": int(candidates.size),
        "hit_rate": {
            "learned": rate(learned),
            "rules": rate(rules),
            "random": rate(random_people),
        },
    }
