from django.urls import path

from . import api

urlpatterns = [
    path("people/<int:pk>/export/", api.PersonExportView.as_view(), name="person-export"),
    path("people/<int:pk>/erase/", api.PersonEraseView.as_view(), name="person-erase"),
]
