"""URLs as `str.format` patterns, reversed once per process instead of once per link.

`reverse` walks the URL resolver on every call (20–40 µs, with language and script-prefix
lookups). A page of links to the same routes (a course page's similar courses, the navigation
of every page, a homepage's hundred cards) pays that for each link. `url_pattern` reverses a
route once with stand-in arguments and keeps the result per script prefix and URLconf, the two
things besides the route that `reverse` reads here (the site has no translated URL patterns);
each link is then one `str.format`.
"""

import functools
import uuid

from django.urls import get_script_prefix, get_urlconf, reverse

# Stand-ins reversed in place of real arguments; each must come out of `reverse` verbatim and
# be unlikely to occur in a URL prefix (a short number like 0 or 1 could).
_SENTINELS: dict[str, object] = {
    "course_id": 918_273_645,
    "page_view_id": uuid.UUID("c0ffee00-5e17-4e15-8e17-c0ffee005e17"),
    "slug": "card-slug-sentinel",
}


def url_format_reverse(*, viewname: str, arguments: tuple[str, ...]) -> str:
    """`reverse(viewname)` as a `str.format` pattern with one field per named argument.

    Formatting the pattern gives what `reverse` gives for those arguments (the same patterns,
    script prefix and converters), for arguments that `reverse` leaves as they are: ids, UUIDs
    and slugs. Refused (ValueError) when a stand-in does not come out of the reversed URL
    exactly once, so a changed pattern fails loudly, not silently.
    """
    url = reverse(viewname, kwargs={name: _SENTINELS[name] for name in arguments})
    for name in arguments:
        if url.count(str(_SENTINELS[name])) != 1:
            raise ValueError(f"{viewname}: the {name} stand-in is not in {url!r} exactly once")
    pattern = url.replace("{", "{{").replace("}", "}}")
    for name in arguments:
        pattern = pattern.replace(str(_SENTINELS[name]), "{" + name + "}")
    return pattern


def url_pattern(viewname: str, *arguments: str) -> str:
    """`url_format_reverse`, kept per process for the current script prefix and URLconf."""
    return _url_pattern(viewname, arguments, get_script_prefix(), get_urlconf())


@functools.lru_cache(maxsize=256)
def _url_pattern(viewname: str, arguments: tuple[str, ...], _prefix: str, _urlconf) -> str:
    return url_format_reverse(viewname=viewname, arguments=arguments)


def url_fixed(viewname: str) -> str:
    """The URL of a route without arguments, as `reverse(viewname)` gives it."""
    # A pattern without fields: only the braces escaped for format are to undo.
    return url_pattern(viewname).format()


def url_slug(viewname: str, slug: str) -> str:
    """The URL of a route whose one argument is `<slug:slug>`, as `reverse` gives it: a slug
    ([-a-zA-Z0-9_], all that converter matches) comes out of `reverse` as it is."""
    return url_pattern(viewname, "slug").format(slug=slug)
