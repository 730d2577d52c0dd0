import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from catalog.imports import catalog_import
from catalog.models import Category, Course, CourseSkill, Skill
from core.csv_import import RowError, timestamp_parse
from tests.factories import (
    CategoryFactory,
    CourseFactory,
    CourseSkillFactory,
    SkillFactory,
    SkillSynonymFactory,
)

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
HEADER = "course_id,title,description,category,skills,level,duration_minutes,published_at,teacher"


def write(tmp_path: Path, text: str, name: str = "catalog.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    flags = ["--no-progress"] if args[0].startswith("import_") else []
    call_command(*args, *flags, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def tags_of(course: Course) -> list[tuple[str, str, str, float]]:
    return sorted(
        (tag.skill.name, tag.source, tag.status, tag.confidence)
        for tag in course.skill_tags.select_related("skill")
    )


@pytest.fixture
def data():
    analytics = CategoryFactory(name="Analytics", slug="analytics")
    python = SkillFactory(name="Python", slug="python", category=analytics)
    excel = SkillFactory(name="Microsoft Excel", slug="microsoft-excel", category=analytics)
    SkillSynonymFactory(skill=excel, name="Excel")
    return {"analytics": analytics, "python": python, "excel": excel}


def test_import_creates_courses_categories_skills_and_taxonomist_tags(tmp_path, data):
    path = write(
        tmp_path,
        f"{HEADER}\n"
        "C1,Intro to Python,Learn Python.,analytics,PYTHON|excel,intermediate,90,"
        "2024-05-01T10:00:00,Grace Hopper\n"
        'C2,"Charts, fast",Make charts.,Design,Visual Design|Python,,,,\n',
    )

    result = catalog_import(path=path, now=NOW)

    assert result.errors == []
    assert (result.created, result.updated, result.unchanged, result.skipped) == (2, 0, 0, 0)
    assert (result.categories_created, result.skills_created) == (1, 1)
    c1 = Course.objects.get(external_id="C1")
    assert (
        c1.title,
        c1.slug,
        c1.description,
        c1.level,
        c1.duration_minutes,
        c1.published_at,
        c1.teacher,
    ) == (
        "Intro to Python",
        "intro-to-python",
        "Learn Python.",
        "intermediate",
        90,
        dt.datetime(2024, 5, 1, 10, tzinfo=UTC),
        "Grace Hopper",
    )
    assert [c.name for c in c1.categories.all()] == ["Analytics"]
    assert tags_of(c1) == [
        ("Microsoft Excel", "taxonomist", "approved", 1.0),
        ("Python", "taxonomist", "approved", 1.0),
    ]
    c2 = Course.objects.get(external_id="C2")
    # Optional cells left empty take the documented defaults.
    assert (c2.title, c2.level, c2.duration_minutes, c2.published_at, c2.teacher) == (
        "Charts, fast",
        "beginner",
        1,
        NOW,
        "Unknown",
    )
    design = Category.objects.get(name="Design")
    assert design.slug == "design"
    visual = Skill.objects.get(name="Visual Design")
    assert (visual.slug, visual.category) == ("visual-design", design)
    assert [c.name for c in c2.categories.all()] == ["Design"]
    assert tags_of(c2) == [
        ("Python", "taxonomist", "approved", 1.0),
        ("Visual Design", "taxonomist", "approved", 1.0),
    ]
    assert Skill.objects.count() == 3


def test_reimport_updates_and_replaces_only_taxonomist_tags(tmp_path, data):
    path = write(tmp_path, f"{HEADER}\nC1,Intro,Learn.,Analytics,Python|Excel,,60,,Ada\n")
    catalog_import(path=path, now=NOW)
    course = Course.objects.get(external_id="C1")
    sql = SkillFactory(name="SQL", category=data["analytics"])
    stats = SkillFactory(name="Statistics", category=data["analytics"])
    CourseSkillFactory(course=course, skill=sql, source="tagger", status="pending", confidence=0.4)
    CourseSkillFactory(
        course=course, skill=stats, source="model", status="rejected", confidence=0.7
    )

    # Excel is dropped, Statistics is now the taxonomist's word, title and duration change.
    path = write(tmp_path, f"{HEADER}\nC1,Intro II,Learn more.,Analytics,Python|statistics,,,,\n")
    result = catalog_import(path=path, now=NOW)

    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    course.refresh_from_db()
    # Empty optional cells keep the stored values.
    assert (course.title, course.description, course.duration_minutes, course.teacher) == (
        "Intro II",
        "Learn more.",
        60,
        "Ada",
    )
    assert course.slug == "intro"
    assert tags_of(course) == [
        ("Python", "taxonomist", "approved", 1.0),
        ("SQL", "tagger", "pending", 0.4),
        ("Statistics", "taxonomist", "approved", 1.0),
    ]
    assert Course.objects.count() == 1

    again = catalog_import(path=path, now=NOW)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    assert CourseSkill.objects.count() == 3


def test_slugs_get_a_suffix_on_collision(tmp_path, data):
    CourseFactory(title="Intro", slug="intro")
    SkillFactory(name="Other", slug="r-lang", category=data["analytics"])
    path = write(
        tmp_path,
        f"{HEADER}\nC1,Intro,a,Analytics,R Lang,,,,\nC2,Intro,b,Analytics,search,,,,\n",
    )
    catalog_import(path=path, now=NOW)
    assert list(
        Course.objects.filter(external_id__isnull=False)
        .order_by("external_id")
        .values_list("slug", flat=True)
    ) == ["intro-2", "intro-3"]
    assert Skill.objects.get(name="R Lang").slug == "r-lang-2"
    # /skills/search/ is a route, so no skill may take that slug.
    assert Skill.objects.get(name="search").slug == "search-2"


BAD_ROWS = (
    f"{HEADER}\n"
    "C1,Good,Fine.,Analytics,Python,,,,\n"  # line 2
    ",No id,x,Analytics,Python,,,,\n"  # line 3
    "C3,,x,Analytics,,,,,\n"  # line 4
    "C4,Level,x,Analytics,Python,expert,,,\n"  # line 5
    "C5,Duration,x,Analytics,Python,,0,,\n"  # line 6
    "C6,Date,x,Analytics,Python,,,2024-13-01,\n"  # line 7
    "C1,Again,x,Analytics,Python,,,,\n"  # line 8
    "C8,Short,x\n"  # line 9
    "C9,Skills,x,Analytics,Python||SQL,,,,\n"  # line 10
    "\n"  # line 11: blank lines are skipped
    "C10,Good too,Fine.,Analytics,,advanced,30,1714557600,\n"  # line 12
)

EXPECTED_ERRORS = [
    RowError(3, "course_id is empty"),
    RowError(4, "title is empty"),
    RowError(5, "level 'expert' is not one of beginner, intermediate, advanced"),
    RowError(6, "duration_minutes '0' is not a whole number from 1 to 100000"),
    RowError(7, "published_at '2024-13-01' is not ISO 8601 or epoch seconds"),
    RowError(8, "duplicate course_id C1 (first on line 2)"),
    RowError(9, "has 3 fields, the header has 9"),
    RowError(10, "skills has an empty name (two '|' in a row, or one at an end)"),
]


def test_every_bad_row_is_reported_and_nothing_is_written_by_default(tmp_path, data):
    path = write(tmp_path, BAD_ROWS)

    result = catalog_import(path=path, now=NOW)

    assert result.errors == EXPECTED_ERRORS
    assert not result.written
    assert Course.objects.count() == 0

    with pytest.raises(CommandError, match=r"^8 invalid row\(s\); nothing was imported"):
        run("import_catalog", str(path))
    assert Course.objects.count() == 0


def test_skip_invalid_imports_the_good_rows_and_reports_the_rest(tmp_path, data):
    path = write(tmp_path, BAD_ROWS)

    out, err = run("import_catalog", str(path), "--skip-invalid")

    assert err.splitlines() == [str(error) for error in EXPECTED_ERRORS]
    assert err.splitlines()[0] == "line 3: course_id is empty"
    assert out.strip() == (
        "Courses: 2 created, 0 updated, 0 unchanged, 8 skipped (invalid). "
        "Categories created: 0. Skills created: 0."
    )
    assert sorted(Course.objects.values_list("external_id", "title")) == [
        ("C1", "Good"),
        ("C10", "Good too"),
    ]
    c10 = Course.objects.get(external_id="C10")
    assert (c10.level, c10.duration_minutes, c10.published_at) == (
        "advanced",
        30,
        dt.datetime(2024, 5, 1, 10, tzinfo=UTC),
    )
    assert tags_of(c10) == []


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("course_id,title,category", "missing required column(s): description, skills"),
        (
            "course_id,title,description,category,skills,teachers",
            "unknown column(s): 'teachers'",
        ),
        ("course_id,title,description,category,skills,title", "repeated column(s): title"),
    ],
)
def test_bad_header_fails_at_once(tmp_path, header, message):
    path = write(tmp_path, f"{header}\nC1,x,y,z,w,v\n")
    with pytest.raises(CommandError, match="bad header") as raised:
        run("import_catalog", str(path))
    assert message in str(raised.value)
    assert Course.objects.count() == 0


