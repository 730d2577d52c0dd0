from django.urls import path

from core.inputs import IdConverter  # noqa: F401  (registers the <id:...> path converter)
from recommendations import views

app_name = "recommendations"

urlpatterns = [
    path("courses/<id:course_id>/dismiss/", views.dismiss, name="dismiss"),
    path("dismissals/<id:dismissal_id>/undo/", views.undo_dismiss, name="undo_dismiss"),
    path("dismissed/", views.dismissed_list, name="dismissed"),
    path("go/<uuid:page_view_id>/<id:course_id>/", views.click, name="click"),
]
