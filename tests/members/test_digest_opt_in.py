"""The weekly recommendations email's switch: off by default (sign-up, imports), on from the
questionnaire or the profile, and the profile's preview of the next email."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from members.imports import members_import
from members.models import Member
from members.services import member_digest_subscription_set, member_onboarding_submit
from tests.factories import MemberFactory, SkillFactory

pytestmark = pytest.mark.django_db


def _ticked(page: str) -> bool:
    box = re.search(r'<input type="checkbox" name="digest_opt_in"[^>]*>', page)
    assert box is not None
    return re.search(r"\bchecked\b", box[0]) is not None


def _answers(**extra) -> dict:
    return {"title": "Data Analyst", "skills": [SkillFactory(name="SQL").pk], **extra}


def test_it_is_off_for_a_new_member_and_the_questionnaire_box_starts_unticked(
    member_client: Client, member: Member
):
    assert member.digest_opt_in is False
    page = member_client.get(reverse("members:onboarding")).content.decode()
    assert not _ticked(page)


def test_ticking_it_in_the_questionnaire_turns_it_on_and_unticking_turns_it_off(
    member_client: Client, member: Member
):
    answers = _answers()
    response = member_client.post(reverse("members:onboarding"), {**answers, "digest_opt_in": "on"})
    assert response.status_code == 302
    assert Member.objects.get(pk=member.pk).digest_opt_in is True
    page = member_client.get(reverse("members:onboarding")).content.decode()
    assert _ticked(page)

    member_client.post(reverse("members:onboarding"), answers)
    assert Member.objects.get(pk=member.pk).digest_opt_in is False


def test_the_onboarding_service_leaves_it_alone_unless_asked(member: Member):
    Member.objects.filter(pk=member.pk).update(digest_opt_in=True)
    member.refresh_from_db()
    skill = SkillFactory()

    member_onboarding_submit(
        member=member, title_text="Nurse", industry=None, seniority="", skills=[skill]
    )

    assert Member.objects.get(pk=member.pk).digest_opt_in is True


def test_the_profile_switch_turns_it_on_and_off(member_client: Client, member: Member):
    url = reverse("members:digest_subscription")
    profile = member_client.get(reverse("members:profile")).content.decode()
    assert f'action="{url}"' in profile
    assert not _ticked(profile)
    assert reverse("digest:preview") in profile

    response = member_client.post(url, {"digest_opt_in": "on"}, follow=True)

    assert Member.objects.get(pk=member.pk).digest_opt_in is True
    assert "once a week" in response.content.decode()
    assert _ticked(response.content.decode())

    member_client.post(url, {})
    assert Member.objects.get(pk=member.pk).digest_opt_in is False
    # A value that is not a ticked box is off, not an error.
    member_client.post(url, {"digest_opt_in": "on"})
    member_client.post(url, {"digest_opt_in": ""})
    assert Member.objects.get(pk=member.pk).digest_opt_in is False


def test_the_profile_switch_needs_login_and_a_post(client: Client, member_client: Client):
    url = reverse("members:digest_subscription")
    assert client.post(url).status_code == 302
    assert member_client.get(url).status_code == 405


def test_setting_it_as_it_is_changes_nothing(member: Member):
    assert member_digest_subscription_set(member_id=member.pk, subscribed=False) is False
    assert member_digest_subscription_set(member_id=member.pk, subscribed=True) is True
    assert member_digest_subscription_set(member_id=member.pk, subscribed=True) is False


def test_imported_members_start_without_it_and_a_reimport_keeps_their_choice(tmp_path):
    SkillFactory(name="Python")
    path = tmp_path / "members.csv"
    path.write_text(
        "member_id,title,industry,skills,seniority,username,email\n"
        "M1,Engineer,,Python,,alice,alice@example.com\n"
    )
    assert members_import(path=path).errors == []
    alice = Member.objects.get(external_id="M1")
    assert alice.digest_opt_in is False

    member_digest_subscription_set(member_id=alice.pk, subscribed=True)
    assert members_import(path=path).errors == []
    assert Member.objects.get(external_id="M1").digest_opt_in is True
    assert MemberFactory().digest_opt_in is False