def test_missing_and_empty_files_are_refused(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        run("import_catalog", str(tmp_path / "nope.csv"))
    with pytest.raises(CommandError, match="the file is empty"):
        run("import_catalog", str(write(tmp_path, "")))


def test_header_matching_ignores_case_spaces_and_a_byte_order_mark(tmp_path, data):
    path = tmp_path / "bom.csv"
    path.write_text(
        "\ufeffCourse_ID, Title ,description,category,skills\nC1,T,D,Analytics,Excel\n",
        encoding="utf-8",
    )
    result = catalog_import(path=path, now=NOW)
    assert (result.errors, result.created) == ([], 1)
    assert tags_of(Course.objects.get(external_id="C1")) == [
        ("Microsoft Excel", "taxonomist", "approved", 1.0)
    ]


def test_timestamp_parse_accepts_iso_and_epoch_and_refuses_the_rest():
    assert timestamp_parse("2024-05-01T10:00:00") == dt.datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert timestamp_parse("2024-05-01T12:00:00+02:00") == dt.datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert timestamp_parse("2024-05-01T10:00:00Z") == dt.datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert timestamp_parse("1714557600") == dt.datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert timestamp_parse("1714557600.5") == dt.datetime(2024, 5, 1, 10, 0, 0, 500000, UTC)
    assert timestamp_parse("2024-13-01") is None
    assert timestamp_parse("yesterday") is None
    assert timestamp_parse("99999999999999999999") is None


def test_export_course_skills_writes_every_tag(tmp_path, data):
    with_id = CourseFactory(external_id="C1", slug="intro")
    without_id = CourseFactory(external_id=None, slug="charts")
    CourseSkillFactory(course=with_id, skill=data["python"])
    CourseSkillFactory(
        course=with_id, skill=data["excel"], source="tagger", status="pending", confidence=0.55
    )
    CourseSkillFactory(course=without_id, skill=data["excel"], source="model", confidence=0.9)
    target = tmp_path / "tags.csv"

    out, _ = run("export_course_skills", str(target))

    assert out.strip() == f"Exported 3 course-skill tags to {target}."
    assert target.read_text(encoding="utf-8").splitlines() == [
        "course_id,skill,source,confidence,status",
        "C1,Microsoft Excel,tagger,0.55,pending",
        "C1,Python,taxonomist,1.0,approved",
        "charts,Microsoft Excel,model,0.9,approved",
    ]


def test_export_course_skills_quotes_ids_and_names_that_start_like_a_formula(tmp_path, data):
    course = CourseFactory(external_id='=HYPERLINK("http://evil.example")', slug="evil")
    plain = CourseFactory(external_id="-C2", slug="minus")
    formula = SkillFactory(name="@SUM(A1)", slug="at-sum", category=data["analytics"])
    CourseSkillFactory(course=course, skill=formula, source="model", confidence=0.25)
    CourseSkillFactory(course=plain, skill=data["python"])
    target = tmp_path / "tags.csv"

    run("export_course_skills", str(target))

    with target.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["course_id", "skill", "source", "confidence", "status"],
        ["'-C2", "Python", "taxonomist", "1.0", "approved"],
        ['\'=HYPERLINK("http://evil.example")', "'@SUM(A1)", "model", "0.25", "approved"],
    ]


