"""A member deletes their account in a real browser: from the profile, through the confirmation
page with their password, to the homepage signed out; the login form then refuses them."""

import re

import pytest
from playwright.sync_api import Page, expect

from members.models import Member
from tests.factories import PASSWORD, MemberFactory

pytestmark = pytest.mark.browser


def test_delete_my_account_signs_out_and_the_login_fails(page: Page, login, db):
    member = MemberFactory(user__username="ada")
    login(member.user)
    page.goto("/profile/")
    page.get_by_role("link", name="Delete my account").click()
    expect(page).to_have_url(re.compile(r"/account/delete/$"))

    # A wrong password keeps the account and says why.
    page.get_by_label("Your password").fill("not-my-password")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("The password is not correct.")).to_be_visible()
    assert Member.objects.filter(pk=member.pk).exists()

    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account").click()

    expect(page).to_have_url(re.compile(r"/$"))
    expect(
        page.get_by_text("Your account and everything we held about you are deleted.")
    ).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Log in")).to_be_visible()
    assert not Member.objects.filter(pk=member.pk).exists()

    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_role("alert")).to_be_visible()
