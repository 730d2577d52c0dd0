"""Numbers typed by people: ids and whole numbers read from query strings, forms, URLs and files.

`int()` takes more than a form should: `int("٣")` is 3 and `"²".isdigit()` is true but `int("²")`
raises, a 5,000-digit string raises (Python refuses to convert more than 4,300 digits), and a
20-digit id overflows the database driver. Everything the project parses from people goes
through `whole_number_parse`: ASCII decimal digits only (`str.isdecimal()` and `str.isascii()`:
no sign, spaces, superscripts or other scripts' digits), at most as many digits as the largest
value allowed, and within it. Ids are database keys: 1 to 2**63 - 1, which every backend's
64-bit integer column holds.
"""

from collections.abc import Iterable

from django import forms
from django.core.exceptions import ValidationError
from django.urls import register_converter

MAX_ID = 2**63 - 1
# How much of a refused value an error message repeats.
SHOWN_CHARACTERS = 24


def whole_number_parse(raw: object, *, min_value: int = 0, max_value: int) -> int | None:
    """`raw` as an int when it is ASCII decimal digits within [min_value, max_value], else None."""
    text = str(raw)
    if not (text.isascii() and text.isdecimal()) or len(text) > len(str(max_value)):
        return None
    value = int(text)
    return value if min_value <= value <= max_value else None


def id_parse(raw: object) -> int | None:
    """A database id (1 to 2**63 - 1) written in ASCII decimal digits, else None."""
    return whole_number_parse(raw, min_value=1, max_value=MAX_ID)


def ids_parse(raws: Iterable[object]) -> set[int]:
    """The values of `raws` that are ids; the others are left out."""
    return {value for value in map(id_parse, raws) if value is not None}


def value_shown(raw: object) -> str:
    """`raw` for an error message: cut short, so a 10,000-character value is not echoed."""
    text = str(raw).replace("\x00", "\\x00")
    return text if len(text) <= SHOWN_CHARACTERS else f"{text[:SHOWN_CHARACTERS]}…"


class IdConverter:
    """The `<id:...>` path converter: a database id of at most 18 digits (so always within a
    64-bit integer); anything else, an oversized id included, does not match and is a 404
    rather than an overflow inside the database driver."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")


class IdModelChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField over a model whose key is an id: a value that is not an id is an
    invalid choice before the database is asked."""

    def to_python(self, value):
        if value not in self.empty_values and id_parse(value) is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class IdModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """A ModelMultipleChoiceField over ids: each value that is not an id is refused with the
    field's `invalid_pk_value` message, the value cut short, before the database is asked."""

    def _check_values(self, value):
        for pk in value if isinstance(value, list | tuple) else [value]:
            if id_parse(pk) is None:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": value_shown(pk)},
                )
        return super()._check_values(value)


class IdListField(forms.Field):
    """Several ids under one name (`?skills=3&skills=7`), cleaned into a list of ints; one value
    that is not an id makes the field invalid, naming it."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": "“%(value)s” is not an id."}

    def to_python(self, value) -> list[int]:
        if value in self.empty_values:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        ids = []
        for raw in values:
            parsed = id_parse(raw)
            if parsed is None:
                raise ValidationError(
                    self.error_messages["invalid"],
                    code="invalid",
                    params={"value": value_shown(raw)},
                )
            ids.append(parsed)
        return ids