def test_export_to_an_unwritable_place_is_refused(tmp_path):
    with pytest.raises(CommandError, match="cannot write"):
        run("export_course_skills", str(tmp_path / "missing-dir" / "tags.csv"))


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("9999-12-31", "published_at '9999-12-31' is more than a day in the future"),
        ("2025-03-02T12:00:01Z", "published_at '2025-03-02T12:00:01Z' is more than a day in"),
        ("253402300799", "published_at '253402300799' is more than a day in the future"),
        ("1969-12-31T23:59:59Z", "published_at '1969-12-31T23:59:59Z' is before 1970-01-01"),
        ("0001-01-01", "published_at '0001-01-01' is before 1970-01-01"),
    ],
)
def test_published_at_outside_the_window_is_a_row_error(tmp_path, data, raw, reason):
    path = write(tmp_path, f"{HEADER}\nC1,Intro,Learn.,Analytics,,,,{raw},\n")

    result = catalog_import(path=path, now=NOW)

    assert [error.line for error in result.errors] == [2]
    assert result.errors[0].reason.startswith(reason)
    assert not Course.objects.exists()


@pytest.mark.parametrize("raw", ["1970-01-01T00:00:00Z", "0", "2025-03-02T12:00:00Z"])
def test_published_at_at_the_edges_of_the_window_is_taken(tmp_path, data, raw):
    path = write(tmp_path, f"{HEADER}\nC1,Intro,Learn.,Analytics,,,,{raw},\n")

    result = catalog_import(path=path, now=NOW)

    assert result.errors == []
    assert Course.objects.get().published_at == timestamp_parse(raw)


