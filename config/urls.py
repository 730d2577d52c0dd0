from django.contrib import admin
from django.urls import include, path

from web import views as web_views

urlpatterns = [
    path("", web_views.home, name="home"),
    path("admin/", admin.site.urls),
    path("api/", include("config.api_urls")),
    path("recommendations/", include("recommendations.urls")),
    path("", include("catalog.urls")),
    path("", include("web.urls")),
    path("", include("members.urls")),
]

handler500 = "core.api_errors.server_error"
