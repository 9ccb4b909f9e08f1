"""A person's own page (portal.personal), for a person on a phone, without an account.

`/me/` asks for a link and answers the same whatever the address; the link opens the page once
and leaves the person's id in the session, for PERSONAL_LINK_MINUTES. Every other page reads the
person from the session alone: an id in a URL is looked up among that person's own records, and
anyone else's is not found (404, as a link that is not valid). Every answer is private (no cache,
no indexing), a client asking too often is slowed down, and no input gets a 500."""

import json
import logging
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from consent import services as consent_services
from consent.models import Consent
from core.audit import system_user
from core.errors import DomainError
from core.security.events import security_event
from ledger.models import Person
from privacy.services import person_export_take
from reports import receipts
from reports.models import Flag
from reports.services import NOTE_MAX_LENGTH, flag_from_person, receipt_send

from . import notices, personal, training
from .views import _gone, _page, _slow_down, _throttled

logger = logging.getLogger(__name__)

SESSION_KEY = "portal_person"
REASON_MAX_LENGTH = 2000
# What staff read first in an event's reason and a flag's note: it came from the person.
FROM_PAGE = "From the person's own page: "
QUESTION_PREFIX = "Question from the person's page: "
QUESTION_MAX_LENGTH = NOTE_MAX_LENGTH - len(QUESTION_PREFIX)


def _private(response: HttpResponseBase) -> HttpResponseBase:
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def portal_view(methods: list[str]):
    """never_cache, the allowed methods, throttling and X-Robots-Tag on every answer."""

    def decorate(view):
        @never_cache
        @require_http_methods(methods)
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if _throttled(request):
                return _slow_down(request)
            return _private(view(request, *args, **kwargs))

        return wrapped

    return decorate


def _person(request: HttpRequest) -> Person | None:
    pk = request.session.get(SESSION_KEY)
    if not isinstance(pk, int):
        return None
    return Person.objects.filter(pk=pk).first()


