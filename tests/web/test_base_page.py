"""What every page's head carries (templates/base.html)."""

from django.contrib.staticfiles import finders
from django.test import Client


def test_every_page_names_its_icon_and_the_icon_is_a_static_file(db):
    # Without one, browsers ask for /favicon.ico on every first visit and log its 404.
    body = Client().get("/courses/").content.decode()

    assert '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">' in body
    assert finders.find("img/favicon.svg")
