"""Guided registry workflows in the staff admin: attaching agreements to a production from its
page, and importing engagements from a CSV file with a preview before anything is written.

The pages only collect input and show results; `ledger.registry.services` and
`ledger.registry.engagement_import` decide and write. A refusal is shown as an error message and
changes nothing.
"""

from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from core import csv_safe
from core.errors import DomainError
from ledger import access
from ledger.models import Agreement, Engagement, Production
from ledger.registry import engagement_import, services

MAX_UPLOAD_BYTES = 1 << 20
_SIGNING_SALT = "ledger.engagement-import"
_PREVIEW_MAX_AGE = 60 * 60  # seconds a previewed file may wait for its confirmation


# --- agreements of a production -------------------------------------------------------------


class _InForceFirst(forms.models.ModelChoiceIterator):
    """The agreement choices in two groups: those in force when the work is done, then the rest
    (which may still be chosen: a date may be wrong, or work may be recorded late)."""

    field: "AgreementChoiceField"

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        in_force: list = []
        others: list = []
        for agreement in self.queryset:
            (in_force if self.field.in_force(agreement) else others).append(self.choice(agreement))
        yield from (
            (label, group)
            for label, group in zip(self.field.groups, (in_force, others), strict=True)
            if group
        )


class AgreementChoiceField(forms.ModelChoiceField):
    """An agreement chosen by staff: labelled with its term, in force first (RULES.md §1: the
    version that governs a piece of work is the one in force on its date). `in_force` tells
    which ones are; `groups` names the two groups."""

    iterator = _InForceFirst

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.in_force: Callable[[Agreement], bool] = lambda agreement: True
        self.groups = ("In force", "Not in force")

    def offer(self, queryset, in_force: Callable[[Agreement], bool], groups: tuple[str, str]):
        self.in_force, self.groups = in_force, groups
        self.queryset = queryset.select_related("guild")

    def label_from_instance(self, obj):
        return f"{obj.code} — {obj.name} ({obj.term_label})"


def offer_agreements_for_production(field, production: Production, queryset) -> None:
    """The attach choices of `production`: in force on some day of it first."""
    cast(AgreementChoiceField, field).offer(
        queryset,
        lambda a: a.in_force_during(production.start_date, production.end_date),
        (
            "In force during the production",
            "Not in force during the production (attaching warns)",
        ),
    )


def offer_agreements_for_engagement(
    field: AgreementChoiceField, scope: access.Scope, engagement: Engagement | None
) -> None:
    """The agreement choices of an engagement form: only agreements it may be under (attached
    to its production; adding, to one of the caller's productions), in force on its start date
    first (adding, in force today first)."""
    if engagement is not None:
        field.offer(
            Agreement.objects.filter(attachments__production_id=engagement.production_id),
            lambda a: a.in_force_on(engagement.start_date),
            ("In force on the start date", "Not in force on the start date"),
        )
        return
    attached = Agreement.objects.filter(
        attachments__production__in=access.writable_productions(scope)
    ).distinct()
    today = timezone.localdate()
    field.offer(attached, lambda a: a.in_force_on(today), ("In force today", "Not in force today"))


class AttachForm(forms.Form):
    agreement = AgreementChoiceField(
        queryset=Agreement.objects.none(),
        label="Agreement",
        empty_label="Choose an agreement",
        error_messages={"required": "Choose an agreement to attach."},
    )

    def __init__(self, *args, production: Production, **kwargs):
        kwargs["prefix"] = "attach"
        super().__init__(*args, **kwargs)
        offer_agreements_for_production(
            self.fields["agreement"],
            production,
            Agreement.objects.exclude(attachments__production=production),
        )


class DetachForm(forms.Form):
    agreement = forms.ModelChoiceField(queryset=Agreement.objects.all(), label="Agreement")


def production_agreement_urls(model_admin) -> list:
    def view(service):
        return model_admin.admin_site.admin_view(
            require_POST(
                lambda request, object_id: _change_attachment(
                    model_admin, request, object_id, service
                )
            )
        )

    return [
        path(
            "<path:object_id>/agreements/attach/",
            view(services.production_attach),
            name="ledger_production_attach",
        ),
        path(
            "<path:object_id>/agreements/detach/",
            view(services.production_detach),
            name="ledger_production_detach",
        ),
    ]


def agreements_context(model_admin, request, object_id) -> dict:
    """What the production page's Agreements section shows: the attached agreements and, for
    the production's studio staff, the form that attaches another."""
    production = model_admin.get_object(request, object_id)
    if production is None:
        return {}
    writable = access.request_scope(request).can_write_studio(production.studio_id)
    return {
        "agreements_section": True,
        "attachments": production.attachments.select_related("agreement__guild"),
        "attach_form": AttachForm(production=production) if writable else None,
        "can_change_agreements": writable,
    }


