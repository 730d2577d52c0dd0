from django import forms
from django.db.models.functions import Lower

from catalog.models import Category, Course, Skill

SORT_CHOICES = [("relevance", "Relevance"), ("newest", "Newest"), ("popular", "Most popular")]


class CourseFilterForm(forms.Form):
    """The course list's search box and filters, read from the query string."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        strip=True,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Title, topic or skill"}),
    )
    # A text field, not a select: the taxonomy has hundreds of skills and grows. Skill pages link
    # here with the slug; a learner may also type the skill's name.
    skill = forms.CharField(
        label="Skill",
        required=False,
        max_length=140,
        widget=forms.TextInput(attrs={"placeholder": "e.g. python"}),
    )
    category = forms.ModelChoiceField(
        label="Category",
        required=False,
        queryset=Category.objects.order_by(Lower("name")),
        to_field_name="slug",
        empty_label="Any category",
    )
    level = forms.ChoiceField(
        label="Level",
        required=False,
        choices=[("", "Any level"), *Course.Level.choices],
    )
    sort = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=SORT_CHOICES,
    )

    def clean_sort(self) -> str:
        # Absent (a link without it) means the default, relevance.
        return self.cleaned_data["sort"] or "relevance"

    def clean_skill(self) -> Skill | None:
        value = self.cleaned_data["skill"].strip()
        if not value:
            return None
        skill = Skill.objects.filter(slug=value.lower()).first()
        if skill is None:
            skill = Skill.objects.filter(name__iexact=value).first()
        if skill is None:
            raise forms.ValidationError("No skill is called “%(value)s”.", params={"value": value})
        return skill


class SkillSearchForm(forms.Form):
    q = forms.CharField(label="Search skills", required=False, max_length=120, strip=True)
    # "follow" renders a checkbox per skill, for the partial to sit inside the onboarding form.
    mode = forms.ChoiceField(
        required=False, choices=[("", "List"), ("follow", "Follow")], widget=forms.HiddenInput
    )
