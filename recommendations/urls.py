from django.urls import path

from recommendations import views

app_name = "recommendations"

urlpatterns = [
    path("courses/<int:course_id>/dismiss/", views.dismiss, name="dismiss"),
    path("dismissals/<int:dismissal_id>/undo/", views.undo_dismiss, name="undo_dismiss"),
    path("dismissed/", views.dismissed_list, name="dismissed"),
    path("go/<uuid:page_view_id>/<int:course_id>/", views.click, name="click"),
]
