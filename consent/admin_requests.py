"""Consent requests in the staff admin, scoped like the API.

A request is prepared by the add form through `request_prepare`: a draft that would produce a
consent that does not hold is refused, each failing rule listed, and nothing is written. The
form's "Check" button shows, without saving, the notice clock (when notice would be given if it
were sent now, and when a scan could then take place) and the findings of the full check. A
prepared request is never edited (a change is a new request); its page shows where it stands,
who signs and at which address, and has the buttons Send, Send a reminder and Withdraw for the
studio's staff. Guild staff read the requests under their guild's agreements.
"""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.core.exceptions import PermissionDenied
from django.core.validators import MinValueValidator
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html

from core.admin.base import ServiceForm, ServiceSavedMixin, admin_path
from core.admin.display import badge
from core.admin.pagination import InScopeRelatedFilter
from core.errors import DomainError
from core.money import money_display
from core.templatetags.money import instant_display
from ledger import access
from ledger.access.admin import ScopedAdmin

from . import requests, selectors, services
from .models import REQUEST_FIELDS, STATE_LAWS, ConsentRequest

Status = ConsentRequest.Status
CHECK_BUTTON = "_check"  # the add form's "Check" button

STATUS_COLOURS = {
    "draft": "#495057",
    "sent": "#0b5ed7",
    "viewed": "#0b5ed7",
    "signed": "#1e7e34",
    "declined": "#b02a37",
    "expired": "#6c757d",
    "withdrawn": "#6c757d",
}

# The add form's groups: (title, fields, description).
REQUEST_GROUPS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("Who and where", ("person", "production", "agreement", "category"), ""),
    (
        "What the person is asked to agree to",
        ("kind", "description", "scenes", "media", "territory", "term_from", "term_to"),
        "",
    ),
    (
        "Scan",
        ("engaged_at", "business_reason"),
        "For a replica creation or scan (sag.consent.notice_48h, sag.consent.scan_reason): "
        "notice is given when the request is sent.",
    ),
    (
        "State law",
        ("governing_law", "performance_fixed_on", "replaces_in_person_work", "represented_by"),
        "With counsel who negotiated the consent, the signing page asks the signer to initial "
        "each clause (law.ca.lab927, law.ny.gol5_302).",
    ),
    ("Pay and disclosure", ("bargained_amount", "bargained_currency", "named_in_disclosure"), ""),
)


def _badge(status: str):
    return badge(status, STATUS_COLOURS.get(status))


