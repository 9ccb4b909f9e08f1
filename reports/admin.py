"""The reporting admin: stored reports (the HTML page, PDF, CSV and JSON; run one now), who
receives them, what was sent, consent receipts to download or send, and the disclosure label.
The report schedules are django-celery-beat's own admin pages (Periodic tasks)."""

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from consent import selectors as consent_selectors
from ledger import access
from ledger.admin import ScopedAdmin, _scope
from ledger.errors import DomainError
from ledger.models import Guild, Production, Studio

from . import label, receipts, render, selectors, services
from .compliance import Target
from .models import (
    ConsentReceipt,
    DisclosureLabel,
    ReceiptDelivery,
    Report,
    ReportDelivery,
    Subscription,
)


class ReadOnlyAdmin(ScopedAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RunReportForm(forms.Form):
    production = forms.ModelChoiceField(queryset=Production.objects.none(), required=False)
    studio = forms.ModelChoiceField(queryset=Studio.objects.none(), required=False)
    guild = forms.ModelChoiceField(queryset=Guild.objects.none(), required=False)
    period_from = forms.DateField(help_text="YYYY-MM-DD")
    period_to = forms.DateField(help_text="YYYY-MM-DD")
    send = forms.BooleanField(required=False, help_text="Also e-mail it to the subscribers.")

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["production"].queryset = (
            Production.objects.all()
            if scope.superuser
            else Production.objects.filter(studio_id__in=scope.studio_ids)
        )
        self.fields["studio"].queryset = (
            Studio.objects.all()
            if scope.superuser
            else Studio.objects.filter(id__in=scope.studio_ids)
        )
        self.fields["guild"].queryset = (
            Guild.objects.all() if scope.superuser else Guild.objects.filter(id__in=scope.guild_ids)
        )

    def clean(self):
        data = super().clean()
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
class ReportAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "origin", "generated_at", "findings", "short_hash", "downloads"]
    list_filter = ["scope_kind", "origin"]
    search_fields = ["scope_key", "sha256"]
    date_hierarchy = "generated_at"
    change_list_template = "admin/reports/report/change_list.html"
    scope_queryset = staticmethod(selectors.reports)

    @admin.display(description="findings")
    def findings(self, obj):
        return sum(obj.counts.values())

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
        return render.attachment(
            render.csv_text(report), "text/csv", render.file_name(report, "csv")
        )

    def json_view(self, request, object_id):
        report = self._report(request, object_id)
        response = HttpResponse(report.content, content_type="application/json")
        response["Content-Disposition"] = (
            f'attachment; filename="{render.file_name(report, "json")}"'
        )
        return response

    def run_view(self, request):
        scope = _scope(request)
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
                sent = services.report_deliver(report=report) if data["send"] else []
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                note = f"; sent to {len(sent)} subscriber(s)" if data["send"] else ""
                self.message_user(request, f"{report} made{note}.", messages.SUCCESS)
                return redirect(reverse("admin:reports_report_change", args=[report.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Run a compliance report now",
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/reports/report/run.html", context)


@admin.register(ReportDelivery)
class ReportDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["report", "email", "user", "sent_at"]
    list_select_related = ["report", "user"]

    @staticmethod
    def scope_queryset(scope, qs):
        return qs.filter(report__in=selectors.reports(scope))


@admin.register(Subscription)
class SubscriptionAdmin(ScopedAdmin):
    """Each staff user manages their own subscriptions; administrators everyone's."""

    list_display = ["user", "studio", "guild", "active", "created_at"]
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
        scope = _scope(request)
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
class ConsentReceiptAdmin(ReadOnlyAdmin):
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
        event = consent.events.filter(pk=event_id).first() if event_id.isdigit() else None
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
        consent, _ = self._consent_and_event(request, object_id)
        return JsonResponse({"consent": consent.pk, "receipts": receipts.receipts_for(consent)})

    @admin.action(description="Send the receipts (grant and latest event) to the person")
    def send_receipts(self, request, queryset):
        scope = _scope(request)
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
class ReceiptDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["consent", "event", "email", "sent_by", "sent_at"]
    list_select_related = ["consent", "event", "sent_by"]

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
            scope = _scope(request)
            kwargs["queryset"] = (
                Production.objects.all()
                if scope.superuser
                else Production.objects.filter(studio_id__in=scope.studio_ids)
            )
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
            scope=_scope(request),
            production=obj.production,
            published=obj.published,
        )
        obj.pk = saved.pk


def label_preview(production) -> str:
    return json.dumps(label.content(production), indent=2, ensure_ascii=False)
