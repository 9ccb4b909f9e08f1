"""The signing page: reached from the link a consent request sends; the link is the credential.
A person's own page: reached from a link asked for at /me/ and sent to their recorded address.
A person's signed training statement: public, at its unguessable address."""

from django.urls import path

from . import personal_views, training_views, views

urlpatterns = [
    path("sign/<str:token>/", views.sign, name="consent-request-sign"),
    path("sign/<str:token>/new-link/", views.ask_new_link, name="consent-request-new-link"),
    path("me/", personal_views.ask, name="personal-ask"),
    path("me/page/", personal_views.my_page, name="personal-page"),
    path("me/export.json", personal_views.export_json, name="personal-export"),
    path("me/question/", personal_views.question, name="personal-question"),
    path(
        "me/consents/<str:consent_id>/receipt.pdf",
        personal_views.receipt_pdf,
        name="personal-receipt",
    ),
    path(
        "me/consents/<str:consent_id>/evidence",
        personal_views.evidence,
        name="personal-evidence",
    ),
    path("me/consents/<str:consent_id>/revoke/", personal_views.revoke, name="personal-revoke"),
    path("me/consents/<str:consent_id>/suspend/", personal_views.suspend, name="personal-suspend"),
    path("me/<str:token>/", personal_views.open_link, name="personal-open"),
    path(
        "training-preferences/<uuid:public_id>.json",
        training_views.statement,
        name="training-statement",
    ),
]
