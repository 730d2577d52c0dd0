import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from recommendations.serving.state import snapshot_forget
from recommendations.serving.stored_carousels import stored_carousels_clear
from tests.factories import (
    PASSWORD,
    CategoryFactory,
    CourseFactory,
    CourseSkillFactory,
    EnrolmentFactory,
    IndustryFactory,
    JobTitleFactory,
    MemberFactory,
    MemberSkillFactory,
    SkillFactory,
)


@pytest.fixture
def member(db):
    return MemberFactory()


@pytest.fixture
def member_client(client, member):
    client.login(username=member.user.username, password=PASSWORD)
    return client


@pytest.fixture(autouse=True)
def empty_cache():
    # Throttle counters live in the cache; one test's requests must not throttle the next.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def fresh_snapshot():
    # The recommendation snapshot is cached per process: each test sees its own catalog.
    snapshot_forget()
    yield
    snapshot_forget()


@pytest.fixture(autouse=True)
def fresh_stored_carousels():
    # Kept per process under the catalog revision, which a rolled-back test leaves where it was:
    # the next test could find another's carousels under the same key.
    stored_carousels_clear()
    yield
    stored_carousels_clear()


@pytest.fixture
def world(db):
    """A small catalog with a data corner and a design corner, and a cohort of analysts.

    Twelve Data Analysts in Finance hold SQL and Python and enrolled in data courses, so the
    analyst cohort is large enough (COHORT_MIN_SIZE 5) and SQL/Python pass the IDF cutoff; six
    Graphic Designers in Media hold Photoshop and Illustrator and took Photoshop Essential.
    """
    now = timezone.now()
    data, design = CategoryFactory(name="Data"), CategoryFactory(name="Design")
    skills = {
        name: SkillFactory(name=name, category=category)
        for name, category in [
            ("SQL", data),
            ("Python", data),
            ("Tableau", data),
            ("Photoshop", design),
            ("Illustrator", design),
        ]
    }
    courses = {}
    layout = [
        ("SQL Essential Training", ["SQL"], 400),
        ("Advanced SQL for Analysts", ["SQL"], 300),
        ("SQL Window Functions", ["SQL"], 200),
        ("Python for Data Analysis", ["Python"], 350),
        ("Learning Python", ["Python"], 250),
        ("Python and SQL in Practice", ["Python", "SQL"], 150),
        ("SQL for Beginners", ["SQL"], 130),
        ("SQL Performance Tuning", ["SQL"], 180),
        ("Python Scripting", ["Python"], 170),
        ("Python Testing", ["Python"], 190),
        ("Tableau Dashboards", ["Tableau"], 100),
        ("Photoshop Essential Training", ["Photoshop"], 90),
        ("Photoshop for Designers", ["Photoshop"], 80),
        ("Photoshop Retouching", ["Photoshop"], 120),
        ("Photoshop Compositing", ["Photoshop"], 110),
        ("Illustrator Basics", ["Illustrator"], 70),
        ("Illustrator Advanced", ["Illustrator"], 60),
        ("Photoshop and Illustrator Together", ["Photoshop", "Illustrator"], 5),
    ]
    for title, names, age_days in layout:
        course = CourseFactory(title=title, published_at=now - dt.timedelta(days=age_days))
        for name in names:
            CourseSkillFactory(course=course, skill=skills[name])
        courses[title] = course
    analyst, finance = JobTitleFactory(name="Data Analyst"), IndustryFactory(name="Finance")
    designer, media = JobTitleFactory(name="Graphic Designer"), IndustryFactory(name="Media")
    analysts = []
    for index in range(12):
        member = MemberFactory(title=analyst, industry=finance)
        MemberSkillFactory(member=member, skill=skills["SQL"])
        MemberSkillFactory(member=member, skill=skills["Python"])
        EnrolmentFactory(
            member=member,
            course=courses["SQL Essential Training"],
            enrolled_at=now - dt.timedelta(days=index + 1),
        )
        for title, takers in [
            ("Advanced SQL for Analysts", 8),
            ("Python for Data Analysis", 5),
            ("Tableau Dashboards", 4),
        ]:
            if index < takers:
                EnrolmentFactory(
                    member=member,
                    course=courses[title],
                    enrolled_at=now - dt.timedelta(days=index + 2),
                )
        analysts.append(member)
    designers = []
    for _ in range(6):
        member = MemberFactory(title=designer, industry=media)
        MemberSkillFactory(member=member, skill=skills["Photoshop"])
        MemberSkillFactory(member=member, skill=skills["Illustrator"])
        EnrolmentFactory(
            member=member,
            course=courses["Photoshop Essential Training"],
            enrolled_at=now - dt.timedelta(days=3),
        )
        designers.append(member)
    return {
        "skills": skills,
        "courses": courses,
        "analyst": analyst,
        "finance": finance,
        "designer": designer,
        "media": media,
        "analysts": analysts,
        "designers": designers,
    }
