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
import psycopg
import scipy.sparse as sp
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
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
from recommendations.models import PersonHidden, PersonSuggestion, TrainingRun
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


def _members_where(*, member_ids: np.ndarray | None, also_member_id: int | None):
    """The WHERE clause picking the members to read, and its parameters."""
    if member_ids is None:
        if also_member_id is None:
            return " WHERE m.discoverable", []
        return " WHERE (m.discoverable OR m.id = %s)", [also_member_id]
    ids = np.asarray(member_ids, dtype=np.int64)
    if connection.vendor == "postgresql":
        return " WHERE m.id = ANY(%s)", [ids.tolist()]
    # SQLite caps bound parameters; integers from an int64 array are safe to inline.
    return f" WHERE m.id IN ({','.join(map(str, ids.tolist())) or 'NULL'})", []


def people_features_read(
    *,
    skill_ids: np.ndarray,
    course_ids: np.ndarray,
    also_member_id: int | None = None,
    member_ids: np.ndarray | None = None,
) -> PeopleFeatures:
    """The discoverable members' features (one query per table), with `also_member_id`'s too
    (a single member's refresh), or with `member_ids` those members' (the evaluation's sample).
    Never every member's: at a million members their followed skills and courses in progress
    are most of the read, and only discoverable members are suggested or get suggestions."""
    where, params = _members_where(member_ids=member_ids, also_member_id=also_member_id)
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
    in_progress_where = " WHERE e.completed_at IS NULL" + where.replace(" WHERE", " AND")
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
    """Rule features of `rows`; `shown_only` (candidates) keeps only what each one shows;
    `in_progress` (one row per `rows`) stands in for their courses in progress."""
    rows = np.asarray(rows, dtype=np.int64)
    followed = features.followed[rows]
    progress = in_progress if in_progress is not None else features.in_progress[rows]
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
    learned_first: bool = True,
) -> PeopleRows:
    """The `k` people of each `query` member among `candidates` (positions into `features`):
    with `co_enrolment` (rows per feature member) the learned neighbours and the rule picks
    merged, the learned first unless `learned_first` is off (the held-out measurement found the
    rules better on this site), else the rule picks only."""
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
        first, second = (PersonSuggestion.Family.LEARNED, PersonSuggestion.Family.RULES)
        if learned_first:
            people, scores, source = neighbours_merge(
                learned, learned_scores, rules, rule_scores, k=k
            )
        else:
            first, second = second, first
            people, scores, source = neighbours_merge(
                rules, rule_scores, learned, learned_scores, k=k
            )
        families = np.where(source == 0, first, np.where(source == 1, second, -1))
    mapped = np.where(people >= 0, candidates[np.maximum(people, 0)], -1)
    return PeopleRows(members=query, people=mapped, scores=scores, families=families)


# Rows per INSERT on PostgreSQL: a few MB of binary parameters a statement.
WRITE_CHUNK_ROWS = 20_000


@dataclass(frozen=True)
class StoredColumns:
    """The rows to store as one array per column (database ids), in rank order per member."""

    member: np.ndarray
    person: np.ndarray
    rank: np.ndarray
    score: np.ndarray
    family: np.ndarray

    def take(self, keep: np.ndarray) -> "StoredColumns":
        return StoredColumns(
            member=self.member[keep],
            person=self.person[keep],
            rank=self.rank[keep],
            score=self.score[keep],
            family=self.family[keep],
        )


def _stored_columns(*, features: PeopleFeatures, rows: PeopleRows) -> StoredColumns:
    """Every member's people up to their first pad, as columns (no Python object per row)."""
    people = rows.people
    n_rows, k = people.shape
    held = np.logical_and.accumulate(people >= 0, axis=1) if people.size else people >= 0
    member_ids = features.member_ids
    return StoredColumns(
        member=member_ids[np.repeat(rows.members, k).reshape(n_rows, k)[held]],
        person=member_ids[people[held]],
        rank=np.broadcast_to(np.arange(k), (n_rows, k))[held],
        score=rows.scores[held].astype(np.float64),
        family=rows.families[held],
    )


