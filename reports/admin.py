"""The reporting admin: stored reports (the HTML page, PDF, CSV and JSON; run one now), who
receives them, what was sent, consent receipts to download or send, the disclosure label, and
flags for follow-up. The report schedules are django-celery-beat's own admin pages (Periodic
tasks). The dashboard above the app list is `templates/admin/index.html` (reports.dashboard)."""

import json
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from consent import selectors as consent_selectors
from core import csv_safe
from core.admin import display
from core.admin.base import ServiceForm, add_field_errors
from core.admin.form_fields import StrictDateFormField
from core.errors import DomainError
from core.parse import ParseError, parse_ascii_id
from ledger import access
from ledger.access import Scope, request_scope
from ledger.access.admin import ReadOnlyHistoryAdmin, ScopedAdmin
from ledger.models import Guild, Production, Studio

from . import (
    label,
    notifications,
    open_items,
    receipts,
    remittance,
    render,
    rules_reference,
    selectors,
    services,
)
from .compliance import Target
from .models import (
    FLAG_TARGETS,
    ConsentReceipt,
    DisclosureLabel,
    Flag,
    Notification,
    NotificationPreference,
    ReceiptDelivery,
    Report,
    ReportDelivery,
    Subscription,
)


def _ascii_id(value) -> int | None:
    """An id from a query parameter, or None: ASCII digits only ("²" and "٢١" name no row)."""
    try:
        return parse_ascii_id(value, field="id")
    except ParseError:
        return None


class RunReportForm(forms.Form):
    production = forms.ModelChoiceField(queryset=Production.objects.none(), required=False)
    studio = forms.ModelChoiceField(queryset=Studio.objects.none(), required=False)
    guild = forms.ModelChoiceField(queryset=Guild.objects.none(), required=False)
    period_from = StrictDateFormField(help_text="YYYY-MM-DD")
    period_to = StrictDateFormField(help_text="YYYY-MM-DD")
    send = forms.BooleanField(required=False, help_text="Also e-mail it to the subscribers.")

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        guilds = Guild.objects.all()
        choices = {
            "production": access.writable_productions(scope),
            "studio": access.writable_studios(scope),
            "guild": guilds if scope.superuser else guilds.filter(id__in=scope.guild_ids),
        }
        for name, queryset in choices.items():
            cast(forms.ModelChoiceField, self.fields[name]).queryset = queryset

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        named = [data[k] for k in ("production", "studio", "guild") if data.get(k)]
        if len(named) != 1:
            raise forms.ValidationError("Choose exactly one production, studio or guild.")
        if (
            data.get("period_from")
            and data.get("period_to")
            and data["period_to"] < data["period_from"]
        ):
            raise forms.ValidationError("The period cannot end before it starts.")
        data["target"] = Target.of(named[0])
        return data


