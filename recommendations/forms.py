from django import forms

REASON_KEY_PATTERN = r"^[a-z_]{1,20}(:[0-9]{1,19})?$"


class CardContextForm(forms.Form):
    """Where a card was shown: posted back with dismiss/undo so the event keeps its context."""

    page_view_id = forms.UUIDField(required=False)
    reason = forms.RegexField(regex=r"^[a-z_]{1,20}$", required=False)
    reason_key = forms.RegexField(regex=REASON_KEY_PATTERN, required=False)
    strategy = forms.RegexField(regex=r"^[a-z0-9_]{1,40}$", required=False)
    carousel_position = forms.IntegerField(min_value=0, max_value=99, required=False)
    position = forms.IntegerField(min_value=0, max_value=999, required=False)
