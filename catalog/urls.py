from django.urls import path

from catalog import views

app_name = "catalog"

# `catalog:course_list` (`/courses/`) and `catalog:skill_detail` (`/skills/<slug>/`) are added to
# this namespace by config/urls.py: their views are `web`'s, which order a signed-in member's
# results for them and show whether the member follows the skill.
urlpatterns = [
    path("skills/", views.skill_list, name="skill_list"),
    path("skills/search/", views.skill_search, name="skill_search"),
]
