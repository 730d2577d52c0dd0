"""`{% fixed_url 'name' %}`: `{% url 'name' %}` for a route without arguments, reversed once
per process (core/url_patterns.py). For the navigation every page repeats."""

from django import template

from core.url_patterns import url_fixed

register = template.Library()


@register.simple_tag
def fixed_url(viewname: str) -> str:
    return url_fixed(viewname)
