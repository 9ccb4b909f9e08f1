"""No collective agreement (`non-union`, RULES.md §1 and §2): no union rule, only the general
consent rules (`consent.term`, `consent.revoked`) and state law."""

from .covering import covering_consent
from .facts import NON_UNION_CONSENT_KINDS, ConsentFacts
from .law import ad_disclosure
from .verdict import Context, Verdict


def check_non_union(verdict: Verdict, ctx: Context) -> ConsentFacts | None:
    """NON_UNION: a consent of the use's kind for this production covers the use (consent.term,
    consent.revoked), then state law; no union rule."""
    use = ctx.use
    if use.kind == "synthetic_performer":
        ad_disclosure(verdict, ctx)
        if not use.flags.synthetic_source_person:
            verdict.reasons.append(
                "No person's features are used: with no collective agreement no consent is needed."
            )
            return None
    return covering_consent(
        verdict,
        ctx,
        kinds=NON_UNION_CONSENT_KINDS[use.kind],
        rule="consent.term",
        sag_form=False,
        separate_rule=None,
    )
