"""Reading the homepage's impression and click counts back, for tests that compare them."""

from recommendations.models import CourseFeedbackDay, ReasonFeedback


def feedback_counts_read() -> dict[str, list[tuple]]:
    return {
        "course_days": sorted(
            CourseFeedbackDay.objects.values_list(
                "member_id", "course_id", "day", "impressions", "clicks"
            )
        ),
        "reasons": sorted(
            ReasonFeedback.objects.values_list("member_id", "reason", "impressions", "clicks")
        ),
    }
