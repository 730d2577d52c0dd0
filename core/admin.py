"""The base of the project's model admins: Django's ModelAdmin with its inputs checked.

Django's admin takes a change form's initial values from the query string unchecked (a date, a
related id) and renders them, so ``?published_at=x`` or ``?skills=²`` on an add page was a 500;
an autocomplete box re-rendering a refused id looked it up and crashed; and on SQLite an id beyond
64 bits in a path or a multiple choice reaches the database driver, which raises OverflowError
instead of finding nothing. Here those are dropped or refused as the field's own validation error.
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest


class BoundedModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    def _check_values(self, value):
        try:
            return super()._check_values(value)
        except OverflowError:
            raise ValidationError(
                self.error_messages["invalid_pk_value"],
                code="invalid_pk_value",
                params={"pk": "(too large)"},
            ) from None


class _KnownIdsOnly:
    """An autocomplete widget that shows only the selected values that are ids of its model: a
    refused form renders again with what was posted, and Django's widget looks every posted value
    up as an id."""

    def optgroups(self, name, value, attr=None):
        field = self.choices.field
        model = field.queryset.model
        key = model._meta.get_field(field.to_field_name) if field.to_field_name else model._meta.pk
        return super().optgroups(name, [v for v in value if _is_id(key, v)], attr)


def _is_id(key: models.Field, value: Any) -> bool:
    try:
        # run_validators: an integer key's validators hold the database's range.
        key.run_validators(key.get_prep_value(key.to_python(value)))
    except (ValidationError, ValueError, TypeError):
        return False
    return True


class CheckedAutocompleteSelect(_KnownIdsOnly, AutocompleteSelect):
    pass


class CheckedAutocompleteSelectMultiple(_KnownIdsOnly, AutocompleteSelectMultiple):
    pass


def _cleans(field: forms.Field, value: Any) -> bool:
    try:
        field.clean(value)
    except (ValidationError, ValueError, TypeError, OverflowError):
        return False
    return True


class CheckedModelAdmin(admin.ModelAdmin):
    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        fields = self.get_form(request).base_fields
        return {
            name: value
            for name, value in initial.items()
            if name in fields and _cleans(fields[name], value)
        }

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None):
        try:
            return super().get_object(request, object_id, from_field)
        except OverflowError:
            return None  # no such row: the admin answers as for any missing id

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey, request: HttpRequest, **kwargs: Any
    ):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = CheckedAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(
        self, db_field: models.ManyToManyField, request: HttpRequest, **kwargs: Any
    ):
        kwargs.setdefault("form_class", BoundedModelMultipleChoiceField)
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = CheckedAutocompleteSelectMultiple(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)
