from django.contrib.auth import views as auth_views
from django.urls import path

from members import views

app_name = "members"

urlpatterns = [
    path("accounts/signup/", views.signup, name="signup"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            template_name="members/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    # Django's LogoutView accepts only POST, so a link or a prefetch cannot log anyone out.
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Password reset (a link by email) and change, Django's views with the site's templates.
    path("accounts/password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="members/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="members/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("accounts/password/change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("profile/email/", views.email_change, name="email_change"),
    path(
        "profile/email/confirm/<str:token>/",
        views.email_change_confirm,
        name="email_change_confirm",
    ),
    path("onboarding/", views.onboarding, name="onboarding"),
    path("onboarding/titles/", views.title_search, name="title_search"),
    path("onboarding/suggestions/", views.title_suggestions, name="title_suggestions"),
    path("onboarding/selected/", views.selected_skills, name="selected_skills"),
    path("profile/", views.profile, name="profile"),
    path("profile/goal/", views.goal_set, name="goal_set"),
    path("profile/goal/clear/", views.goal_clear, name="goal_clear"),
    path("paths/", views.learning_paths, name="learning_paths"),
    path("paths/<slug:slug>/", views.learning_path_detail, name="learning_path"),
    path("paths/<slug:slug>/follow/", views.learning_path_follow, name="learning_path_follow"),
    path(
        "paths/<slug:slug>/unfollow/", views.learning_path_unfollow, name="learning_path_unfollow"
    ),
    path("profile/digest/", views.digest_subscription, name="digest_subscription"),
    path("profile/skills/add/", views.profile_skill_add, name="profile_skill_add"),
    path("profile/skills/remove/", views.profile_skill_remove, name="profile_skill_remove"),
    path("profile/skills/options/", views.skill_options, name="skill_options"),
    path("profile/people/", views.people_settings, name="people_settings"),
    path("profile/follows/add/", views.profile_follow_add, name="profile_follow_add"),
    path("profile/follows/remove/", views.profile_follow_remove, name="profile_follow_remove"),
    path("skills/<slug:slug>/follow/", views.skill_follow, name="skill_follow"),
    path("skills/<slug:slug>/unfollow/", views.skill_unfollow, name="skill_unfollow"),
    path("profile/tokens/create/", views.api_token_create, name="api_token_create"),
    path("profile/tokens/<int:token_id>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("profile/tokens/revoke-all/", views.api_tokens_revoke_all, name="api_tokens_revoke_all"),
    path("learning/<slug:slug>/enrol/", views.enrol, name="enrol"),
    path("learning/<slug:slug>/watch/", views.watch, name="watch"),
    path("learning/<slug:slug>/finish/", views.finish, name="finish"),
    path("learning/<slug:slug>/bookmark/", views.bookmark, name="bookmark"),
    path("my-learning/", views.my_learning, name="my_learning"),
]