@admin.register(Report)
class ReportAdmin(ReadOnlyHistoryAdmin):
    list_display = ["__str__", "origin", "generated_at", "findings", "short_hash", "downloads"]
    list_filter = ["scope_kind", "origin"]
    search_fields = ["scope_key", "sha256"]
    date_hierarchy = "generated_at"
    change_list_template = "admin/reports/report/change_list.html"
    scope_queryset = staticmethod(selectors.reports)
    exclude = ["counts"]  # the report page shows each section with its count

    @admin.display(description="findings")
    def findings(self, obj):
        # Voided uses are listed for the record, not found wrong.
        return sum(n for key, n in obj.counts.items() if key != "voided_uses")

    @admin.display(description="SHA-256")
    def short_hash(self, obj):
        return obj.sha256[:16] + "…"

    @admin.display(description="download")
    def downloads(self, obj):
        links = [
            (reverse(f"admin:reports_report_{kind}", args=[obj.pk]), kind.upper())
            for kind in ("pdf", "csv", "json")
        ]
        return format_html(
            " · ".join(['<a href="{}">{}</a>'] * len(links)), *[x for link in links for x in link]
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("run/", view(self.run_view), name="reports_report_run"),
            path("<int:object_id>/pdf/", view(self.pdf_view), name="reports_report_pdf"),
            path("<int:object_id>/csv/", view(self.csv_view), name="reports_report_csv"),
            path("<int:object_id>/json/", view(self.json_view), name="reports_report_json"),
            path("rules/", view(rules_reference_view), name="reports_rules_reference"),
            path("remittance/", view(remittance_view), name="reports_remittance"),
            *super().get_urls(),
        ]

    def _report(self, request, object_id) -> Report:
        report = self.get_queryset(request).filter(pk=object_id).first()
        if report is None:
            raise Http404
        return report

    def change_view(self, request, object_id, form_url="", extra_context=None):
        report = self._report(request, object_id)
        context = {
            **self.admin_site.each_context(request),
            **render.context(report),
            "title": str(report),
            "opts": self.model._meta,
            "original": report,
            "downloads": self.downloads(report),
        }
        return TemplateResponse(request, "admin/reports/report/report.html", context)

    def pdf_view(self, request, object_id):
        report = self._report(request, object_id)
        return render.attachment(
            render.pdf(report), "application/pdf", render.file_name(report, "pdf")
        )

    def csv_view(self, request, object_id):
        report = self._report(request, object_id)
        return csv_safe.download(render.csv_text(report), render.file_name(report, "csv"))

    def json_view(self, request, object_id):
        report = self._report(request, object_id)
        response = HttpResponse(report.content, content_type="application/json")
        response["Content-Disposition"] = (
            f'attachment; filename="{render.file_name(report, "json")}"'
        )
        return response

    def _report_made(self, request, report, *, send: bool):
        if not send:
            self.message_user(request, f"{report} made.", messages.SUCCESS)
            return
        delivery = services.report_send_now(report=report)
        if delivery.status == "failed":
            self.message_user(
                request,
                f"{report} made, but the mail server could not send it (sent to "
                f"{delivery.sent} subscriber(s) before it failed).",
                messages.WARNING,
            )
        else:
            self.message_user(
                request, f"{report} made; sent to {delivery.sent} subscriber(s).", messages.SUCCESS
            )

    def run_view(self, request):
        scope = request_scope(request)
        if scope.is_empty or scope.payroll_key is not None:
            raise PermissionDenied
        form = RunReportForm(request.POST or None, scope=scope)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                report, _ = services.report_generate(
                    target=data["target"],
                    period_from=data["period_from"],
                    period_to=data["period_to"],
                    origin=Report.Origin.ON_DEMAND,
                    actor=request.user,
                )
            except DomainError as error:
                for field, message in error.fields.items():
                    if field in form.fields:
                        form.add_error(field, str(message))
                form.add_error(None, error.message)
            else:
                self._report_made(request, report, send=data["send"])
                return redirect(reverse("admin:reports_report_change", args=[report.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Run a compliance report now",
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/reports/report/run.html", context)


def rules_reference_view(request):
    """The rules reference (reports.rules_reference), read-only, for every staff user: it shows
    the shipped rules and figures, no record of anyone's."""
    context = {
        **admin.site.each_context(request),
        "title": "Rules reference",
        "reference": rules_reference.build(),
        "intro": rules_reference.INTRO,
        "regenerate": rules_reference.REGENERATE,
    }
    return TemplateResponse(request, "admin/reports/rules_reference.html", context)


def open_items_view(request):
    """The signed-in user's open items (reports.open_items), each linking to the page where it
    is resolved."""
    scope = request_scope(request)
    if scope.payroll_key is not None:
        raise PermissionDenied
    context = {
        **admin.site.each_context(request),
        "title": "My open items",
        "groups": open_items.open_items(scope, now=timezone.now()),
    }
    return TemplateResponse(request, "admin/reports/open_items.html", context)


NOTIFICATIONS_PER_PAGE = 50


@require_http_methods(["GET", "POST"])
def notifications_view(request):
    """The signed-in user's notifications (reports.notifications), newest first, the unread
    marked, each linking to its page; POST marks them all read."""
    if request.method == "POST":
        count = notifications.notifications_mark_read(user=request.user, now=timezone.now())
        messages.success(request, f"{count} notification(s) marked as read.")
        return redirect("notifications")
    rows = Notification.objects.filter(user=request.user).order_by("-created_at", "-id")
    page = Paginator(rows, NOTIFICATIONS_PER_PAGE).get_page(request.GET.get("page"))
    for row in page.object_list:
        row.group = open_items.TITLES.get(row.kind, row.kind)
    context = {
        **admin.site.each_context(request),
        "title": "My notifications",
        "page": page,
        "unread": notifications.unread_count(request.user, at_most=1000),
    }
    return TemplateResponse(request, "admin/reports/notifications.html", context)


def notification_open_view(request, pk: str):
    """Open a notification of the signed-in user's: marked read, on to its page. Another
    user's notification is 404."""
    notification_id = _ascii_id(pk)
    if notification_id is None:
        raise Http404
    found = Notification.objects.filter(user=request.user, pk=notification_id).first()
    if found is None:
        raise Http404
    notifications.notifications_mark_read(user=request.user, now=timezone.now(), ids=[found.pk])
    # The stored path is the product's own; a full URL would send the user off the site.
    safe = url_has_allowed_host_and_scheme(found.url, allowed_hosts=None)
    return redirect(found.url if safe and found.url.startswith("/") else "notifications")


class NotificationPreferenceForm(forms.Form):
    email = forms.ChoiceField(
        label="E-mail me",
        choices=NotificationPreference.Email.choices,
        widget=forms.RadioSelect,
    )
    muted = forms.MultipleChoiceField(
        label="Do not notify me of",
        required=False,
        choices=list(open_items.TITLES.items()),
        widget=forms.CheckboxSelectMultiple,
        help_text="Groups of open items left out of your notifications; they stay on your "
        "open items page.",
    )


@require_http_methods(["GET", "POST"])
def notification_preferences_view(request):
    """The signed-in user's own notification preference: how often to receive e-mail, and
    which groups of open items to leave out."""
    preference = notifications.preference_of(request.user)
    initial = {"email": preference.email, "muted": list(preference.muted or [])}
    data = request.POST if request.method == "POST" else None
    form = NotificationPreferenceForm(data, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            notifications.preference_set(
                user=request.user,
                email=form.cleaned_data["email"],
                muted=form.cleaned_data["muted"],
                actor=request.user,
            )
        except DomainError as error:
            add_field_errors(form, error)
            if not error.fields:
                form.add_error(None, error.message)
        else:
            messages.success(request, "Your notification preference is saved.")
            return redirect("notification-preferences")
    context = {
        **admin.site.each_context(request),
        "title": "Notification preference",
        "form": form,
        "address": request.user.email,
        "digest_hour": settings.NOTIFICATION_DIGEST_HOUR,
    }
    return TemplateResponse(request, "admin/reports/notification_preferences.html", context)


class RemittanceForm(forms.Form):
    """The remittance report's parameters, read from the page's query string (the page can be
    bookmarked, and shown, printed or downloaded with the same link)."""

    fund = forms.ChoiceField()
    period_from = StrictDateFormField(help_text="YYYY-MM-DD")
    period_to = StrictDateFormField(
        help_text="YYYY-MM-DD. The contributions whose obligation period ends in the period."
    )
    studio = forms.ChoiceField(required=False)

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["fund"]).choices = remittance.fund_choices()
        studios = access.studios(scope).order_by("name").values_list("slug", "name")
        cast(forms.ChoiceField, self.fields["studio"]).choices = [
            ("", "Every studio in view"),
            *studios,
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("period_from") and data.get("period_to"):
            period_from, period_to = data["period_from"], data["period_to"]
            try:
                remittance.check_parameters(
                    fund=data.get("fund", ""), period_from=period_from, period_to=period_to
                )
            except DomainError as error:
                add_field_errors(self, error)
            if period_to < period_from:  # on the form, a slip worth saying
                self.add_error("period_to", "The period cannot end before it starts.")
        return data


def remittance_view(request):
    """The union-fund remittance report for studio and guild staff: shown on the page, or
    downloaded as PDF or CSV (`as=pdf`, `as=csv`)."""
    scope = request_scope(request)
    if scope.is_empty or scope.payroll_key is not None:
        raise PermissionDenied
    form = RemittanceForm(request.GET if "fund" in request.GET else None, scope=scope)
    report = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            report = remittance.remittance(
                scope,
                fund=data["fund"],
                period_from=data["period_from"],
                period_to=data["period_to"],
                studio=data.get("studio") or None,
            )
        except DomainError as error:
            add_field_errors(form, error)
            if not error.fields:
                form.add_error(None, error.message)
    kind = request.GET.get("as")
    if report is not None and kind == "pdf":
        return render.attachment(remittance.pdf(report), "application/pdf", report.file_name("pdf"))
    if report is not None and kind == "csv":
        return csv_safe.download(report.csv_text(), report.file_name("csv"))
    context = {
        **admin.site.each_context(request),
        "title": "Fund remittance",
        "form": form,
        "remittance": report,
    }
    return TemplateResponse(request, "admin/reports/remittance.html", context)


@admin.register(ReportDelivery)
class ReportDeliveryAdmin(ReadOnlyHistoryAdmin):
    list_display = ["report", "email", "user", "sent_at"]
    list_select_related = ["report__production", "report__studio", "report__guild", "user"]

    @staticmethod
    def scope_queryset(scope, qs):
        return qs.filter(report__in=selectors.reports(scope))


@admin.register(Subscription)
class SubscriptionAdmin(ScopedAdmin):
    """Each staff user manages their own subscriptions; administrators everyone's."""

    list_display = ["user", "studio", "guild", "active", "created_at"]
    list_select_related = ["user", "studio", "guild"]  # studio and guild may be empty
    list_filter = ["active"]
    fields = ["user", "studio", "guild", "active"]

    @staticmethod
    def scope_queryset(scope, qs):
        return qs

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(user=request.user)

    def has_add_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request) and (
            obj is None or request.user.is_superuser or obj.user_id == request.user.pk
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return ["user", "studio", "guild"]
        return []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        scope = request_scope(request)
        if db_field.name == "user" and not request.user.is_superuser:
            kwargs["queryset"] = get_user_model().objects.filter(pk=request.user.pk)
            kwargs["initial"] = request.user.pk
        elif db_field.name == "studio" and not scope.superuser:
            kwargs["queryset"] = Studio.objects.filter(id__in=scope.studio_ids)
        elif db_field.name == "guild" and not scope.superuser:
            kwargs["queryset"] = Guild.objects.filter(id__in=scope.guild_ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        try:
            saved = services.subscription_set(
                actor=request.user,
                user=obj.user,
                studio=obj.studio,
                guild=obj.guild,
                active=obj.active,
            )
        except DomainError as error:
            raise PermissionDenied(error.message) from error
        obj.pk = saved.pk


@admin.register(ConsentReceipt)
class ConsentReceiptAdmin(ReadOnlyHistoryAdmin):
    """Every consent, with the receipts of its grant and of each revocation and suspension:
    download them, or send them to the person."""

    list_display = ["__str__", "person", "production", "signed_at", "receipt_links"]
    list_select_related = ["person", "production"]
    search_fields = ["person__legal_name", "person__professional_name", "production__title"]
    actions = ["send_receipts"]
    scope_queryset = staticmethod(consent_selectors.consents)

    @admin.display(description="receipts")
    def receipt_links(self, obj):
        links = [(reverse("admin:reports_consentreceipt_pdf", args=[obj.pk]), "grant")]
        for event in obj.events.all():
            url = reverse("admin:reports_consentreceipt_pdf", args=[obj.pk])
            links.append((f"{url}?event={event.pk}", event.kind))
        return format_html(
            " · ".join(['<a href="{}">{}</a>'] * len(links)), *[x for link in links for x in link]
        )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("events")

    def get_urls(self):
        return [
            path(
                "<int:object_id>/pdf/",
                self.admin_site.admin_view(self.pdf_view),
                name="reports_consentreceipt_pdf",
            ),
            *super().get_urls(),
        ]

    def _consent_and_event(self, request, object_id):
        consent = self.get_queryset(request).filter(pk=object_id).first()
        if consent is None:
            raise Http404
        event_id = request.GET.get("event")
        if not event_id:
            return consent, None
        event_pk = _ascii_id(event_id)
        event = consent.events.filter(pk=event_pk).first() if event_pk else None
        if event is None:
            raise Http404
        return consent, event

    def pdf_view(self, request, object_id):
        consent, event = self._consent_and_event(request, object_id)
        receipt = receipts.receipt(consent, event)
        return render.attachment(
            receipts.pdf(receipt), "application/pdf", f"{receipt['record_id']}.pdf"
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The consent's receipts (grant, then each event) in words; the PDF and the API carry
        the signed document itself."""
        consent, _ = self._consent_and_event(request, object_id)
        pdf_url = reverse("admin:reports_consentreceipt_pdf", args=[consent.pk])
        shown = []
        for receipt in receipts.receipts_for(consent):
            event = receipt["consent_event"]
            shown.append(
                {
                    "headline": f"{receipt['record_id']}: {display.words(receipt['event'])}",
                    "pdf_url": f"{pdf_url}?event={event['id']}" if event else pdf_url,
                    "body": display.structured(receipt),
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Receipts of {consent}",
            "opts": self.model._meta,
            "consent": consent,
            "receipts": shown,
        }
        return TemplateResponse(request, "admin/reports/consentreceipt/receipts.html", context)

    @admin.action(description="Send the receipts (grant and latest event) to the person")
    def send_receipts(self, request, queryset):
        scope = request_scope(request)
        for consent in queryset.order_by("pk"):
            if not scope.can_write_studio(consent.production.studio_id):
                self.message_user(request, f"{consent}: not yours to send.", messages.ERROR)
                continue
            event = consent.events.order_by("-effective_at", "-id").first()
            try:
                delivery = services.receipt_send(actor=request.user, consent=consent, event=event)
            except DomainError as error:
                self.message_user(request, f"{consent}: {error.message}", messages.ERROR)
            else:
                self.message_user(
                    request, f"{consent}: sent to {delivery.email}.", messages.SUCCESS
                )


@admin.register(ReceiptDelivery)
class ReceiptDeliveryAdmin(ReadOnlyHistoryAdmin):
    list_display = ["consent", "event", "email", "sent_by", "sent_at"]
    list_select_related = ["consent__person", "consent__production", "event", "sent_by"]

    @staticmethod
    def scope_queryset(scope, qs):
        return qs.filter(consent__in=consent_selectors.consents(scope))


class LabelForm(forms.ModelForm):
    class Meta:
        model = DisclosureLabel
        fields = ["production", "published"]


@admin.register(DisclosureLabel)
class DisclosureLabelAdmin(ScopedAdmin):
    """Publish a production's AI disclosure label (off by default): its public page needs no
    login and names no one who did not agree to be named."""

    form = LabelForm
    list_display = ["production", "published", "public_link", "changed_at"]
    readonly_fields = ["public_link", "preview"]
    list_select_related = ["production"]

    @staticmethod
    def scope_queryset(scope, qs):
        return qs.filter(production__in=access.productions(scope))

    def writable(self, scope, obj) -> bool:
        return scope.can_write_studio(obj.production.studio_id)

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "production"] if obj else self.readonly_fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "production":
            kwargs["queryset"] = access.writable_productions(request_scope(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="public page")
    def public_link(self, obj):
        if not obj.pk or not obj.published:
            return "not published"
        url = reverse("disclosure-label", args=[obj.public_id])
        return format_html('<a href="{}">{}</a>', url, url)

    @admin.display(description="what it shows")
    def preview(self, obj):
        if not obj.pk:
            return "—"
        return format_html("<pre>{}</pre>", label_preview(obj.production))

    def save_model(self, request, obj, form, change):
        saved = services.label_publish(
            actor=request.user,
            scope=request_scope(request),
            production=obj.production,
            published=obj.published,
        )
        obj.pk = saved.pk


def label_preview(production) -> str:
    return json.dumps(label.content(production), indent=2, ensure_ascii=False)


# --- flags for follow-up ----------------------------------------------------------------------

TARGET_PAGES = {
    "production": "admin:ledger_production_change",
    "consent": "admin:consent_consent_change",
    "ai_use": "admin:consent_aiuse_change",
    "line": "admin:compensation_compensationline_change",
}


class FlagAddForm(ServiceForm):
    """Raise a flag: the target comes from the link that opened the form (hidden fields)."""

    class Meta:
        model = Flag
        fields = [*FLAG_TARGETS, "note"]
        widgets = {
            **{name: forms.HiddenInput for name in FLAG_TARGETS},
            "note": forms.Textarea(attrs={"rows": 6, "cols": 80}),
        }

    def record(self, data):
        targets = [data[name] for name in FLAG_TARGETS if data.get(name)]
        if len(targets) != 1:
            raise DomainError(
                "Open the production, consent, AI use or compensation line to flag, and use its "
                "“Flag for follow-up” link."
            )
        return services.flag_raise(
            actor=self.request.user,
            scope=request_scope(self.request),
            target=targets[0],
            note=data.get("note", ""),
        )


class FlagResolveForm(ServiceForm):
    class Meta:
        model = Flag
        fields = ["resolution_note"]
        labels = {"resolution_note": "Resolution"}
        widgets = {"resolution_note": forms.Textarea(attrs={"rows": 4, "cols": 80})}
        help_texts = {"resolution_note": "What was done about it. Saving resolves the flag."}

    def record(self, data):
        return services.flag_resolve(
            actor=self.request.user,
            scope=request_scope(self.request),
            flag=self.instance,
            note=data.get("resolution_note", ""),
        )


class FlagStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("open", "open"), ("resolved", "resolved")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


class FlagProductionFilter(admin.SimpleListFilter):
    """The production a flag is about, whether it flags the production itself or one of its
    consents, AI uses or compensation lines."""

    title = "production"
    parameter_name = "production"

    def lookups(self, request, model_admin):
        productions = access.productions(request_scope(request)).order_by("title", "id")
        return [(str(pk), title) for pk, title in productions.values_list("pk", "title")]

    def queryset(self, request, queryset):
        production_id = _ascii_id(self.value())
        if production_id:
            return queryset.filter(subject_production_id=production_id)
        return queryset


@admin.register(Flag)
class FlagAdmin(ScopedAdmin):
    """Guild staff raise flags from the page of what they flag; studio staff of the
    production's studio, or the guild, resolve them with a note."""

    list_display = [
        "__str__",
        "production_title",
        "about",
        "guild",
        "note_text",
        "raised_by",
        "created_at",
        "state",
    ]
    list_filter = [FlagStateFilter, FlagProductionFilter, "guild"]
    search_fields = ["note", "resolution_note"]
    list_select_related = ["guild", "raised_by", "resolved_by"]
    scope_queryset = staticmethod(selectors.flags)
    detail_fields = [
        "production_title",
        "about",
        "guild",
        "note",
        "raised_by",
        "created_at",
        "state",
        "resolved_by",
        "resolved_at",
    ]

    def get_queryset(self, request):
        title = Production.objects.filter(pk=OuterRef("subject_production_id")).values("title")
        return super().get_queryset(request).annotate(subject_title=Subquery(title))

    def has_add_permission(self, request, obj=None):
        scope = request_scope(request)
        return scope.payroll_key is None and bool(scope.guild_ids)

    def has_change_permission(self, request, obj=None):
        # Every flag a caller sees is one they may resolve (selectors.flags): only open ones.
        if not self.has_module_permission(request):
            return False
        return obj is None or obj.is_open

    def has_delete_permission(self, request, obj=None):
        return False  # a flag is part of the record: it is resolved, never deleted

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = FlagAddForm if obj is None else FlagResolveForm
        kwargs["fields"] = [*FLAG_TARGETS, "note"] if obj is None else ["resolution_note"]
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return [*FLAG_TARGETS, "note"]
        return [*self.detail_fields, "resolution_note"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        if obj.is_open and self.has_change_permission(request, obj):
            return self.detail_fields
        return [*self.detail_fields, "resolution_note"]

    def get_changeform_initial_data(self, request):
        return {name: request.GET[name] for name in FLAG_TARGETS if request.GET.get(name)}

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if add:
            context["subtitle"] = self._target_words(request)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _target_words(self, request) -> str:
        data = request.POST or request.GET
        for name in FLAG_TARGETS:
            if data.get(name):
                words = {"ai_use": "AI use", "line": "compensation line"}.get(name, name)
                return f"About {words} #{data[name]}"
        return ""

    def save_model(self, request, obj, form, change):
        pass  # raised or resolved by the form's clean() through the service

    def save_related(self, request, form, formsets, change):
        pass

    @admin.display(description="about")
    def about(self, obj):
        kind = obj.target_kind
        url = reverse(TARGET_PAGES[kind], args=[getattr(obj, f"{kind}_id")])
        return format_html('<a href="{}">{}</a>', url, obj.target_label)

    @admin.display(description="production", ordering="subject_title")
    def production_title(self, obj):
        return obj.subject_title

    @admin.display(description="note")
    def note_text(self, obj):
        return obj.note if len(obj.note) <= 120 else obj.note[:119] + "…"

    @admin.display(description="state", ordering="resolved_at")
    def state(self, obj):
        if obj.is_open:
            return format_html('<span class="gl-badge-open">{}</span>', "open")
        return f"resolved {obj.resolved_at:%Y-%m-%d}"
