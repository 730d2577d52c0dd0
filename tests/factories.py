"""factory_boy factories shared by the whole suite."""

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.text import slugify

from catalog.models import Category, Course, CourseSkill, Skill, SkillSynonym
from members.models import (
    Bookmark,
    Enrolment,
    FollowedSkill,
    Industry,
    JobTitle,
    Member,
    MemberSkill,
)

PASSWORD = "correct-horse-battery-staple"


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))


class SkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Skill

    name = factory.Sequence(lambda n: f"Skill {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    category = factory.SubFactory(CategoryFactory)


class SkillSynonymFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SkillSynonym

    skill = factory.SubFactory(SkillFactory)
    name = factory.Sequence(lambda n: f"Synonym {n}")


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    title = factory.Sequence(lambda n: f"Course {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.title))
    description = factory.LazyAttribute(lambda o: f"Learn everything about {o.title}.")
    level = Course.Level.BEGINNER
    duration_minutes = 60
    teacher = "Ada Lovelace"
    published_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=30))


class CourseSkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CourseSkill

    course = factory.SubFactory(CourseFactory)
    skill = factory.SubFactory(SkillFactory)
    source = CourseSkill.Source.TAXONOMIST
    confidence = 1.0
    status = CourseSkill.Status.APPROVED


class JobTitleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JobTitle

    name = factory.Sequence(lambda n: f"Job Title {n}")


class IndustryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Industry

    name = factory.Sequence(lambda n: f"Industry {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    user = factory.SubFactory(UserFactory)
    title = factory.SubFactory(JobTitleFactory)
    industry = factory.SubFactory(IndustryFactory)
    seniority = Member.Seniority.MID


class MemberSkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MemberSkill

    member = factory.SubFactory(MemberFactory)
    skill = factory.SubFactory(SkillFactory)
    weight = 1.0


class FollowedSkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowedSkill

    member = factory.SubFactory(MemberFactory)
    skill = factory.SubFactory(SkillFactory)


class EnrolmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrolment

    member = factory.SubFactory(MemberFactory)
    course = factory.SubFactory(CourseFactory)
    enrolled_at = factory.LazyFunction(timezone.now)


class BookmarkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Bookmark

    member = factory.SubFactory(MemberFactory)
    course = factory.SubFactory(CourseFactory)
    created_at = factory.LazyFunction(timezone.now)
