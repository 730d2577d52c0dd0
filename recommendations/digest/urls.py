from django.urls import path

from recommendations.digest import views

app_name = "digest"

urlpatterns = [
    path("preview/", views.preview, name="preview"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("<str:token>/", views.click, name="click"),
]
