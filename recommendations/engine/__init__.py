"""Django-free numeric core of the recommendation engine.

Pure, deterministic functions over numpy arrays and scipy.sparse matrices. Members, skills and
courses are indices 0..n-1 (the Django side maps ids to indices); -1 means "none" wherever an
index array allows it. Sparse results are canonical ``scipy.sparse.csr_array``. See README.md.
"""

from recommendations.engine.affinity import (
    affinity_scores,
    cohort_skill_profiles,
    member_cohort_vectors,
    member_skill_vectors,
    skill_contributions,
    skill_idf,
    top_contributing_skill,
)
from recommendations.engine.diversity import round_robin_by_bucket, skill_set_bucket_ids
from recommendations.engine.popularity import (
    cohort_popularity_scores,
    cohort_trending_scores,
    decay_weights,
    popularity_scores,
    recency_scores,
    to_seconds,
    trending_scores,
)
from recommendations.engine.ranking import (
    argmax_reasons,
    ctr_with_prior,
    impression_discount,
    order_by_ctr,
    rank_scale,
)
from recommendations.engine.similarity import (
    because_you_watched,
    course_similarity_by_skills,
    most_recent_course,
)
from recommendations.engine.sparse_ops import (
    as_csr,
    group_matrix,
    l2_normalize_rows,
    presence,
    row_argmax,
    select_rows,
    top_k_per_row,
)

__all__ = [
    "affinity_scores",
    "argmax_reasons",
    "as_csr",
    "because_you_watched",
    "cohort_popularity_scores",
    "cohort_skill_profiles",
    "cohort_trending_scores",
    "course_similarity_by_skills",
    "ctr_with_prior",
    "decay_weights",
    "group_matrix",
    "impression_discount",
    "l2_normalize_rows",
    "member_cohort_vectors",
    "member_skill_vectors",
    "most_recent_course",
    "order_by_ctr",
    "popularity_scores",
    "presence",
    "rank_scale",
    "recency_scores",
    "round_robin_by_bucket",
    "row_argmax",
    "select_rows",
    "skill_contributions",
    "skill_idf",
    "skill_set_bucket_ids",
    "to_seconds",
    "top_contributing_skill",
    "top_k_per_row",
    "trending_scores",
]
