"""Public addresses, outside the API and the admin: the published AI disclosure labels."""

from django.urls import path

from . import views

urlpatterns = [
    path("<uuid:public_id>/", views.label_page, name="disclosure-label"),
    path("<uuid:public_id>.json", views.label_json, name="disclosure-label-json"),
]
