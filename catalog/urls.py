from django.urls import path

from catalog import views

app_name = "catalog"

# `catalog:course_list` (`/courses/`) is added to this namespace by config/urls.py: its view is
# `web`'s, which orders a signed-in member's results for them.
urlpatterns = [
    path("skills/", views.skill_list, name="skill_list"),
    # Before skill_detail, which would otherwise take "search" for a skill's slug.
    path("skills/search/", views.skill_search, name="skill_search"),
    path("skills/<slug:slug>/", views.skill_detail, name="skill_detail"),
]