def _shown_pairs(columns: StoredColumns, *, only_member_id: int | None) -> np.ndarray:
    """Which rows may be stored now: both sides discoverable, and the person not hidden by the
    member. Reads the discoverable members' ids and the hidden pairs (the member's only, for
    one member's refresh) once, and filters in numpy."""
    discoverable = query_arrays(
        columns=[("id", "m.id", "int")],
        source=f"{Member._meta.db_table} m WHERE m.discoverable",
        order_by="m.id",
    )["id"]
    member_at = positions_of(discoverable, columns.member)
    person_at = positions_of(discoverable, columns.person)
    keep = (member_at >= 0) & (person_at >= 0)
    where, params = "", []
    if only_member_id is not None:
        where, params = " WHERE h.member_id = %s", [only_member_id]
    hidden = query_arrays(
        columns=[("member", "h.member_id", "int"), ("person", "h.person_id", "int")],
        source=f"{PersonHidden._meta.db_table} h{where}",
        params=params,
    )
    hidden_member = positions_of(discoverable, hidden["member"])
    hidden_person = positions_of(discoverable, hidden["person"])
    both = (hidden_member >= 0) & (hidden_person >= 0)
    # A pair as one key over positions among the discoverable (n² fits int64 up to 3e9).
    n = discoverable.size
    hidden_keys = hidden_member[both] * n + hidden_person[both]
    if hidden_keys.size:
        keys = np.where(keep, member_at * n + person_at, -1)
        keep &= ~np.isin(keys, hidden_keys)
    return keep


def _columns_insert(columns: StoredColumns, *, now: dt.datetime) -> None:
    """Insert the rows: on PostgreSQL one `INSERT ... SELECT FROM unnest(...)` per
    `WRITE_CHUNK_ROWS` rows with binary parameters, elsewhere (SQLite) through the ORM."""
    if connection.vendor != "postgresql":
        PersonSuggestion.objects.bulk_create(
            [
                PersonSuggestion(
                    member_id=member,
                    person_id=person,
                    rank=rank,
                    score=score,
                    family=family,
                    computed_at=now,
                )
                for member, person, rank, score, family in zip(
                    columns.member.tolist(),
                    columns.person.tolist(),
                    columns.rank.tolist(),
                    columns.score.tolist(),
                    columns.family.tolist(),
                    strict=True,
                )
            ],
            batch_size=5000,
        )
        return
    statement = (
        f"INSERT INTO {PersonSuggestion._meta.db_table} "
        "(member_id, person_id, rank, score, family, computed_at) "
        "SELECT t.member_id, t.person_id, t.rank, t.score, t.family, %s "
        "FROM unnest(%b::bigint[], %b::bigint[], %b::smallint[], %b::float8[], %b::smallint[]) "
        "AS t(member_id, person_id, rank, score, family)"
    )
    connection.ensure_connection()
    # psycopg's own cursor binds server-side and sends the arrays in binary.
    with psycopg.Cursor(connection.connection) as cursor:
        for start in range(0, columns.member.size, WRITE_CHUNK_ROWS):
            chunk = slice(start, start + WRITE_CHUNK_ROWS)
            cursor.execute(
                statement,
                [
                    now,
                    columns.member[chunk].tolist(),
                    columns.person[chunk].tolist(),
                    columns.rank[chunk].tolist(),
                    columns.score[chunk].tolist(),
                    columns.family[chunk].tolist(),
                ],
            )


def people_rows_store(
    *,
    features: PeopleFeatures,
    rows: PeopleRows,
    now: dt.datetime,
    only_member_id: int | None = None,
) -> int:
    """Replace the stored suggestions (all of them, or `only_member_id`'s) in one transaction.
    Returns the rows stored.

    Members or people no longer discoverable when the transaction runs, and people the member
    hid, are left out before inserting (`_shown_pairs`): the table is locked against
    `people_rows_purge` first (PostgreSQL), so a switch-off committed meanwhile either is seen
    by that read or purges after this commits.
    """
    columns = _stored_columns(features=features, rows=rows)
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
        columns = columns.take(_shown_pairs(columns, only_member_id=only_member_id))
        _columns_insert(columns, now=now)
    if only_member_id is None and connection.vendor == "postgresql":
        # The whole table was replaced: fresh statistics at once, not at autovacuum's next
        # pass. With the old ones (an empty table's, after the first retrain) PostgreSQL read
        # a member's people by scanning every discoverable member: 16 ms a page instead of 0.4.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {PersonSuggestion._meta.db_table}")
    return int(columns.member.size)


def people_rows_purge(*, member_id: int) -> int:
    """Remove a member from every stored suggestion, theirs and others' (switched off)."""
    deleted, _ = PersonSuggestion.objects.filter(
        Q(member_id=member_id) | Q(person_id=member_id)
    ).delete()
    return deleted


