"""Consent in the staff admin, scoped like the API.

Consents are recorded through a form that calls `consent_grant` (with the evidence upload) and are
never edited afterwards; their page shows a status badge, the evidence download with its SHA-256,
and the events. Revoke, suspend and resume are actions with a reason; a consent's page also links
to its revoke form (admin_revoke), which shows the uses it takes away. The AI-use register lists
violations first, per production; recording a use opens its page with the decision."""

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IS_POPUP_VAR
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from core.admin import display
from core.admin.base import ReadOnlyInline, ServiceForm, ServiceSavedMixin, admin_path
from core.admin.display import badge
from core.admin.pagination import InScopeRelatedFilter
from core.errors import DomainError
from ledger import access
from ledger.access.admin import ScopedAdmin

from . import admin_check, admin_revoke, admin_void, selectors, services
from . import admin_requests as admin_requests  # registers the consent requests' pages
from .admin_event import Link
from .models import (
    GRANT_FIELDS,
    REGION_PATTERN,
    STATE_LAWS,
    USE_FIELDS,
    AiUse,
    Consent,
    ConsentEvent,
    StrikePeriod,
    UnionNotice,
    WgaDisclosure,
)

EVENT_COLUMNS = ("kind", "effective_at", "reason", "actor", "recorded_at")


class ConsentEventInline(ReadOnlyInline):
    model = ConsentEvent
    fields = EVENT_COLUMNS
    readonly_fields = EVENT_COLUMNS


class ListedTextInput(forms.TextInput):
    """A text input that offers `options` (a <datalist>) and takes any other text too."""

    def __init__(self, options: dict[str, str], attrs=None):
        super().__init__(attrs)
        self.options = options

    def render(self, name, value, attrs=None, renderer=None):
        list_id = f"{(attrs or {}).get('id') or name}_options"
        self.attrs["list"] = list_id
        options = format_html_join(
            "", '<option value="{}">{}</option>', sorted(self.options.items())
        )
        return format_html(
            '{}<datalist id="{}">{}</datalist>',
            super().render(name, value, attrs, renderer),
            list_id,
            options,
        )


# The add form's groups, for a business-affairs reader: (title, fields, description).
CONSENT_GROUPS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("Who and where", ("person", "production", "agreement", "category"), ""),
    (
        "What the person agrees to",
        ("kind", "description", "scenes", "media", "territory", "term_from", "term_to"),
        "",
    ),
    (
        "Signature",
        ("instrument", "signed_at", "signed_by", "signed_by_capacity", "evidence"),
        "",
    ),
    (
        "Scan: notice and reason",
        ("notice_at", "engaged_at", "business_reason"),
        "For a replica creation or scan (sag.consent.notice_48h, sag.consent.scan_reason).",
    ),
    (
        "State law",
        (
            "governing_law",
            "performance_fixed_on",
            "replaces_in_person_work",
            "represented_by",
            "terms_initialed",
        ),
        "California, New York and Illinois law on digital replicas (law.*): see what the "
        "chosen law needs above.",
    ),
    ("Pay and disclosure", ("bargained_amount", "bargained_currency", "named_in_disclosure"), ""),
    ("Replaces an earlier consent", ("supersedes",), ""),
)


