from django.contrib import admin
from django.urls import include, path

from catalog import urls as catalog_urls
from web import views as web_views

# The catalog's pages, with its course list served by `web` (search results ordered for a
# signed-in member need the recommendations, which the catalog may not import); the name stays
# `catalog:course_list`.
catalog_pages = [
    path("courses/", web_views.course_list, name="course_list"),
    *catalog_urls.urlpatterns,
]

urlpatterns = [
    path("", web_views.home, name="home"),
    path("admin/", admin.site.urls),
    path("api/", include("config.api_urls")),
    path("recommendations/", include("recommendations.urls")),
    path("", include((catalog_pages, catalog_urls.app_name))),
    path("", include("web.urls")),
    path("", include("members.urls")),
]

handler500 = "core.api_errors.server_error"
