"""The Jinja2 environment behind `engines["jinja2"]` (see TEMPLATES in settings)."""

from typing import Any

import jinja2


def environment(**options: Any) -> jinja2.Environment:
    """Autoescaping on whatever the options say, and a missing variable is an error.

    The templates are HTML fragments that show user text (course titles, teachers), so escaping
    is not left to a default. StrictUndefined turns a misspelt attribute into an exception in
    the tests instead of an empty attribute on the page. Nothing is added to the globals: the
    cards get their URLs and CSRF input from the caller, worked out once per response
    (`recommendations.serving.rendering`), not per card.
    """
    options["autoescape"] = True
    options["undefined"] = jinja2.StrictUndefined
    options.setdefault("trim_blocks", True)
    options.setdefault("lstrip_blocks", True)
    return jinja2.Environment(**options)
