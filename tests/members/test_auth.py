import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from members.models import Member
from members.selectors import member_needs_onboarding
from tests.factories import PASSWORD, MemberFactory, UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
GOOD_PASSWORD = "violet-Lantern-42-river"


def _signup_data(**overrides: str) -> dict[str, str]:
    data = {
        "username": "grace",
        "email": "grace@example.com",
        "password1": GOOD_PASSWORD,
        "password2": GOOD_PASSWORD,
    }
    data.update(overrides)
    return data


def test_signup_page_labels_every_field(client: Client) -> None:
    response = client.get(reverse("members:signup"))

    assert response.status_code == 200
    html = response.content.decode()
    for field_id in ("id_username", "id_email", "id_password1", "id_password2"):
        assert f'for="{field_id}"' in html


def test_signup_creates_user_and_member_logs_in_and_goes_to_onboarding(client: Client) -> None:
    response = client.post(reverse("members:signup"), _signup_data())

    assert response.status_code == 302
    assert response.url == reverse("members:onboarding")
    user = User.objects.get(username="grace")
    assert user.email == "grace@example.com"
    assert user.check_password(GOOD_PASSWORD)
    member = Member.objects.get(user=user)
    assert member.title is None
    assert member_needs_onboarding(member=member) is True
    assert client.session["_auth_user_id"] == str(user.pk)


def test_signup_refuses_a_taken_username_whatever_its_case(client: Client) -> None:
    UserFactory(username="grace")

    response = client.post(reverse("members:signup"), _signup_data(username="Grace"))

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["username"]
    assert User.objects.count() == 1
    assert Member.objects.count() == 0


def test_signup_refuses_mismatched_passwords(client: Client) -> None:
    response = client.post(reverse("members:signup"), _signup_data(password2="another-Lantern-43"))

    assert response.status_code == 200
    assert response.context["form"].errors["password2"] == ["The two password fields didn’t match."]
    assert not User.objects.exists()
    assert "_auth_user_id" not in client.session


def test_signup_applies_the_password_validators(client: Client) -> None:
    response = client.post(
        reverse("members:signup"), _signup_data(password1="12345678", password2="12345678")
    )

    assert response.status_code == 200
    errors = response.context["form"].errors["password2"]
    assert "This password is too common." in errors
    assert "This password is entirely numeric." in errors
    assert not User.objects.exists()


def test_signup_requires_an_email(client: Client) -> None:
    response = client.post(reverse("members:signup"), _signup_data(email=""))

    assert response.status_code == 200
    assert response.context["form"].errors["email"] == ["This field is required."]
    assert not User.objects.exists()


def test_signup_rolls_back_the_user_when_the_member_cannot_be_created(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(**kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(Member.objects, "create", refuse)

    with pytest.raises(RuntimeError):
        client.post(reverse("members:signup"), _signup_data())

    assert not User.objects.filter(username="grace").exists()


def test_signed_in_user_is_sent_home_from_signup(member_client: Client) -> None:
    response = member_client.get(reverse("members:signup"))

    assert response.status_code == 302
    assert response.url == reverse("home")


def test_login_honours_a_local_next(client: Client) -> None:
    member = MemberFactory()

    response = client.post(
        reverse("members:login"),
        {"username": member.user.username, "password": PASSWORD, "next": "/my-learning/"},
    )

    assert response.status_code == 302
    assert response.url == "/my-learning/"


def test_login_ignores_a_next_on_another_site(client: Client) -> None:
    member = MemberFactory()

    response = client.post(
        reverse("members:login"),
        {"username": member.user.username, "password": PASSWORD, "next": "https://evil.test/"},
    )

    assert response.status_code == 302
    assert response.url == reverse("home")


def test_login_refuses_a_wrong_password(client: Client) -> None:
    member = MemberFactory()

    response = client.post(
        reverse("members:login"), {"username": member.user.username, "password": "wrong"}
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert "_auth_user_id" not in client.session


def test_login_page_keeps_next_for_the_post(client: Client) -> None:
    response = client.get(reverse("members:login") + "?next=/profile/")

    assert response.status_code == 200
    assert '<input type="hidden" name="next" value="/profile/">' in response.content.decode()


def test_logout_refuses_get(member_client: Client) -> None:
    response = member_client.get(reverse("members:logout"))

    assert response.status_code == 405
    assert "_auth_user_id" in member_client.session


def test_logout_by_post_ends_the_session(member_client: Client) -> None:
    response = member_client.post(reverse("members:logout"))

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert "_auth_user_id" not in member_client.session


def test_logout_requires_csrf(member) -> None:
    client = Client(enforce_csrf_checks=True)
    client.login(username=member.user.username, password=PASSWORD)

    response = client.post(reverse("members:logout"))

    assert response.status_code == 403
