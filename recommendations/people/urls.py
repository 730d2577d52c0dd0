from django.urls import path

from core.inputs import IdConverter  # noqa: F401  (registers the <id:...> path converter)
from recommendations.people import views

app_name = "people"

urlpatterns = [
    path("", views.people_page, name="people"),
    path("<id:person_id>/", views.person_page, name="person"),
    path("<id:person_id>/hide/", views.hide, name="hide"),
    path("go/<uuid:page_view_id>/<id:person_id>/", views.person_click, name="click"),
]
