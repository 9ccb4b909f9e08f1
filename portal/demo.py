"""The demo's consent request: Theo Hart asked to consent to a scan for The Long Light, sent and
waiting for his signature. Each loading sends a new link (the link's secret is never stored), which
the demo prints beside the logins; and a fresh link to Ava Delgado's own page, valid for a day so
that it can be tried once the server is up."""

from datetime import timedelta

from django.utils import timezone

from consent import requests
from consent.models import ConsentRequest
from core.audit import save_audited
from ledger.access import Scope
from ledger.models import Person, Production

from . import personal

EMAIL = "theo.hart@example.org"
AVA_EMAIL = "ava.delgado@example.org"
AVA_LINK_MINUTES = 24 * 60
DESCRIPTION = (
    "Full-body and facial scan at stage 5 to create a digital replica for the rooftop chase in "
    "reel 6 (scenes 104 to 110), for the theatrical release, streaming and trailers"
)


def load(*, actor) -> list[str]:
    film = Production.objects.get(title="The Long Light")
    theo = Person.objects.get(memberships__member_number="SAG-100204")
    if not theo.email:
        theo.email = EMAIL
        save_audited(theo, actor=actor)
    scope = Scope(superuser=True)
    waiting = ConsentRequest.objects.filter(
        person=theo, production=film, status__in=[*requests.OPEN, ConsentRequest.Status.EXPIRED]
    ).first()
    if waiting is None:
        today = timezone.now().date()
        draft = requests.request_prepare(
            actor=actor,
            scope=scope,
            person=theo,
            production=film,
            kind="replica_creation",
            description=DESCRIPTION,
            scenes="104-110",
            media="theatrical, streaming, trailers",
            territory="worldwide",
            term_from=today,
            term_to=today + timedelta(days=365),
        )
        sent = requests.request_send(actor=actor, scope=scope, request=draft)
    else:
        sent = requests.request_remind(actor=actor, scope=scope, request=waiting)
    link = sent.sent_link  # type: ignore[attr-defined]  # left on the instance by the send
    return [
        f"A consent request waiting for Theo Hart's signature: {link}",
        f"Ava Delgado's own page (opens once, within a day): {_ava_link(actor)}",
    ]


def _ava_link(actor) -> str:
    ava = Person.objects.get(legal_name="Ava Delgado")
    if not ava.email:
        ava.email = AVA_EMAIL
        save_audited(ava, actor=actor)
    return personal.link_for(ava, minutes=AVA_LINK_MINUTES)
