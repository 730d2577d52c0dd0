from django.contrib import admin
from django.urls import include, path

from catalog import urls as catalog_urls
from web import views as web_views

# The catalog's pages, with its course list and skill page served by `web` (search results
# ordered for a signed-in member need the recommendations, and the skill page's Follow button the
# members app, neither of which the catalog may import); the names stay `catalog:course_list` and
# `catalog:skill_detail`.
catalog_pages = [
    path("courses/", web_views.course_list, name="course_list"),
    *catalog_urls.urlpatterns,
    # After the catalog's skills/search/, which skill_detail would otherwise take for a slug.
    path("skills/<slug:slug>/", web_views.skill_detail, name="skill_detail"),
]

urlpatterns = [
    path("", web_views.home, name="home"),
    path("admin/", admin.site.urls),
    path("api/", include("config.api_urls")),
    path("recommendations/", include("recommendations.urls")),
    path("people/", include("recommendations.people.urls")),
    path("digest/", include("recommendations.digest.urls")),
    path("", include((catalog_pages, catalog_urls.app_name))),
    path("", include("web.urls")),
    path("", include("members.urls")),
]

handler500 = "core.api_errors.server_error"
