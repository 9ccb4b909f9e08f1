"""Public addresses, outside the API and the admin: the published AI disclosure labels, as a page,
as JSON, and as a PDF and a PNG that carry signed Content Credentials (reports.credentials)."""

from django.urls import path

from . import views

urlpatterns = [
    path("<uuid:public_id>/", views.label_page, name="disclosure-label"),
    path("<uuid:public_id>.json", views.label_json, name="disclosure-label-json"),
    path("<uuid:public_id>.pdf", views.label_pdf, name="disclosure-label-pdf"),
    path("<uuid:public_id>.png", views.label_png, name="disclosure-label-png"),
]
