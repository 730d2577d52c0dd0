"""The homepage's "Continue learning" row: the courses the member started and has not finished,
the most recently watched (else enrolled) first, before every recommendation carousel.

Not a recommendation, so it takes no part in choosing reasons, the ranker or exploration, and
does not count against the carousel limit; its cards are logged as impressions like any other
(reason `continue`), without an experiment variant, and the ranker does not learn from them.
It is built from the member's serving inputs (`inputs.in_progress`): no query of its own.
"""

from django.conf import settings

from recommendations.data import REASON_CONTINUE
from recommendations.serving.inputs import MemberServingInputs
from recommendations.serving.stored_pages import LayoutRow

CONTINUE_LABEL = "Continue learning"


def continue_learning_row(*, inputs: MemberServingInputs) -> LayoutRow | None:
    """The row's layout (reason, key, label, course ids, rank scores: k-th = 1/k, and no
    explanations yet), at most `CAROUSEL_SIZE` courses; None when nothing is in progress."""
    course_ids = [course_id for course_id, _ in inputs.in_progress][
        : settings.RECOMMENDATIONS["CAROUSEL_SIZE"]
    ]
    if not course_ids:
        return None
    scores = [1.0 / rank for rank in range(1, len(course_ids) + 1)]
    return (REASON_CONTINUE, REASON_CONTINUE, CONTINUE_LABEL, course_ids, scores, None)
