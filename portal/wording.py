"""What a consent request asks, in the words a performer or writer reads on the signing page and
in the document they sign: the kind of use, the term, and what they will be paid under which
rule (the compensation rules' own words, compensation.rules.rule_book)."""

from dataclasses import dataclass

from compensation.rules.rule_book import PAY_RULES
from consent.models import ConsentRequest
from core.money import money_display

KIND_WORDS = {
    "replica_creation": "to make a digital replica of you: a scan of your face, body or voice",
    "scan": "to scan you (face, body or voice) to make a digital replica",
    "replica_use": "to use your digital replica in place of you",
    "icdr_use": "to use a digital replica of you made without scanning you "
    "(an independently created digital replica)",
    "digital_alteration": "to alter your recorded performance digitally",
    "synthetic_features": "to give a synthetic performer features recognisable as yours",
    "training": "to use your work or likeness to train AI systems",
    "writer_ai_use": "to use AI-generated material with, or AI tools on, your writing",
}
# The pay rules a use of each kind is computed under (RULES.md §3). Kinds not listed carry no
# payment of their own: the person's pay for their work is unchanged.
PAY_RULES_OF_KIND = {
    "replica_creation": ("sag.pay.ebdr_creation",),
    "scan": ("sag.pay.ebdr_creation",),
    "replica_use": ("sag.pay.ebdr_use",),
    "icdr_use": ("sag.pay.bargained_use",),
}
_RULES = {rule.id: rule for rule in PAY_RULES}


@dataclass(frozen=True)
class PayRule:
    id: str
    title: str
    text: str


@dataclass(frozen=True)
class Pay:
    amount: str | None  # the bargained amount, as people read it
    rules: list[PayRule]


def kind_words(kind: str) -> str:
    return KIND_WORDS.get(kind, kind.replace("_", " "))


def term_words(request: ConsentRequest) -> str:
    start = f"{request.term_from:%d %B %Y}"
    if request.term_to is None:
        return f"from {start}, with no end date (until you revoke it)"
    return f"from {start} to {request.term_to:%d %B %Y}"


def pay(request: ConsentRequest) -> Pay:
    amount = (
        None
        if request.bargained_amount is None
        else money_display(request.bargained_amount, request.bargained_currency)
    )
    ids = list(PAY_RULES_OF_KIND.get(request.kind, ()))
    if amount is not None and request.kind == "replica_use":
        ids.append("sag.pay.bargained_use")
    return Pay(
        amount=amount,
        rules=[PayRule(i, _RULES[i].title, _RULES[i].text) for i in ids if i in _RULES],
    )
