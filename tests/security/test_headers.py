"""Every response carries the Content-Security-Policy (django-csp, config/settings.py); the
browser tests (tests/browser/test_csp.py) check that the pages keep to it."""

import re

import pytest
from django.test import Client

from tests.helpers import CSP_POLICY, csp_directives


@pytest.mark.parametrize("path", ["/courses/", "/accounts/login/", "/api/v1/categories/"])
def test_responses_carry_the_policy(db, path):
    response = Client().get(path)
    assert response.status_code == 200
    assert csp_directives(response["Content-Security-Policy"]) == CSP_POLICY
    assert "Content-Security-Policy-Report-Only" not in response


def test_templates_hold_no_inline_script_or_style(settings):
    # What the policy refuses: an inline <script> (one without src), <style>, style="...",
    # and on...= handlers.
    offenders = []
    for template in (settings.BASE_DIR / "templates").rglob("*.*"):
        text = re.sub(r"\{#.*?#\}", "", template.read_text())  # not in template comments
        scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", text)
        inline = re.findall(r"<style\b|\sstyle=|\son[a-z]+=", text)
        if scripts or inline:
            offenders.append((str(template.relative_to(settings.BASE_DIR)), scripts + inline))
    assert offenders == []
