"""Who is told what when a person answers a consent request: the signer gets their receipt at
once; the studio's staff and the staff of the guild whose agreement the consent is under are
notified (reports.notifications: in the admin, and by e-mail as each prefers) when a request is
signed, declined or expires, and when a person asks for a new link."""

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from consent.models import Consent, ConsentRequest
from core.audit import system_user
from core.errors import DomainError
from ledger.models import Agreement, Production
from reports import notifications
from reports.models import Flag
from reports.open_items import OpenItem
from reports.services import receipt_send

logger = logging.getLogger(__name__)

# The open-item group these notifications belong to (what a user mutes).
KIND = "consent_requests"


def staff_of(production: Production, agreement: Agreement) -> list[Any]:
    """The active staff of the production's studio and of the agreement's guild (if it has
    one: the non-union agreement has none)."""
    who = Q(studio_roles__studio_id=production.studio_id)
    if agreement.guild_id is not None:
        who |= Q(guild_roles__guild_id=agreement.guild_id)
    return list(
        get_user_model().objects.filter(is_active=True).filter(who).distinct().order_by("pk")
    )


def _tell(production: Production, agreement: Agreement, item: OpenItem) -> None:
    now = timezone.now()
    for user in staff_of(production, agreement):
        notifications.notify(user, [item], now=now)


def _tell_of_request(request: ConsentRequest, event: str, text: str) -> None:
    item = OpenItem(
        text=text,
        url=reverse("admin:consent_consentrequest_change", args=[request.pk]),
        key=f"{KIND}:consent_request:{request.pk}:{event}",
    )
    _tell(request.production, request.agreement, item)


def _what(request: ConsentRequest) -> str:
    return (
        f"Consent request #{request.pk} ({request.get_kind_display()}) to {request.person} for "
        f"{request.production.title}"
    )


def signed(consent: Consent) -> bool:
    """Tell the staff; send the signer their receipt. False when the receipt could not be sent
    now (the consent stands; staff can send it again from the consent's page)."""
    request = consent.request
    _tell_of_request(
        request, "signed", f"{_what(request)}: signed; consent #{consent.pk} recorded."
    )
    try:
        receipt_send(actor=system_user(), consent=consent)
    except DomainError:
        logger.warning("The receipt of consent %s could not be sent", consent.pk)
        return False
    return True


def declined(request: ConsentRequest) -> None:
    _tell_of_request(request, "declined", f"{_what(request)}: declined.")


def expired(request: ConsentRequest) -> None:
    _tell_of_request(request, "expired", f"{_what(request)}: the link expired unanswered.")


def new_link_asked(request: ConsentRequest) -> None:
    _tell_of_request(
        request,
        f"new_link:{timezone.now():%Y%m%d}",
        f"{_what(request)}: the link expired and a new one is asked for; send a reminder.",
    )


# --- from the person's own page (portal.personal) ---------------------------------------------


def _tell_of_consent(consent: Consent, flag: Flag | None, event: str, text: str) -> None:
    """Tell the staff, under the flag's own open-item key when a flag was raised (so the
    open-items scan does not tell them of it a second time), else under one of the consent's."""
    if flag is not None:
        url = reverse("admin:reports_flag_change", args=[flag.pk])
        key = f"flags:flag:{flag.pk}"
    else:
        url = reverse("admin:consent_consent_change", args=[consent.pk])
        key = f"flags:consent:{consent.pk}:{event}"
    _tell(consent.production, consent.agreement, OpenItem(text=text, url=url, key=key))


def _what_consent(consent: Consent) -> str:
    return (
        f"Consent #{consent.pk} ({consent.get_kind_display()}) of {consent.person} for "
        f"{consent.production.title}"
    )


def revoked(consent: Consent, flag: Flag | None = None) -> None:
    _tell_of_consent(
        consent,
        flag,
        "revoked",
        f"{_what_consent(consent)}: revoked by the person from their page.",
    )


def suspended(consent: Consent, flag: Flag | None = None) -> None:
    _tell_of_consent(
        consent,
        flag,
        "suspended",
        f"{_what_consent(consent)}: suspended by the person from their page.",
    )


def question_asked(consent: Consent, flag: Flag | None, question: str) -> None:
    short = question if len(question) <= 200 else question[:199] + "…"
    _tell_of_consent(
        consent,
        flag,
        f"question:{timezone.now():%Y%m%d%H%M%S%f}",
        f"{_what_consent(consent)}: a question from the person's page: {short}",
    )
