"""Template filters of the course card (`templates/_course_card.html`)."""

from django import template

from catalog.models import Course
from core.url_patterns import url_pattern

register = template.Library()


@register.filter
def card_skill_names(course: Course) -> list[str]:
    """The names of the approved skills a card lists, most confident first: from `card_skills`
    (`selectors.course_cards_by_id`, the card cache) or `card_skill_tags`
    (`selectors.course_card_skills_prefetch`); none when neither was read."""
    skills = getattr(course, "card_skills", None)
    if skills is not None:
        return [skill["name"] for skill in skills]
    return [tag.skill.name for tag in getattr(course, "card_skill_tags", None) or ()]


@register.filter
def course_detail_url(course: Course) -> str:
    """`{% url 'web:course_detail' course.slug %}`, from the route's pattern reversed once
    (core/url_patterns.py): a page lists many cards. Slugs ([-a-zA-Z0-9_]) need no quoting."""
    return url_pattern("web:course_detail", "slug").format(slug=course.slug)
