"""A new member forgets their password: sign up, ask for a reset from the login page, open the
link the email brings (the live server runs in this process, so its locmem outbox is
`django.core.mail.outbox` here), choose a new password and log in with it."""

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

OLD_PASSWORD = "a-long-enough-passphrase"
NEW_PASSWORD = "violet-Lantern-42-river"


def test_sign_up_reset_the_password_by_email_and_log_in_with_it(page: Page, live_server):
    page.goto("/accounts/signup/")
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_label("Password:", exact=True).fill(OLD_PASSWORD)
    page.get_by_label("Password confirmation").fill(OLD_PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/onboarding/$"))
    page.get_by_role("button", name="Log out (grace)").click()

    page.goto("/accounts/login/")
    page.get_by_role("link", name="Forgotten your password?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset your password")
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")

    [message] = mail.outbox
    assert message.to == ["grace@example.com"]
    link = re.search(r"http://\S+/accounts/password/reset/\S+/\S+/", message.body).group(0)
    assert link.startswith(live_server.url)

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    # The token left the address bar for the session (Django's view), so no Referer carries it.
    expect(page).to_have_url(re.compile(r"/set-password/$"))
    page.get_by_label("New password:", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set my password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your password is set")

    page.get_by_role("main").get_by_role("link", name="Log in").click()
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Password").fill(OLD_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Please enter a correct username")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out (grace)")).to_be_visible()

    # The link worked once.
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link does not work")