def with_person(view):
    """The view, given the session's person; the not-valid page without one."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        person = _person(request)
        if person is None:
            return _gone(request)
        return view(request, person, *args, **kwargs)

    return wrapped


def _context(person: Person, **extra: Any) -> dict[str, Any]:
    return {"person": person, "studio": "the studio", **extra}


# --- asking for a link ------------------------------------------------------------------------


class AskForm(forms.Form):
    # No length limit here: link_ask ignores what cannot be an address, with the same answer.
    email = forms.CharField(required=False, strip=True)


@portal_view(["GET", "POST"])
def ask(request: HttpRequest) -> HttpResponse:
    """The public form. Whatever address is given, known or not, the answer is the same page."""
    minutes = settings.PERSONAL_LINK_MINUTES
    if request.method == "GET":
        return _page(request, "portal/personal_ask.html", {"minutes": minutes})
    form = AskForm(request.POST)
    email = form.cleaned_data.get("email", "") if form.is_valid() else ""
    if not email.strip():
        context = {
            "minutes": minutes,
            "error": "Type the e-mail address your studio or union has on record.",
        }
        return _page(request, "portal/personal_ask.html", context, status=400)
    personal.link_ask(email)
    return _page(request, "portal/personal_sent.html", {})


@portal_view(["GET"])
def open_link(request: HttpRequest, token: str) -> HttpResponse:
    person = personal.link_open(token)
    if person is None:
        security_event(
            "personal_link.open", actor=request, object="person:unknown", outcome="denied"
        )
        return _gone(request)
    request.session.cycle_key()
    request.session[SESSION_KEY] = person.pk
    request.session.set_expiry(settings.PERSONAL_LINK_MINUTES * 60)
    return redirect("personal-page")


# --- the page ---------------------------------------------------------------------------------


@portal_view(["GET"])
@with_person
def my_page(request: HttpRequest, person: Person) -> HttpResponse:
    content = personal.page(person)
    statement = training.statement_for(person)
    return _page(
        request,
        "portal/personal_page.html",
        _context(
            person,
            page=content,
            note_max=QUESTION_MAX_LENGTH,
            training_url=reverse("training-statement", args=[statement.public_id]),
            training_now=training.in_words(person, now=timezone.now()),
        ),
    )


@portal_view(["GET"])
@with_person
def receipt_pdf(request: HttpRequest, person: Person, consent_id: str) -> HttpResponse:
    consent = personal.consent_of(person, consent_id)
    if consent is None:
        return _gone(request)
    receipt = receipts.receipt(consent)
    response = HttpResponse(receipts.pdf(receipt), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{receipt["record_id"]}.pdf"'
    return response


@portal_view(["GET"])
@with_person
def evidence(request: HttpRequest, person: Person, consent_id: str) -> HttpResponseBase:
    consent = personal.consent_of(person, consent_id)
    if consent is None or not consent.evidence:
        return _gone(request)
    try:
        handle = consent.evidence.open("rb")
    except FileNotFoundError:
        return _gone(request)
    response = FileResponse(handle, as_attachment=True, filename=consent.evidence_name)
    response["X-Evidence-SHA256"] = consent.evidence_sha256
    return response


@portal_view(["GET"])
@with_person
def export_json(request: HttpRequest, person: Person) -> HttpResponse:
    export, record = person_export_take(person=person, actor=system_user())
    body = json.dumps(export, indent=2, sort_keys=True, ensure_ascii=False, cls=DjangoJSONEncoder)
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = 'attachment; filename="my-guild-ledger-data.json"'
    response["X-Export-SHA256"] = record.sha256
    return response


# --- revoking and suspending ------------------------------------------------------------------


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        error_messages={
            "required": "Say why, in a few words.",
            "max_length": f"At most {REASON_MAX_LENGTH} characters.",
        },
    )


CHANGES: dict[str, dict[str, Any]] = {
    "revoke": {
        "service": consent_services.consent_revoke,
        "notice": notices.revoked,
        "allowed": "may_revoke",
        "title": "Revoke this consent",
        "done": "revoked",
        "flag": "Revoked by the person from their page",
    },
    "suspend": {
        "service": consent_services.consent_suspend,
        "notice": notices.suspended,
        "allowed": "may_suspend",
        "title": "Suspend this consent",
        "done": "suspended",
        "flag": "Suspended by the person from their page",
    },
}


def _change(request: HttpRequest, person: Person, consent_id: str, what: str) -> HttpResponse:
    consent = personal.consent_of(person, consent_id)
    if consent is None:
        return _gone(request)
    change = CHANGES[what]
    now = timezone.now()
    row = personal.consent_row(consent, now=now)
    context = _context(
        person,
        row=row,
        what=what,
        title=change["title"],
        impact=personal.impact(consent, now=now),
        allowed=getattr(row, change["allowed"]),
        reason_max=REASON_MAX_LENGTH,
    )
    if request.method == "GET" or not context["allowed"]:
        status = 200 if request.method == "GET" else 409
        return _page(request, "portal/personal_change.html", context, status=status)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        context.update(
            error=form.errors["reason"][0],
            reason=request.POST.get("reason", "")[:REASON_MAX_LENGTH],
        )
        return _page(request, "portal/personal_change.html", context, status=400)
    reason = form.cleaned_data["reason"].strip()
    actor = system_user()
    try:
        with transaction.atomic():
            event = change["service"](actor=actor, consent=consent, reason=FROM_PAGE + reason)
            flag = _flag(person, consent, f"{change['flag']}: {reason}")
    except DomainError as refusal:
        context.update(error=refusal.message)
        return _page(request, "portal/personal_change.html", context, status=refusal.status_code)
    change["notice"](consent, flag)
    try:
        receipt_send(actor=actor, consent=consent, event=event)
    except DomainError:
        # Recorded all the same; staff can send the receipt again from the consent's page.
        logger.warning("The receipt of consent %s's event could not be sent", consent.pk)
    return _page(
        request,
        "portal/personal_done.html",
        _context(person, title=f"Your consent is {change['done']}", consent=consent, what=what),
    )


def _flag(person: Person, consent: Consent, note: str) -> Flag | None:
    """A flag for the consent's guild; None when the consent is under no guild's agreement (its
    studio's staff are still told)."""
    try:
        return flag_from_person(person=person, consent=consent, note=note[:NOTE_MAX_LENGTH])
    except DomainError as refusal:
        if refusal.code != "no_guild":
            raise
        return None


@portal_view(["GET", "POST"])
@with_person
def revoke(request: HttpRequest, person: Person, consent_id: str) -> HttpResponse:
    return _change(request, person, consent_id, "revoke")


@portal_view(["GET", "POST"])
@with_person
def suspend(request: HttpRequest, person: Person, consent_id: str) -> HttpResponse:
    return _change(request, person, consent_id, "suspend")


# --- a question -------------------------------------------------------------------------------


class QuestionForm(forms.Form):
    consent = forms.CharField(max_length=20)
    question = forms.CharField(max_length=QUESTION_MAX_LENGTH)


@portal_view(["POST"])
@with_person
def question(request: HttpRequest, person: Person) -> HttpResponse:
    form = QuestionForm(request.POST)
    consent = None
    if form.is_valid():
        consent = personal.consent_of(person, form.cleaned_data["consent"])
    text = form.cleaned_data.get("question", "").strip() if form.is_valid() else ""
    if consent is None or not text:
        content = personal.page(person)
        errors = {}
        if consent is None:
            errors["consent"] = "Choose the consent your question is about."
        if not text:
            errors["question"] = (
                f"Write your question, in at most {QUESTION_MAX_LENGTH} characters."
            )
        context = _context(
            person,
            page=content,
            note_max=QUESTION_MAX_LENGTH,
            question_errors=errors,
            question_text=request.POST.get("question", "")[:NOTE_MAX_LENGTH],
        )
        return _page(request, "portal/personal_page.html", context, status=400)
    flag = _flag(person, consent, QUESTION_PREFIX + text)
    notices.question_asked(consent, flag, text)
    return _page(
        request,
        "portal/personal_done.html",
        _context(person, title="Your question is sent", consent=consent, what="question"),
    )
