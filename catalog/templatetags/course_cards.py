"""The course card (`templates/_course_card.html`): its filters, and `{% course_card %}`, the
card rendered once per process for each distinct content."""

from dataclasses import dataclass

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from catalog.models import Course
from core.bounded_caches import older_half_drop
from core.url_patterns import url_slug

register = template.Library()

# Distinct cards kept per process, about 600 bytes each: more than a catalog of ten thousand
# courses needs (a course page shows six of them), and a bound for one whose courses keep being
# edited (each edit makes a new card). When full, the older half is dropped.
CARD_CACHE_SIZE = 16384


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
    (core/url_patterns.py): a page lists many cards."""
    return url_slug("web:course_detail", course.slug)


@dataclass(frozen=True, slots=True)
class _CardContent:
    """Everything `_course_card.html` shows of a course (without `extra`): the cache's key, so
    a course edited since shows its new card at once, with nothing to invalidate."""

    pk: int
    slug: str
    title: str
    level: str
    duration_minutes: int
    teacher: str
    skill_names: tuple[str, ...]


_cards: dict[_CardContent, SafeString] = {}


@register.simple_tag
def course_card(course: Course) -> SafeString:
    """`{% include "_course_card.html" %}` for `course`, without `extra`: the include's output,
    rendered the first time this process shows a card with this content and kept.

    A page of cards paid the include for each (a template, a `with`, a loop and five filters):
    a third of a course page's template time for its six similar courses. The DTL template
    stays the one place the card's markup is written."""
    content = _CardContent(
        pk=course.pk,
        slug=course.slug,
        title=course.title,
        level=course.level_label,
        duration_minutes=course.duration_minutes,
        teacher=course.teacher,
        skill_names=tuple(card_skill_names(course)),
    )
    html = _cards.get(content)
    if html is None:
        # Threads racing on one card both render it, to the same markup.
        html = render_to_string("_course_card.html", {"course": course})
        if len(_cards) >= CARD_CACHE_SIZE:
            older_half_drop(_cards)
        _cards[content] = html
    return html
