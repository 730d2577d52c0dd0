from django import forms
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm, UserCreationForm

from catalog.models import Skill
from core.inputs import IdListField, IdModelChoiceField, IdModelMultipleChoiceField
from members import services
from members.models import Industry, Member
from members.selectors import job_title_match, skill_by_name


class SignUpForm(UserCreationForm):
    email = forms.EmailField(
        required=True, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")


class ResetSetPasswordForm(SetPasswordForm):
    """The new password a reset link leads to (Django's validators), set by the service that
    also revokes the account's API tokens and lifts its login lockout."""

    def save(self, commit: bool = True):
        services.user_password_reset(user=self.user, password=self.cleaned_data["new_password1"])
        return self.user


class MemberPasswordChangeForm(PasswordChangeForm):
    """Current password, new password twice; the service sets it and revokes the API tokens."""

    error_messages = {
        **PasswordChangeForm.error_messages,
        "password_incorrect": "That is not your current password.",
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = "Current password"

    def clean_old_password(self) -> str:
        password = self.cleaned_data["old_password"]
        refused = services.current_password_check(user=self.user, password=password)
        if refused is not None:
            raise forms.ValidationError(refused, code="password_incorrect")
        return password

    def save(self, commit: bool = True):
        services.user_password_set(user=self.user, password=self.cleaned_data["new_password1"])
        return self.user


class EmailChangeForm(forms.Form):
    """A new address, and the current password: a session left open is not enough to move the
    account (and its password resets) to another inbox."""

    email = forms.EmailField(
        label="New email address", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = forms.CharField(
        label="Current password",
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, user, *args, **kwargs) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        if email.lower() == (self.user.email or "").lower():
            raise forms.ValidationError("That is already your address.")
        return email

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        refused = services.current_password_check(user=self.user, password=password)
        if refused is not None:
            raise forms.ValidationError(refused)
        return password


class ApiTokenCreateForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=60,
        help_text="What it is for, so you know which to revoke later: “phone”, “reports script”.",
    )


GOAL_UNMATCHED = (
    "No role we know matches “%(text)s”; try another name (the list offers roles we know)."
)


def _goal_cleaned(text: str) -> str:
    """The goal as typed, spaces collapsed, refused when it names no occupation (a goal is
    worth setting only with the role's skills)."""
    text = " ".join(text.split())
    if text and job_title_match(text=text) is None:
        raise forms.ValidationError(GOAL_UNMATCHED, code="unmatched", params={"text": text})
    return text


class GoalForm(forms.Form):
    """The member's goal role (profile, "My goal"): any title, matched to an occupation as a
    job title is."""

    goal = forms.CharField(
        label="Role you are aiming for",
        max_length=150,
        widget=forms.TextInput(
            attrs={"list": "goal-options", "autocomplete": "off", "type": "search"}
        ),
        help_text="A job title, as you would say it: “Data Scientist”, “UX Designer”.",
    )

    def clean_goal(self) -> str:
        text = _goal_cleaned(self.cleaned_data["goal"])
        if not text:
            raise forms.ValidationError("Tell us the role you are aiming for.")
        return text


class OnboardingForm(forms.Form):
    """The questionnaire. Its POST contract: `title` (the job title as the member says it: free
    text, matched to an occupation by the service), `industry` (pk, optional), `seniority`
    (optional), `goal` (optional: the role aimed for, refused when it matches no occupation;
    empty clears it), `skills` (one or more skill pks)."""

    title = forms.CharField(
        label="Job title",
        max_length=150,
        widget=forms.TextInput(
            attrs={"list": "title-options", "autocomplete": "off", "type": "search"}
        ),
        help_text="Type your job title as you would say it; the list offers titles we know.",
    )
    industry = IdModelChoiceField(
        queryset=Industry.objects.all(), required=False, empty_label="Prefer not to say"
    )
    seniority = forms.ChoiceField(
        choices=[("", "Prefer not to say"), *Member.Seniority.choices], required=False
    )
    goal = forms.CharField(
        label="Role you are aiming for",
        max_length=150,
        required=False,
        widget=forms.TextInput(
            attrs={"list": "goal-options", "autocomplete": "off", "type": "search"}
        ),
        help_text="Optional: a role you want to grow into; your homepage then plans toward it.",
    )
    skills = IdModelMultipleChoiceField(
        queryset=Skill.objects.all(),
        error_messages={
            "required": "Follow at least one skill.",
            "invalid_choice": "%(value)s is not a skill we know.",
            "invalid_pk_value": "“%(pk)s” is not a skill we know.",
        },
    )

    digest_opt_in = forms.BooleanField(
        label="Email me my top recommendations once a week",
        required=False,
        help_text="Off unless you tick it; the email has a one-click unsubscribe link, and your "
        "profile turns it on or off.",
    )

    def __init__(self, *args, **kwargs) -> None:
        # The page's other labels (the job title's, the skill groups') carry no colon.
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_title(self) -> str:
        # Any title is accepted as typed (spaces collapsed); the service matches it.
        title = " ".join(self.cleaned_data["title"].split())
        if not title:
            raise forms.ValidationError("Tell us your job title.")
        return title

    def clean_goal(self) -> str:
        return _goal_cleaned(self.cleaned_data["goal"])


class ProfileSkillAddForm(forms.Form):
    WEIGHT_CHOICES = [
        (0.25, "Basic"),
        (0.5, "Working knowledge"),
        (0.75, "Strong"),
        (1.0, "Expert"),
    ]

    skill = forms.CharField(
        label="Skill",
        max_length=120,
        widget=forms.TextInput(
            attrs={"list": "skill-options", "autocomplete": "off", "type": "search"}
        ),
    )
    weight = forms.TypedChoiceField(
        label="Level", choices=WEIGHT_CHOICES, coerce=float, initial=0.5
    )

    def clean_skill(self) -> Skill:
        skill = skill_by_name(name=self.cleaned_data["skill"])
        if skill is None:
            raise forms.ValidationError("We do not know that skill; pick one from the list.")
        return skill


class ProfileSkillRemoveForm(forms.Form):
    skill = IdModelChoiceField(
        queryset=Skill.objects.all(),
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "That skill does not exist."},
    )


class FollowedSkillsAddForm(forms.Form):
    """The profile's skill picker: the ids of the skills ticked among the search results."""

    skills = IdModelMultipleChoiceField(
        queryset=Skill.objects.all(),
        error_messages={
            "required": "Tick a skill to follow.",
            "invalid_choice": "%(value)s is not a skill we know.",
            "invalid_pk_value": "“%(pk)s” is not a skill we know.",
        },
    )


class FollowedSkillRemoveForm(forms.Form):
    skill = IdModelChoiceField(
        queryset=Skill.objects.all(),
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "That skill does not exist."},
    )