def _co_enrolment_if_learned(
    interactions: sp.csr_array, rows: np.ndarray, discoverable: np.ndarray
) -> sp.csr_array | None:
    """IDF-weighted co-enrolment rows of the feature members (`rows`: their rows of the
    retrain's `interactions`, -1 for one who joined since), when the discoverable members'
    interactions reach the threshold (the course IDF counts every member)."""
    minimum = settings.RECOMMENDATIONS["PEOPLE_LEARNED_MIN_INTERACTIONS"]
    counts = np.diff(interactions.indptr)
    held = rows[discoverable]
    if int(counts[held[held >= 0]].sum()) < minimum:
        return None
    known = rows >= 0
    vectors = co_enrolment_vectors(interactions, rows=rows[known])
    if known.all():
        return vectors
    # A member who joined since the retrain read its activity: an empty row.
    return select_rows(vectors, np.where(known, np.cumsum(known) - 1, -1))


def people_measurement_stored() -> dict | None:
    """The last people measurement (`metrics["people"]["evaluation"]` with its `measured_at`)
    of the newest succeeded run holding one: a run that does not measure carries it forward."""
    for people in (
        TrainingRun.objects.filter(
            status=TrainingRun.Status.SUCCEEDED, metrics__people__evaluation__has_key="measured_at"
        )
        .order_by("-pk")
        .values_list("metrics__people", flat=True)[:1]
    ):
        return people["evaluation"]
    return None


def people_measurement_due(
    *, stored: dict | None, interactions: int, requested: bool
) -> str | None:
    """Why this retrain measures the people suggestions (None: it reports `stored`). As for
    the course models (`learned.search_due`): on a search retrain (`requested`), when none was
    stored or it evaluated nobody, or when interactions grew by `SEARCH_GROWTH_SHARE` since."""
    if requested:
        return "a search retrain"
    if stored is None:
        return "no earlier measurement"
    if not stored.get("members_evaluated"):
        return "the earlier measurement evaluated nobody"
    growth = settings.RECOMMENDATIONS["SEARCH_GROWTH_SHARE"]
    if interactions >= stored.get("interactions", 0) * (1.0 + growth):
        return (
            f"interactions grew from {stored.get('interactions', 0)} to {interactions} "
            f"(at least {growth:.0%})"
        )
    return None


def people_learned_first(evaluation: dict | None) -> bool:
    """Whether the learned neighbours lead each member's list: unless the last held-out
    measurement found the rule-based picks' hit rate higher on this site's data (the order is
    chosen per data set, as the course model's family is)."""
    rates = (evaluation or {}).get("hit_rate") or {}
    if "learned" not in rates or "rules" not in rates:
        return True
    return rates["learned"] >= rates["rules"]


def people_suggestions_build(
    *,
    member_ids: np.ndarray,
    course_ids: np.ndarray,
    skill_ids: np.ndarray,
    idf: np.ndarray,
    interactions: Interactions,
    now: dt.datetime | None = None,
    measure_requested: bool = False,
) -> dict:
    """The retrain's people stage: every discoverable member's people, stored, and measured on
    a held-out split when due (`people_measurement_due`; else the stored measurement is
    reported). Returns the run's `metrics["people"]`."""
    started = time.perf_counter()
    config = settings.RECOMMENDATIONS
    now = now or timezone.now()
    features = people_features_read(skill_ids=skill_ids, course_ids=course_ids)
    discoverable = np.flatnonzero(features.discoverable)
    # The retrain's matrices are over its own member ids; a member who joined since has an
    # empty row.
    co_enrolment = _co_enrolment_if_learned(
        interactions.matrix, positions_of(member_ids, features.member_ids), discoverable
    )
    evaluation = evaluation_used = people_measurement_stored()
    rows = people_rows_compute(
        features=features,
        idf=idf,
        query=discoverable,
        candidates=discoverable,
        co_enrolment=co_enrolment,
        k=config["PEOPLE_PER_MEMBER"],
        learned_first=people_learned_first(evaluation_used),
    )
    computed = time.perf_counter()
    stored = people_rows_store(features=features, rows=rows, now=now)
    written = time.perf_counter()
    why = people_measurement_due(
        stored=evaluation, interactions=interactions.nnz, requested=measure_requested
    )
    if why is not None:
        evaluation = {
            **people_evaluate(
                member_ids=member_ids,
                matrix=interactions.matrix,
                times=interactions.times,
                skill_ids=skill_ids,
                course_ids=course_ids,
                idf=idf,
            ),
            "interactions": interactions.nnz,
            "measured_at": now.isoformat(),
        }
    return {
        "mode": "learned" if co_enrolment is not None else "rules",
        "learned_first": co_enrolment is not None and people_learned_first(evaluation_used),
        "discoverable_members": int(discoverable.size),
        "rows": stored,
        "members_with_people": int(np.count_nonzero(rows.people[:, 0] >= 0))
        if rows.people.size
        else 0,
        "compute_seconds": computed - started,
        "store_seconds": written - computed,
        "evaluation": evaluation,
        "evaluation_why": why,
        "evaluation_seconds": time.perf_counter() - written,
    }


