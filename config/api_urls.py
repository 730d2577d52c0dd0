"""The JSON API, mounted at /api/ by config/urls.py.

/api/v1/...      the endpoints (docs/api.md)
/api/schema/     the OpenAPI 3 schema (drf-spectacular)
/api/docs/       Swagger UI over that schema, its assets served locally (drf-spectacular-sidecar),
                 its script from /api/docs/?script (no inline script, for the CSP)
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from catalog import api as catalog_api
from core.api_errors import api_not_found
from core.inputs import IdConverter  # noqa: F401  (registers the <id:...> path converter)
from members import api as members_api
from recommendations import api as recommendations_api
from recommendations.people import api as people_api
from web import api as web_api

v1 = [
    path("auth/token/", members_api.TokenView.as_view(), name="auth_token"),
    path(
        "auth/password-reset/",
        members_api.PasswordResetView.as_view(),
        name="auth_password_reset",
    ),
    # The catalog's course search, ordered for a signed-in member (recommendations/api.py).
    path("courses/", recommendations_api.CourseSearchView.as_view(), name="courses"),
    path("courses/<id:course_id>/", catalog_api.CourseDetailView.as_view(), name="course"),
    path(
        "courses/<id:course_id>/similar/",
        recommendations_api.SimilarCoursesView.as_view(),
        name="course_similar",
    ),
    path("skills/", catalog_api.SkillListView.as_view(), name="skills"),
    path("skills/<slug:slug>/", catalog_api.SkillDetailView.as_view(), name="skill"),
    path("categories/", catalog_api.CategoryListView.as_view(), name="categories"),
    # The profile (members) with DELETE, the account deletion, added by web.
    path("me/", web_api.MeView.as_view(), name="me"),
    path("me/export/", web_api.MeExportView.as_view(), name="me_export"),
    path("me/goal/", web_api.MeGoalView.as_view(), name="me_goal"),
    path("me/onboarding/", members_api.OnboardingView.as_view(), name="me_onboarding"),
    path("me/learning/", members_api.LearningView.as_view(), name="me_learning"),
    path("me/password/", members_api.PasswordView.as_view(), name="me_password"),
    path("titles/", members_api.JobTitleSearchView.as_view(), name="titles"),
    path(
        "recommendations/",
        recommendations_api.RecommendationsView.as_view(),
        name="recommendations",
    ),
    path(
        "recommendations/rerank/",
        recommendations_api.RerankView.as_view(),
        name="recommendations_rerank",
    ),
    path("events/", recommendations_api.EventsView.as_view(), name="events"),
    path("people/", people_api.PeopleView.as_view(), name="people"),
    path("people/<id:person_id>/hide/", people_api.PersonHideView.as_view(), name="people_hide"),
    path("people/<id:person_id>/click/", people_api.PersonClickView.as_view(), name="people_click"),
    path("admin/retrain/", recommendations_api.RetrainView.as_view(), name="admin_retrain"),
    path(
        "admin/training-runs/",
        recommendations_api.TrainingRunListView.as_view(),
        name="admin_training_runs",
    ),
    path(
        "admin/recommendations/",
        recommendations_api.BatchRecommendationsView.as_view(),
        name="admin_recommendations",
    ),
]

app_name = "api"

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Its script from a URL of its own and its styles from static/: no inline script or style,
    # which the Content-Security-Policy refuses.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", template_name="api/swagger_ui.html"
        ),
        name="docs",
    ),
    # [\s\S], not ".": a path with an encoded newline must reach the JSON 404 too.
    re_path(r"^(?P<unmatched>[\s\S]*)$", api_not_found),
]
