from django import forms


class CardContextForm(forms.Form):
    """The page view that showed a card, posted back with dismiss/undo: the event's context
    (reason, carousel, position) is read from that page view's impression, not posted."""

    page_view_id = forms.UUIDField(required=False)