class ConsentRequestAddForm(ServiceForm):
    """Prepares a request (request_prepare). Sent by the "Check" button, it builds the draft
    and keeps its notice clock and check in `checked`, and saves nothing. A refusal keeps the
    failing rules (rule id → message) in `failing`."""

    checked: tuple[requests.NoticeClock, services.ConsentReview] | None = None
    failing: dict[str, str] | None = None

    class Meta:
        model = ConsentRequest
        fields = list(REQUEST_FIELDS)
        labels = {
            "governing_law": "Governing law",
            "performance_fixed_on": "Performance fixed on",
            "replaces_in_person_work": "Replica replaces in-person work",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.checking = (
            self.request is not None
            and self.request.method == "POST"
            and CHECK_BUTTON in self.request.POST
        )
        self.fields["agreement"].required = False
        self.fields["category"].required = False
        self.fields["agreement"].help_text = "Empty: the production's agreement for the person."
        self.fields["category"].help_text = "Empty: from the person's engagement."
        self.fields["governing_law"].help_text = "ISO 3166-2, e.g. " + ", ".join(STATE_LAWS)
        # As the API takes it: the consent it would record refuses a negative amount.
        amount = self.fields["bargained_amount"]
        assert isinstance(amount, forms.DecimalField)
        amount.min_value = 0
        amount.validators.append(MinValueValidator(Decimal(0)))

    def record(self, data):
        actor = self.request.user
        if self.checking:
            draft = requests.request_draft(actor=actor, **data)
            self.checked = (requests.notice_clock(draft), requests.review(draft))
            return self.instance
        try:
            return requests.request_prepare(
                actor=actor, scope=access.request_scope(self.request), **data
            )
        except DomainError as error:
            if error.code != "consent_request_invalid":
                raise
            self.failing = {str(rule): str(message) for rule, message in error.fields.items()}
            raise DomainError(
                "This request would produce a consent that does not hold; nothing was saved. "
                "The failing rules are listed above.",
                code=error.code,
            ) from error

    def is_valid(self):
        # A check never saves: the page comes back with its findings.
        return super().is_valid() and not self.checking


class EffectiveStatusFilter(admin.SimpleListFilter):
    """By status as the API shows it: an unanswered link past its expiry counts as expired."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Status.choices

    def queryset(self, request, queryset):
        value = self.value()
        if value not in Status.values:
            return queryset
        return requests.with_effective_status(queryset, value)


def _instant(name: str, label: str):
    """A read-only column or field showing an instant (or a date) as people read it."""

    @admin.display(description=label, ordering=name)
    def shown(self, obj):
        return instant_display(getattr(obj, name))

    shown.__name__ = f"{name}_shown"
    return shown


@admin.register(ConsentRequest)
class ConsentRequestAdmin(ServiceSavedMixin, ScopedAdmin):
    list_display = [
        "id",
        "person",
        "production",
        "kind",
        "status_badge",
        "sent_at_shown",
        "expires_at_shown",
        "answered_at_shown",
    ]
    list_filter = [EffectiveStatusFilter, ("production", InScopeRelatedFilter)]
    search_fields = ["person__legal_name", "person__professional_name"]
    list_select_related = ["person", "production"]
    scope_queryset = staticmethod(selectors.consent_requests)
    add_form_template = "admin/consent/consentrequest/change_form.html"
    change_form_template = "admin/consent/consentrequest/change_form.html"

    sent_at_shown = _instant("sent_at", "sent")
    expires_at_shown = _instant("expires_at", "expires")
    answered_at_shown = _instant("answered_at", "answered")
    reminded_at_shown = _instant("reminded_at", "reminded")
    viewed_at_shown = _instant("viewed_at", "viewed")
    created_at_shown = _instant("created_at", "prepared")
    term_from_shown = _instant("term_from", "term from")
    term_to_shown = _instant("term_to", "term to")
    engaged_at_shown = _instant("engaged_at", "engaged at")
    performance_fixed_on_shown = _instant("performance_fixed_on", "performance fixed on")

    def has_change_permission(self, request, obj=None):
        return False  # never edited: a change is a new request

    def has_delete_permission(self, request, obj=None):
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        scope = access.request_scope(request)
        if db_field.name == "production":
            kwargs["queryset"] = access.writable_productions(scope)
        elif db_field.name == "person":
            kwargs["queryset"] = access.people(scope)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ConsentRequestAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (title, {"fields": list(names), "description": description})
                for title, names, description in REQUEST_GROUPS
            ]
        return [
            (
                "Where it stands",
                {
                    "fields": [
                        "status_badge",
                        "signer",
                        "sent_to",
                        "sent_at_shown",
                        "reminded_at_shown",
                        "viewed_at_shown",
                        "expires_at_shown",
                        "answered_at_shown",
                        "decline_reason",
                        "consent_link",
                    ]
                },
            ),
            ("Who and where", {"fields": ["person", "production", "agreement", "category"]}),
            (
                "What the person is asked to agree to",
                {
                    "fields": [
                        "kind",
                        "description",
                        "scenes",
                        "media",
                        "territory",
                        "term_from_shown",
                        "term_to_shown",
                    ]
                },
            ),
            ("Scan", {"fields": ["engaged_at_shown", "business_reason"]}),
            (
                "State law",
                {
                    "fields": [
                        "governing_law",
                        "performance_fixed_on_shown",
                        "replaces_in_person_work",
                        "represented_by",
                    ]
                },
            ),
            ("Pay and disclosure", {"fields": ["bargained", "named_in_disclosure"]}),
            ("Record", {"fields": ["created_by", "created_at_shown"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [f for _, group in self.get_fieldsets(request, obj) for f in group["fields"]]

    # --- the columns and fields -----------------------------------------------------------

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return _badge(requests.effective_status(obj))

    @admin.display(description="signs")
    def signer(self, obj):
        capacity, name, address = requests.signer_of(obj.person, obj.category)
        if capacity == "representative":
            who = format_html("{}, for {} (representative)", name, obj.person.name)
        else:
            who = format_html("{} (themselves)", name)
        return format_html(
            "{} — {}", who, address or "no e-mail address on record: record it on the person"
        )

    @admin.display(description="consent")
    def consent_link(self, obj):
        if obj.consent_id is None:
            return "—"
        url = reverse("admin:consent_consent_change", args=[obj.consent_id])
        return format_html('<a href="{}" id="signed-consent">consent #{}</a>', url, obj.consent_id)

    @admin.display(description="bargained amount")
    def bargained(self, obj):
        if obj.bargained_amount is None:
            return "—"
        return money_display(obj.bargained_amount, obj.bargained_currency)

    # --- the pages ------------------------------------------------------------------------

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["check_button"] = CHECK_BUTTON
        if add:
            form = context["adminform"].form
            context["failing"] = getattr(form, "failing", None)
            checked = getattr(form, "checked", None)
            if checked is not None:
                context["clock"], context["review"] = checked
        return super().render_change_form(request, context, add, change, form_url, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = {**(extra_context or {})}
        obj = self.get_object(request, object_id)
        if obj is not None:
            context["clock"] = requests.notice_clock(obj)
            if obj.status in (Status.DRAFT, *requests.OPEN):
                try:
                    context["review"] = requests.review(obj)
                except DomainError as error:
                    context["review_refused"] = error.message
            if access.request_scope(request).can_write_studio(obj.production.studio_id):
                context["moves"] = self._moves(obj)
        return super().change_view(request, object_id, form_url, context)

    def _moves(self, obj) -> list[tuple[str, str, str]]:
        """(label, address, element id) of the buttons the request's status allows."""
        status = requests.effective_status(obj)
        moves = []
        if status == Status.DRAFT:
            moves.append(("Send", "send"))
        if status in (*requests.OPEN, Status.EXPIRED):
            moves.append(("Send a reminder", "remind"))
        if status not in (Status.SIGNED, Status.DECLINED, Status.WITHDRAWN):
            moves.append(("Withdraw", "withdraw"))
        return [
            (
                label,
                reverse(f"admin:consent_consentrequest_{name}", args=[obj.pk]),
                f"{name}-request",
            )
            for label, name in moves
        ]

    def response_add(self, request, obj, post_url_continue=None):
        # Its page has the notice clock and the Send button.
        if "_addanother" in request.POST or IS_POPUP_VAR in request.POST:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(request, f"Consent request #{obj.pk} is prepared; it is not sent yet.")
        return redirect(reverse("admin:consent_consentrequest_change", args=[obj.pk]))

    def get_urls(self):
        moves = {
            "send": (requests.request_send, "sent to {to}"),
            "remind": (requests.request_remind, "a reminder was sent to {to}"),
            "withdraw": (requests.request_withdraw, "withdrawn; its link no longer works"),
        }
        return [
            *(
                admin_path(self, f"<path:object_id>/{name}/", self._move_view(*move), name)
                for name, move in moves.items()
            ),
            *super().get_urls(),
        ]

    def _move_view(self, service, done: str):
        def view(request, object_id):
            if request.method != "POST":
                return HttpResponseNotAllowed(["POST"])
            obj = self.get_object(request, object_id)
            if obj is None:
                raise Http404
            scope = access.request_scope(request)
            if not scope.can_write_studio(obj.production.studio_id):
                raise PermissionDenied
            try:
                moved = service(actor=request.user, scope=scope, request=obj)
            except DomainError as error:
                self.message_user(
                    request, f"Consent request #{obj.pk}: {error.message}", messages.ERROR
                )
            else:
                self.message_user(
                    request, f"Consent request #{obj.pk}: " + done.format(to=moved.sent_to)
                )
            return redirect(reverse("admin:consent_consentrequest_change", args=[obj.pk]))

        return view