class ConsentAddForm(ServiceForm):
    """Records a consent (consent_grant); sent by "Check this consent", it checks the draft
    (consent_review) instead, keeps the findings in `review` and saves nothing."""

    evidence = forms.FileField(help_text="The signed writing or rider (its SHA-256 is recorded).")
    review: services.ConsentReview | None = None

    def record(self, data):
        if self.checking:
            self.review = services.consent_review(**data)
            return self.instance
        return services.consent_grant(actor=self.request.user, **data)

    class Meta:
        model = Consent
        fields = list(GRANT_FIELDS)
        labels = {
            "governing_law": "Governing law",
            "performance_fixed_on": "Performance fixed on",
            "replaces_in_person_work": "Replica replaces in-person work",
            "terms_initialed": "Replica terms initialed",
        }
        widgets = {"governing_law": ListedTextInput(STATE_LAWS, attrs={"size": 8})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.checking = admin_check.checking(self.request)
        self.fields["agreement"].required = False
        self.fields["category"].required = False
        self.fields["agreement"].help_text = "Empty: the production's agreement for the person."
        self.fields["category"].help_text = "Empty: from the person's engagement."
        # A check reads no evidence (and a file input is not kept when the page comes back).
        self.fields["evidence"].required = not self.checking

    def is_valid(self):
        # A check never records: the page comes back with the findings and no error.
        return super().is_valid() and not self.checking


class EventForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    at = forms.DateTimeField(
        required=False,
        help_text="When it takes effect (UTC); empty: now.",
        widget=forms.DateTimeInput(attrs={"placeholder": "2025-06-01 09:00"}),
    )


class ExpiringFilter(admin.SimpleListFilter):
    """Consents in force whose term ends within so many days (the dashboard links here)."""

    title = "term ending"
    parameter_name = "expiring"

    def lookups(self, request, model_admin):
        return [("30", "within 30 days"), ("90", "within 90 days")]

    def queryset(self, request, queryset):
        value = self.value()
        # ASCII digits only: "²" passes isdigit() but not int().
        if not (value and value.isascii() and value.isdigit() and int(value) <= 3660):
            return queryset
        return selectors.consents_expiring(
            queryset, now=timezone.now(), within=timedelta(days=int(value))
        )


class _RecordAdmin(ServiceSavedMixin, ScopedAdmin):
    """Consents, AI uses, union notices and WGA disclosures: recorded through their services with
    the API's rules by the add form, and fixed once recorded (the API has no update for them
    either): a granted consent is never edited, the register is evidence, and a notice given or
    a disclosure made is not rewritten. Their forms choose among the productions the user may
    write to and the people they see."""

    add_form: type[ServiceForm] = ServiceForm
    person_fields: tuple[str, ...] = ("person",)  # the foreign keys that name a person
    # The object page's link to its event page (admin_revoke, admin_void), if it has one.
    action_link: Callable[[HttpRequest, Any], Link | None] | None = None

    def has_change_permission(self, request, obj=None):
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        scope = access.request_scope(request)
        if db_field.name == "production":
            kwargs["queryset"] = access.writable_productions(scope)
        elif db_field.name in self.person_fields:
            kwargs["queryset"] = access.people(scope)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        fields = list(self.add_form._meta.fields or [])
        return fields if obj is None else [*fields, "recorded_by", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = {**(extra_context or {})}
        action_link = type(self).action_link
        if action_link is not None and (obj := self.get_object(request, object_id)) is not None:
            context["action_link"] = action_link(request, obj)
        return super().change_view(request, object_id, form_url, context)


@admin.register(Consent)
class ConsentAdmin(_RecordAdmin):
    list_display = [
        "id",
        "person",
        "production",
        "kind",
        "status_badge",
        "term_from",
        "term_to",
        "signed_at",
        "instrument",
    ]
    list_filter = [
        ("production", InScopeRelatedFilter),
        "kind",
        "agreement",
        "instrument",
        ExpiringFilter,
    ]
    search_fields = [
        "person__legal_name",
        "person__professional_name",
        "production__title",
        "description",
        "evidence_sha256",
    ]
    list_select_related = ["person", "production", "superseded_by"]
    inlines = [ConsentEventInline]
    actions = ["revoke_selected", "suspend_selected", "resume_selected"]
    scope_queryset = staticmethod(selectors.consents)
    add_form = ConsentAddForm
    action_link = staticmethod(admin_revoke.revoke_link)
    readonly_fields = ["status_badge", "evidence_link", "superseded_by_link"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("events")

    def get_fields(self, request, obj=None):
        # The fields signed (GRANT_FIELDS, `supersedes` last), with the evidence before it.
        signed, supersedes = GRANT_FIELDS[:-1], GRANT_FIELDS[-1]
        if obj is None:
            return [*signed, "evidence", supersedes]
        return [
            "status_badge",
            *signed,
            "evidence_link",
            supersedes,
            "superseded_by_link",
            "recorded_by",
            "created_at",
        ]

    def get_fieldsets(self, request, obj=None):
        """The groups of CONSENT_GROUPS; a recorded consent's page shows its status first and
        its record last."""
        groups = []
        for title, names, description in CONSENT_GROUPS:
            fields = list(names)
            if obj is not None:
                fields = ["evidence_link" if f == "evidence" else f for f in fields]
                if "supersedes" in fields:
                    fields.append("superseded_by_link")
            groups.append((title, {"fields": fields, "description": description}))
        if obj is None:
            return groups
        return [
            ("Status", {"fields": ["status_badge"]}),
            *groups,
            ("Record", {"fields": ["recorded_by", "created_at"]}),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        form = context["adminform"].form
        if add:
            kind, agreement, law = admin_check.form_choices(form)
            review = context["review"] = getattr(form, "review", None)
            agreement = review.agreement.code if review is not None else agreement
        else:
            kind, agreement, law = obj.kind, obj.agreement.code, obj.governing_law
        context["requirements"] = admin_check.requirements(kind, agreement, law)
        context["check_button"] = admin_check.CHECK_BUTTON
        return super().render_change_form(request, context, add, change, form_url, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = {**(extra_context or {})}
        obj = self.get_object(request, object_id)
        if obj is not None:
            context["check_url"] = f"{request.path}?check=1"
            if request.GET.get("check") == "1":
                context["review"], context["review_refused"] = admin_check.review_recorded(obj)
        return super().change_view(request, object_id, form_url, context)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "supersedes":
            scope = access.request_scope(request)
            kwargs["queryset"] = selectors.consents(
                scope, Consent.objects.filter(production__in=access.writable_productions(scope))
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="status")
    def status_badge(self, obj):
        return badge(
            selectors.consent_status(obj, now=timezone.now(), events=list(obj.events.all()))
        )

    @admin.display(description="evidence")
    def evidence_link(self, obj):
        url = reverse("admin:consent_consent_evidence", args=[obj.pk])
        return format_html(
            '<a href="{}">{}</a> ({} bytes)<br><code>SHA-256 {}</code>',
            url,
            obj.evidence_name,
            obj.evidence_size,
            obj.evidence_sha256,
        )

    @admin.display(description="superseded by")
    def superseded_by_link(self, obj):
        successor = getattr(obj, "superseded_by", None)
        if successor is None:
            return "—"
        url = reverse("admin:consent_consent_change", args=[successor.pk])
        return format_html('<a href="{}">consent #{}</a>', url, successor.pk)

    def get_urls(self):
        return [
            *admin_revoke.revoke_urls(self),
            admin_path(self, "<path:object_id>/evidence/", self.evidence_view, "evidence"),
            *super().get_urls(),
        ]

    def evidence_view(self, request, object_id):
        consent = self.get_object(request, object_id)
        if consent is None:
            raise Http404
        try:
            handle = consent.evidence.open("rb")
        except FileNotFoundError:
            raise Http404("The evidence file is missing from storage.") from None
        response = FileResponse(handle, as_attachment=True, filename=consent.evidence_name)
        response["X-Evidence-SHA256"] = consent.evidence_sha256
        return response

    # --- revoke, suspend, resume --------------------------------------------------------

    def _event_action(self, request, queryset, service, verb):
        scope = access.request_scope(request)
        if not scope.can_write_any:
            raise PermissionDenied
        if "apply" in request.POST:
            form = EventForm(request.POST)
            if form.is_valid():
                for consent in queryset.order_by("pk"):
                    self._apply(request, consent, service, verb, form.cleaned_data)
                return None
        else:
            form = EventForm()
        affected = {
            consent.pk: list(selectors.uses_affected_by(consent, after=timezone.now())[:20])
            for consent in queryset
        }
        context = {
            **self.admin_site.each_context(request),
            "title": f"{verb.capitalize()} consents",
            "verb": verb,
            "action": request.POST.get("action"),
            "consents": queryset,
            "affected": affected,
            "form": form,
            "opts": self.model._meta,
            "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
        }
        return TemplateResponse(request, "admin/consent/consent/event.html", context)

    def _apply(self, request, consent, service, verb, data):
        if not access.request_scope(request).can_write_studio(consent.production.studio_id):
            self.message_user(
                request, f"Consent #{consent.pk}: not yours to {verb}.", messages.ERROR
            )
            return
        try:
            service(actor=request.user, consent=consent, reason=data["reason"], at=data["at"])
        except DomainError as error:
            self.message_user(request, f"Consent #{consent.pk}: {error.message}", messages.ERROR)
            return
        later = selectors.uses_affected_by(consent, after=data["at"] or timezone.now()).count()
        note = f" {later} recorded use(s) dated after it relied on this consent." if later else ""
        self.message_user(request, f"Consent #{consent.pk}: {verb}d.{note}")

    @admin.action(description="Revoke the selected consents")
    def revoke_selected(self, request, queryset):
        return self._event_action(request, queryset, services.consent_revoke, "revoke")

    @admin.action(description="Suspend the selected consents")
    def suspend_selected(self, request, queryset):
        return self._event_action(request, queryset, services.consent_suspend, "suspend")

    @admin.action(description="Resume the selected consents")
    def resume_selected(self, request, queryset):
        return self._event_action(request, queryset, services.consent_resume, "resume")


class RegionsField(forms.CharField):
    """Places as a business-affairs reader types them ("US-NY, US-CA"), as the list the AI use
    stores (law.ny.gbl396b's `distributed_in`)."""

    def to_python(self, value):
        text = super().to_python(value) or ""
        codes = [code for code in re.split(r"[\s,]+", text.strip()) if code]
        bad = [code for code in codes if not re.fullmatch(REGION_PATTERN, code)]
        if bad:
            raise forms.ValidationError(
                f"Not a country or ISO 3166-2 code: {', '.join(bad)} (e.g. US or US-NY)."
            )
        if len(set(codes)) != len(codes):
            raise forms.ValidationError("A place is listed twice.")
        return codes

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value


class AiUseAddForm(ServiceForm):
    distributed_in = RegionsField(
        required=False,
        label="Distributed in",
        help_text="For an advertisement: where it is distributed, e.g. US-NY, US-CA "
        "(law.ny.gbl396b).",
    )

    class Meta:
        model = AiUse
        fields = list(USE_FIELDS)

    def record(self, data):
        return services.ai_use_record(
            actor=self.request.user,
            scope=access.request_scope(self.request),
            person=data.pop("person", None),
            **data,
        )


class StatusFirst(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [*AiUse.Status.choices, ("voided", "Voided")]

    def queryset(self, request, queryset):
        # A voided use counts as neither allowed nor a violation (the dashboard's counts).
        if self.value() == "voided":
            return selectors.voided(queryset)
        if self.value() in AiUse.Status.values:
            return selectors.not_voided(queryset.filter(status=self.value()))
        return queryset


class WhenFilter(admin.SimpleListFilter):
    """Planned uses (starting after now) or uses already started: a planned violation is a
    consent still to obtain (the dashboard's pending consents)."""

    title = "when"
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return [("planned", "planned (not started)"), ("started", "started")]

    def queryset(self, request, queryset):
        if self.value() == "planned":
            return queryset.filter(starts_at__gt=timezone.now())
        if self.value() == "started":
            return queryset.filter(starts_at__lte=timezone.now())
        return queryset


@admin.register(AiUse)
class AiUseAdmin(_RecordAdmin):
    """The AI-use register: violations first, then the most recent uses."""

    list_display = [
        "id",
        "production",
        "person",
        "kind",
        "starts_at",
        "status_badge",
        "consent",
        "rule_ids",
    ]
    list_filter = [
        ("production", InScopeRelatedFilter),
        StatusFirst,
        WhenFilter,
        "kind",
    ]
    search_fields = [
        "person__legal_name",
        "person__professional_name",
        "production__title",
        "description",
    ]
    # The consent column prints the consent's person and production.
    list_select_related = [
        "person",
        "production",
        "consent__person",
        "consent__production",
        "void",
    ]
    scope_queryset = staticmethod(selectors.ai_uses)
    add_form = AiUseAddForm
    action_link = staticmethod(admin_void.void_link)
    fields = list(USE_FIELDS)
    decision_fields = [
        "status_badge",
        "void_note",
        "agreement",
        "consent",
        "rule_ids",
        "reason_list",
        "warning_list",
        "recorded_by",
        "created_at",
    ]

    def get_ordering(self, request):
        return ["-status", "-starts_at", "-id"]  # "violation" sorts after "allowed"

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.fields
        shown = ["distributed_in_list" if f == "distributed_in" else f for f in self.fields]
        return [*self.decision_fields, *shown]

    def save_model(self, request, obj, form, change):
        level = messages.SUCCESS if obj.status == AiUse.Status.ALLOWED else messages.WARNING
        relied = f" under consent #{obj.consent_id}" if obj.consent_id else ""
        self.message_user(
            request,
            f"Recorded as {obj.status}{relied}: {', '.join(obj.rules) or 'no rule applies'}. "
            + " ".join(obj.reasons),
            level,
        )

    def response_add(self, request, obj, post_url_continue=None):
        # The decision is why a use is recorded here: open the use's page, which shows it.
        if "_addanother" in request.POST or IS_POPUP_VAR in request.POST:
            return super().response_add(request, obj, post_url_continue)
        return redirect(reverse("admin:consent_aiuse_change", args=[obj.pk]))

    @admin.display(description="decision", ordering="status")
    def status_badge(self, obj):
        if admin_void.void_of(obj) is not None:
            return format_html("{} {}", badge(obj.status), badge("voided", "#6c757d"))
        return badge(obj.status)

    @admin.display(description="void")
    def void_note(self, obj):
        void = admin_void.void_of(obj)
        if void is None:
            return "—"
        return format_html(
            "Voided {} UTC by {}: {}", f"{void.voided_at:%Y-%m-%d %H:%M}", void.actor, void.reason
        )

    def get_urls(self):
        return [*admin_void.void_urls(self), *super().get_urls()]

    @admin.display(description="rules")
    def rule_ids(self, obj):
        return ", ".join(obj.rules)

    @admin.display(description="distributed in")
    def distributed_in_list(self, obj):
        return display.comma_list(obj.distributed_in)

    @admin.display(description="warnings")
    def warning_list(self, obj):
        if not obj.warnings:
            return "—"
        return format_html_join(
            mark_safe("<br>"), "{}: {}", ((w["rule"], w["message"]) for w in obj.warnings)
        )

    @admin.display(description="reasons")
    def reason_list(self, obj):
        return (
            format_html("<br>".join(["{}"] * len(obj.reasons)), *obj.reasons)
            if obj.reasons
            else "—"
        )


class _RecordForm(ServiceForm):
    """Records a notice, disclosure or strike through its service, with the caller's scope."""

    service_name = ""  # the consent service that records it

    def record(self, data):
        service = getattr(services, self.service_name)
        return service(actor=self.request.user, scope=access.request_scope(self.request), **data)


class UnionNoticeForm(_RecordForm):
    service_name = "union_notice_record"

    class Meta:
        model = UnionNotice
        fields = ["production", "guild", "kind", "given_at", "description", "recipient"]


class WgaDisclosureForm(_RecordForm):
    service_name = "wga_disclosure_record"

    class Meta:
        model = WgaDisclosure
        fields = ["production", "writer", "material", "handed_over_on", "disclosed_at"]


@admin.register(UnionNotice)
class UnionNoticeAdmin(_RecordAdmin):
    list_display = ["production", "guild", "kind", "given_at", "recipient"]
    list_filter = [("production", admin.RelatedOnlyFieldListFilter), "guild", "kind"]
    list_select_related = ["production", "guild"]
    scope_queryset = staticmethod(selectors.union_notices)
    add_form = UnionNoticeForm


@admin.register(WgaDisclosure)
class WgaDisclosureAdmin(_RecordAdmin):
    list_display = ["production", "writer", "handed_over_on", "disclosed_at"]
    list_filter = [("production", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["production", "writer"]
    scope_queryset = staticmethod(selectors.wga_disclosures)
    add_form = WgaDisclosureForm
    person_fields = ("person", "writer")


class StrikePeriodForm(ServiceForm):
    """Records a strike (strike_period_record) or corrects it (strike_period_update), with the
    API's rules: the guild's own staff, a fixed guild, an end not before the start."""

    class Meta:
        model = StrikePeriod
        fields = ["guild", "starts_on", "ends_on", "description"]

    def record(self, data):
        scope = access.request_scope(self.request)
        if self.instance.pk:
            return services.strike_period_update(
                actor=self.request.user, scope=scope, strike=self.instance, **data
            )
        return services.strike_period_record(actor=self.request.user, scope=scope, **data)


@admin.register(StrikePeriod)
class StrikePeriodAdmin(ServiceSavedMixin, ScopedAdmin):
    list_display = ["guild", "starts_on", "ends_on", "description"]
    list_filter = ["guild"]
    list_select_related = ["guild"]
    scope_queryset = staticmethod(selectors.strike_periods)
    form = StrikePeriodForm

    def has_add_permission(self, request, obj=None):
        return access.request_scope(request).can_write_any_guild

    def writable(self, scope, obj):
        return scope.can_write_guild(obj.guild_id)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        scope = access.request_scope(request)
        if db_field.name == "guild" and not scope.superuser:
            from ledger.models import Guild

            kwargs["queryset"] = Guild.objects.filter(id__in=scope.guild_ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["guild"]  # a strike stays with its guild

    def get_exclude(self, request, obj=None):
        return ["recorded_by"]
