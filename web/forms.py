"""Forms of the pages `web` serves: the account deletion's password confirmation."""

from django import forms
from django.http import HttpRequest

from web.api import WRONG_PASSWORD, password_confirmed


class AccountDeleteForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: object, request: HttpRequest, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not password_confirmed(self.request, password=password):
            raise forms.ValidationError(WRONG_PASSWORD)
        return password