def _change_attachment(model_admin, request, object_id, service):
    production = model_admin.get_object(request, object_id)
    if production is None:
        raise Http404
    if not access.request_scope(request).can_write_studio(production.studio_id):
        raise PermissionDenied
    attaching = service is services.production_attach
    form = (
        AttachForm(request.POST, production=production)
        if attaching
        else DetachForm(request.POST, prefix="detach")
    )
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(error) for error in errors))
    else:
        agreement = form.cleaned_data["agreement"]
        try:
            changed = service(actor=request.user, production=production, agreement=agreement)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            verb = "attached to" if attaching else "detached from"
            if changed:
                messages.success(request, f"{agreement.code} is {verb} {production}.")
            else:
                messages.info(request, f"{agreement.code} was already {verb} {production}.")
            if attaching:
                for warning in services.production_attach_warnings(
                    production=production, agreement=agreement
                ):
                    messages.warning(request, warning.message)
    url = reverse("admin:ledger_production_change", args=[production.pk])
    return redirect(f"{url}#agreements")


# --- engagements from CSV --------------------------------------------------------------------


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8 text with a header row; the columns are listed below.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {MAX_UPLOAD_BYTES // 1024} KiB; split it."
            )
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(
                "The file is not UTF-8 text; save the spreadsheet as CSV UTF-8."
            ) from None


class ConfirmForm(forms.Form):
    """The previewed file, signed, so that the confirmation records exactly what was shown."""

    content = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, user_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.salt = f"{_SIGNING_SALT}:{user_id}"

    @classmethod
    def for_text(cls, text: str, *, user_id):
        form = cls(user_id=user_id)
        form.initial["content"] = signing.dumps(text, salt=form.salt, compress=True)
        return form

    def clean_content(self):
        try:
            return signing.loads(
                self.cleaned_data["content"], salt=self.salt, max_age=_PREVIEW_MAX_AGE
            )
        except signing.SignatureExpired:
            raise forms.ValidationError(
                "The preview is more than an hour old; upload the file again."
            ) from None
        except signing.BadSignature:
            raise forms.ValidationError(
                "The confirmation does not match a previewed file; upload it again."
            ) from None


def engagement_import_urls(model_admin) -> list:
    return [
        path(
            "import/",
            model_admin.admin_site.admin_view(lambda r: engagement_import_view(model_admin, r)),
            name="ledger_engagement_import",
        ),
        path(
            "import/template.csv",
            model_admin.admin_site.admin_view(lambda r: engagement_template_view(model_admin, r)),
            name="ledger_engagement_import_template",
        ),
    ]


def engagement_template_view(model_admin, request):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    return csv_safe.download(engagement_import.template_csv(), "engagements-template.csv")


def engagement_import_view(model_admin, request):
    """Upload -> preview (writes nothing) -> "Confirm import" (writes every row or none)."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    context: dict[str, Any] = {"upload_form": UploadForm(), "preview": None, "confirm_form": None}
    if request.method == "POST" and "confirm" in request.POST:
        confirm = ConfirmForm(request.POST, user_id=request.user.pk)
        if confirm.is_valid():
            done = _confirm(model_admin, request, confirm.cleaned_data["content"], context)
            if done is not None:
                return done
        else:
            context["confirm_error"] = confirm.errors["content"][0]
    elif request.method == "POST":
        upload = UploadForm(request.POST, request.FILES)
        context["upload_form"] = upload
        if upload.is_valid():
            problem = _preview(request, upload.cleaned_data["file"], context)
            if problem:
                upload.add_error("file", problem)
    return _render(model_admin, request, context)


def _preview(request, text: str, context: dict) -> str | None:
    """Put the file's preview in `context`; return why the file is unusable, if it is."""
    try:
        preview = engagement_import.engagement_import_preview(
            scope=access.request_scope(request), text=text
        )
    except DomainError as error:
        return error.message
    context["preview"] = preview
    if preview.ok:
        context["confirm_form"] = ConfirmForm.for_text(text, user_id=request.user.pk)
    return None


def _confirm(model_admin, request, text: str, context: dict):
    try:
        created = engagement_import.engagement_import(
            actor=request.user, scope=access.request_scope(request), text=text
        )
    except DomainError as error:
        # The registry changed since the preview: show the file again with today's errors.
        messages.error(request, error.message)
        context["confirm_error"] = _preview(request, text, context)
        return None
    model_admin.message_user(request, f"Imported {len(created)} engagement(s).", messages.SUCCESS)
    return redirect(reverse("admin:ledger_engagement_changelist"))


def _render(model_admin, request, context: dict):
    productions = access.writable_productions(
        access.request_scope(request),
        Production.objects.prefetch_related("agreements").order_by("title"),
    )
    context.update(
        model_admin.admin_site.each_context(request),
        title="Import engagements from CSV",
        opts=model_admin.model._meta,
        columns=[(c, engagement_import.COLUMN_HELP[c]) for c in engagement_import.COLUMNS],
        productions=productions[:200],
        max_rows=engagement_import.MAX_ROWS,
    )
    return TemplateResponse(request, "admin/ledger/engagement/import.html", context)