def people_member_refresh(
    *, member_id: int, skill_ids: np.ndarray, course_ids: np.ndarray, idf: np.ndarray
) -> int:
    """One member's people at once (they switched discoverability on): rule-based among the
    discoverable members; learned ones come with the next retrain. Returns the rows stored."""
    features = people_features_read(
        skill_ids=skill_ids, course_ids=course_ids, also_member_id=member_id
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


def _without_entries(matrix: sp.csr_array, *, rows: np.ndarray, columns: np.ndarray):
    """A copy of canonical `matrix` without the entry (rows[i], columns[i]) of each i."""
    out = matrix.copy()
    for row, column in zip(rows.tolist(), columns.tolist(), strict=True):
        start, end = out.indptr[row], out.indptr[row + 1]
        out.data[start + np.searchsorted(out.indices[start:end], column)] = 0.0
    out.eliminate_zeros()
    return out


def people_evaluate(
    *,
    member_ids: np.ndarray,
    matrix: sp.csr_array,
    times: sp.csr_array,
    skill_ids: np.ndarray,
    course_ids: np.ndarray,
    idf: np.ndarray,
) -> dict:
    """Hit rate at k of suggested people on a held-out split: each evaluated member's latest
    interaction (by `times`) is held out, and a hit is a suggested person who has that course.
    Learned (co-enrolment), the rule-based fallback and random people, over the same members
    and candidates: at most `PEOPLE_EVALUATION_MEMBERS` members among at most
    `PEOPLE_EVALUATION_CANDIDATES`, whose features alone are read. Every member counts here,
    discoverable or not: it measures the method, and nothing is shown or stored. `matrix` and
    `times` are the retrain's (rows `member_ids`)."""
    config = settings.RECOMMENDATIONS
    k = config["EVALUATION_K"]
    rng = np.random.default_rng(config["SEED"])
    matrix, times = as_csr(matrix, copy=False), as_csr(times, copy=False)
    counts = np.diff(matrix.indptr)
    # Members with a course to hold out and one left; candidates, everyone with a course left.
    evaluated = np.flatnonzero(counts >= 2)
    if evaluated.size > config["PEOPLE_EVALUATION_MEMBERS"]:
        evaluated = np.sort(
            rng.choice(evaluated, config["PEOPLE_EVALUATION_MEMBERS"], replace=False)
        )
    candidates = np.flatnonzero(counts >= 1)
    if candidates.size > config["PEOPLE_EVALUATION_CANDIDATES"]:
        candidates = np.sort(
            rng.choice(candidates, config["PEOPLE_EVALUATION_CANDIDATES"], replace=False)
        )
    sample = np.union1d(evaluated, candidates)
    features = people_features_read(
        skill_ids=skill_ids, course_ids=course_ids, member_ids=member_ids[sample]
    )
    # Members deleted since the retrain read its activity have no features: left out.
    feature_at = positions_of(features.member_ids, member_ids)
    evaluated = evaluated[feature_at[evaluated] >= 0]
    candidates = candidates[feature_at[candidates] >= 0]
    if evaluated.size == 0 or candidates.size == 0:
        return {"k": k, "members_evaluated": 0, "candidates": int(candidates.size)}
    # Only the evaluated members' rows are split (each holds out its latest course): the whole
    # matrix's split would sort every interaction (gigabytes of keys at 20 M) to measure a
    # few thousand members.
    _, test = engine.holdout_split(
        matrix[evaluated],
        min_interactions=2,
        n_last=1,
        seed=config["SEED"],
        by_time=times[evaluated],
    )
    held_out = test.indices[test.indptr[:-1]].astype(np.int64)
    train = _without_entries(matrix, rows=evaluated, columns=held_out)
    candidate_courses = matrix[candidates]
    # The held-out course leaves the member's own courses in progress too.
    evaluated_progress = features.in_progress[feature_at[evaluated]]
    in_progress = as_csr(evaluated_progress - evaluated_progress.multiply(presence(test)))
    co_enrolment = co_enrolment_vectors(train, rows=sample)
    learned, _ = member_neighbours(
        co_enrolment[np.searchsorted(sample, evaluated)],
        co_enrolment[np.searchsorted(sample, candidates)],
        query_members=evaluated,
        candidate_members=candidates,
        k=k,
        max_candidates_per_feature=_cap(),
    )
    rules, _ = member_neighbours(
        _rule_vectors(
            features, feature_at[evaluated], idf=idf, shown_only=False, in_progress=in_progress
        ),
        _rule_vectors(features, feature_at[candidates], idf=idf, shown_only=False),
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
