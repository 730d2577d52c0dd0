from django.urls import path

from web import views

app_name = "web"

urlpatterns = [
    path("courses/<slug:slug>/", views.course_detail, name="course_detail"),
    path("goal/", views.goal, name="goal"),
    path("account/export/", views.account_export, name="account_export"),
    path("account/delete/", views.account_delete, name="account_delete"),
]