def test_the_future_is_measured_from_the_time_of_the_import(tmp_path, data):
    later = timezone.now() + dt.timedelta(days=3)
    path = write(tmp_path, f"{HEADER}\nC1,Intro,Learn.,Analytics,,,,{later:%Y-%m-%dT%H:%M:%S},\n")

    with pytest.raises(CommandError, match=r"^1 invalid row\(s\); nothing was imported"):
        run("import_catalog", str(path))
    assert not Course.objects.exists()
    assert catalog_import(path=path, now=later).errors == []


@pytest.mark.parametrize("raw", ["²", "٣", "9" * 5000, "-5", "1\x00"])
def test_duration_that_is_not_ascii_digits_is_a_row_error(tmp_path, data, raw):
    path = write(tmp_path, f'{HEADER}\nC1,Intro,Learn.,Analytics,,,"{raw}",,\n')

    result = catalog_import(path=path, now=NOW)

    assert [error.reason for error in result.errors] == [
        f"duration_minutes '{raw}' is not a whole number from 1 to 100000"
    ]


def test_a_course_without_category_is_imported_filed_nowhere(tmp_path, data):
    filed = CourseFactory(external_id="C2", title="Old")
    filed.categories.set([data["analytics"]])
    path = write(
        tmp_path,
        "course_id,title,description,skills\n"
        "C1,Knitting Basics,Purl and plain.,Python|Knitting\n"
        "C2,Old,Still filed.,\n",
    )

    result = catalog_import(path=path)

    assert result.errors == []
    assert (result.created, result.updated, result.skills_created) == (1, 1, 1)
    course = Course.objects.get(external_id="C1")
    assert list(course.categories.all()) == []
    assert sorted(t[0] for t in tags_of(course)) == ["Knitting", "Python"]
    # A skill first named by a row without a category needs one: "Imported skills".
    assert Skill.objects.get(name="Knitting").category.name == "Imported skills"
    # An empty category cell keeps an existing course's filing.
    assert list(Course.objects.get(external_id="C2").categories.all()) == [data["analytics"]]
    page = Client().get(f"/courses/{course.slug}/")
    assert page.status_code == 200
    api = Client().get(f"/api/v1/courses/{course.pk}/")
    assert api.status_code == 200
    assert api.json()["categories"] == []
