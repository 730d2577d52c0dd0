from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("courses/", views.course_list, name="course_list"),
    path("skills/", views.skill_list, name="skill_list"),
    # Before skill_detail, which would otherwise take "search" for a skill's slug.
    path("skills/search/", views.skill_search, name="skill_search"),
    path("skills/<slug:slug>/", views.skill_detail, name="skill_detail"),
]
