from django.urls import path

from web import views

app_name = "web"

urlpatterns = [
    path("courses/<slug:slug>/", views.course_detail, name="course_detail"),
]