class FollowSearchForm(forms.Form):
    """The profile's search for skills to follow (`?q=`), answered in the page without
    JavaScript; with it the catalog's skill search (`catalog:skill_search`, as the questionnaire
    uses it) fills the same list as you type."""

    q = forms.CharField(label="Find a skill to follow", required=False, max_length=120)


class SkillIdsQueryForm(forms.Form):
    """The onboarding partials' query string: `skills`, the ids of the skills already chosen
    (ids of skills that do not exist are left out by the selector)."""

    skills = IdListField(
        required=False, error_messages={"invalid": "“%(value)s” is not a skill id."}
    )


class TitleQueryForm(forms.Form):
    """The job title typed so far (`?title=`), for the title options and the suggestions."""

    title = forms.CharField(required=False, max_length=150)


class TitleSuggestionsQueryForm(TitleQueryForm, SkillIdsQueryForm):
    """The suggestions partial's query string: the typed title and the chosen skills' ids."""


class SkillQueryForm(forms.Form):
    """The skill name typed so far (`?skill=`), for the profile's skill options."""

    skill = forms.CharField(required=False, max_length=120)


class OnboardingTypedForm(forms.Form):
    """What the questionnaire shows again when it is re-rendered: the typed title and the text of
    its skill search (`q`); the choices themselves are OnboardingForm's."""

    title = forms.CharField(required=False, max_length=150)
    goal = forms.CharField(required=False, max_length=150)
    q = forms.CharField(required=False, max_length=120)


class PeopleSettingsForm(forms.Form):
    """Discoverability ("People to learn with") and what other members see; the rules (a
    display name to be discoverable, never the username or an email) are the service's."""

    discoverable = forms.BooleanField(
        required=False, label="Let other members find me to learn with"
    )
    display_name = forms.CharField(required=False, max_length=60, label="Name other members see")
    shows_title = forms.BooleanField(required=False, label="Show my job title and industry")
    shows_skills = forms.BooleanField(required=False, label="Show the skills I follow")
    shows_courses = forms.BooleanField(required=False, label="Show the courses I am taking")


class DigestSubscriptionForm(forms.Form):
    """The profile's switch for the weekly recommendations email (an unticked box posts
    nothing: off)."""

    digest_opt_in = forms.BooleanField(
        label="Email me my top recommendations once a week", required=False
    )
