"""A person's residual statement in the staff admin: one page per person, reached by the
"Residual statement" link of the person's page, that shows the statement's totals and lines for
an optional period and downloads it as PDF or CSV. The statement is the API's
(compensation.residuals.statements), cut to the staff member's scope the same way; a person
outside it is a 404.

The page belongs to no model's admin: the person's admin is the registry's (and the privacy desk
registers it again), so the page is added to the admin site's own addresses, ahead of the site's
catch-all."""

from django import forms
from django.contrib import admin
from django.http import Http404, HttpResponse, HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from core import csv_safe
from core.admin.form_fields import StrictDateFormField
from ledger import access
from ledger.access import request_scope

from .. import statements

PDF = "application/pdf"


class PeriodForm(forms.Form):
    period_from = StrictDateFormField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Residual runs whose period ends on or after this date.",
    )
    period_to = StrictDateFormField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Residual runs whose period starts on or before this date.",
    )

    def clean(self):
        data = super().clean() or {}
        start, end = data.get("period_from"), data.get("period_to")
        if start is not None and end is not None and start > end:
            self.add_error("period_to", "The period ends before it starts.")
        return data


def statement_view(request, person_id: int) -> HttpResponseBase:
    scope = request_scope(request)
    person = access.people(scope).filter(pk=person_id).distinct().first()
    if person is None:
        raise Http404
    form = PeriodForm(request.GET)
    statement = None
    if form.is_valid():
        period = {k: v for k, v in form.cleaned_data.items() if v is not None}
        statement = statements.statement(person, scope=scope, **period)
        kind = request.GET.get("download")
        if kind == "csv":
            csv_text = statements.statement_csv(statement)
            return csv_safe.download(csv_text, statements.file_name(statement, "csv"))
        if kind == "pdf":
            response = HttpResponse(statements.statement_pdf(statement), content_type=PDF)
            name = statements.file_name(statement, "pdf")
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
    context = {
        **admin.site.each_context(request),
        "title": f"Residual statement: {person.legal_name}",
        "person": person,
        "form": form,
        "statement": statements.context(statement) if statement is not None else None,
    }
    return TemplateResponse(request, "residuals/admin_statement.html", context)


def statement_urls(site: admin.AdminSite) -> list[URLPattern]:
    return [
        path(
            "residuals/statements/<int:person_id>/",
            site.admin_view(statement_view),
            name="residual_statement",
        )
    ]


def _with_statement_urls(site: admin.AdminSite) -> None:
    site_urls = site.get_urls
    site.get_urls = lambda: [*statement_urls(site), *site_urls()]  # type: ignore[method-assign]


_with_statement_urls(admin.site)
