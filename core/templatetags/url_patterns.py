"""Links from routes reversed once per process (core/url_patterns.py):

- `{% fixed_url 'name' %}`: `{% url 'name' %}` for a route without arguments, for the
  navigation every page repeats;
- `{% slug_url 'name' slug %}`: `{% url 'name' slug %}` for a route whose one argument is
  `<slug:slug>`, for pages that link many (a course page's skills and activity forms: ten
  reversals a view, a tenth of its time).
"""

from django import template

from core.url_patterns import url_fixed, url_slug

register = template.Library()


@register.simple_tag
def fixed_url(viewname: str) -> str:
    return url_fixed(viewname)


@register.simple_tag
def slug_url(viewname: str, slug: str) -> str:
    return url_slug(viewname, slug)
