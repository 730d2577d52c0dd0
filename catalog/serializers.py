"""Input and output serializers of the catalog API (catalog/api.py).

Output serializers read what the selectors prepared (`card_skill_tags` from
`course_card_skills_prefetch` or `card_skills` from `course_cards_by_id`, `course_count`
annotations) and never query on their own.
"""

from django.conf import settings
from rest_framework import serializers

from catalog.models import Category, Course, Skill
from catalog.selectors import skill_get_by_slug

MAX_PAGE_SIZE = 100


# Output -----------------------------------------------------------------------------------------


class SkillRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Skill
        fields = ["id", "slug", "name"]


class CategoryRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "slug", "name"]


class CourseSummarySerializer(serializers.ModelSerializer):
    """A course as a card shows it; `skills` are its approved skills, most confident first."""

    skills = serializers.SerializerMethodField()

    class Meta:
        model = Course
        fields = [
            "id",
            "slug",
            "title",
            "level",
            "duration_minutes",
            "teacher",
            "published_at",
            "skills",
        ]

    def get_skills(self, course: Course) -> list[dict]:
        # `course_cards_by_id` (recommendation cards) attaches the dicts themselves.
        skills = getattr(course, "card_skills", None)
        if skills is not None:
            return skills
        tags = getattr(course, "card_skill_tags", None)
        if tags is None:
            # Every caller prefetches; a missing prefetch must fail loudly in tests, not turn
            # into one query per card in production.
            raise AttributeError("course_card_skills_prefetch() was not applied to this course")
        # Plain dicts with SkillRefSerializer's fields: a serializer per card costs more than the
        # rest of a recommendations response.
        return [
            {"id": tag.skill.pk, "slug": tag.skill.slug, "name": tag.skill.name} for tag in tags
        ]


class CourseDetailSerializer(CourseSummarySerializer):
    categories = CategoryRefSerializer(many=True)
    url = serializers.SerializerMethodField()

    class Meta(CourseSummarySerializer.Meta):
        fields = [*CourseSummarySerializer.Meta.fields, "description", "categories", "url"]

    def get_url(self, course: Course) -> str:
        """The course's page on the site."""
        return f"/courses/{course.slug}/"


class SkillSerializer(serializers.ModelSerializer):
    category = CategoryRefSerializer()
    course_count = serializers.IntegerField(help_text="Published courses approved as teaching it.")

    class Meta:
        model = Skill
        fields = ["id", "slug", "name", "category", "course_count"]


class SkillDetailSerializer(serializers.ModelSerializer):
    category = CategoryRefSerializer()
    synonyms = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    related = SkillRefSerializer(many=True)
    course_count = serializers.IntegerField(help_text="Published courses approved as teaching it.")
    courses = CourseSummarySerializer(
        many=True, source="listed_courses", help_text="Newest first, at most `limit`."
    )

    class Meta:
        model = Skill
        fields = [
            "id",
            "slug",
            "name",
            "description",
            "category",
            "synonyms",
            "related",
            "course_count",
            "courses",
        ]


class CategorySerializer(serializers.ModelSerializer):
    course_count = serializers.IntegerField()
    skill_count = serializers.IntegerField()

    class Meta:
        model = Category
        fields = ["id", "slug", "name", "description", "course_count", "skill_count"]


def paginated(item_serializer: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The envelope of a paginated list of `item_serializer` items (one schema component each)."""
    name = item_serializer.__name__.removesuffix("Serializer")
    return type(
        f"Paginated{name}ListSerializer",
        (serializers.Serializer,),
        {
            "count": serializers.IntegerField(help_text="Items over all pages."),
            "page": serializers.IntegerField(),
            "page_size": serializers.IntegerField(),
            "num_pages": serializers.IntegerField(),
            "next": serializers.CharField(allow_null=True, help_text="URL of the next page."),
            "previous": serializers.CharField(allow_null=True),
            "results": item_serializer(many=True),
        },
    )


# Input ------------------------------------------------------------------------------------------


class PageQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, default=1)
    page_size = serializers.IntegerField(
        min_value=1, max_value=MAX_PAGE_SIZE, default=settings.CATALOG_PAGE_SIZE
    )


class _SlugField(serializers.SlugRelatedField):
    """A slug looked up in the database, refusing what PostgreSQL cannot compare (a NUL
    character raised a server error instead of the field error)."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return super().to_internal_value(data)


SEARCH_HELP = (
    "Search words: every word must match the title, the description, or the name or a synonym "
    "of a skill the course is approved for (on PostgreSQL also full-text and trigram matches)."
)


class CourseListQuerySerializer(PageQuerySerializer):
    """`search` is the search words; `q`, its earlier name, is still read (deprecated) and gives
    the same results. Its validated data holds `search` only."""

    search = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=200, help_text=SEARCH_HELP
    )
    q = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=200,
        help_text="Deprecated: the former name of `search`, with the same meaning.",
    )
    skill = serializers.CharField(
        required=False, max_length=140, help_text="A skill's slug (see /api/v1/skills/)."
    )
    category = _SlugField(
        required=False,
        slug_field="slug",
        queryset=Category.objects.all(),
        help_text="A category's slug.",
    )
    level = serializers.ChoiceField(required=False, choices=Course.Level.choices)
    sort = serializers.ChoiceField(
        required=False,
        default="relevance",
        choices=[("relevance", "relevance"), ("newest", "newest"), ("popular", "popular")],
        help_text=(
            "relevance: best match first (newest first without `search`); newest; popular: most "
            "enrolments first."
        ),
    )

    def validate_skill(self, value: str) -> Skill:
        skill = skill_get_by_slug(slug=value.strip().lower())
        if skill is None:
            raise serializers.ValidationError(f"No skill has the slug “{value}”.")
        return skill

    def validate(self, attrs: dict) -> dict:
        alias = attrs.pop("q", "")
        if alias and attrs["search"] and alias != attrs["search"]:
            # Two different searches in one request: neither can be served as asked.
            raise serializers.ValidationError(
                {"q": ["`q` is the deprecated name of `search`; give one of them."]}
            )
        attrs["search"] = attrs["search"] or alias
        return attrs


class SkillListQuerySerializer(PageQuerySerializer):
    q = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=120, help_text="Search words."
    )


class SkillDetailQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(
        min_value=0, max_value=MAX_PAGE_SIZE, default=20, help_text="How many courses to embed."
    )
