"""The IATSE consent rules (`iatse.*`, RULES.md §2): a crew scan needs a separate consent and is
never a condition of employment (`iatse.scan_consent`); no employee is required to write prompts
that would displace a covered employee (`iatse.no_displacing_prompts`); every other use needs an
AI-impact notice to the union before it (`iatse.ai_impact_notice`)."""

from .covering import covering_consent
from .facts import ConsentFacts
from .verdict import Context, Verdict


def check_iatse(verdict: Verdict, ctx: Context) -> ConsentFacts | None:
    """An IATSE use, decided into `verdict`; the consent relied on, or None."""
    use = ctx.use
    relied = None
    crew_scan = use.kind in ("scan", "replica_creation")
    if crew_scan:
        if use.flags.condition_of_employment:
            verdict.fail("iatse.scan_consent", "The scan was made a condition of employment.")
        relied = covering_consent(
            verdict,
            ctx,
            kinds=("scan", "replica_creation"),
            rule="iatse.scan_consent",
            sag_form=False,
            separate_rule="iatse.scan_consent",
        )
    if use.flags.displacing_prompts:
        verdict.fail(
            "iatse.no_displacing_prompts",
            "An employee was required to write prompts that would displace a covered employee.",
        )
    else:
        verdict.ok("iatse.no_displacing_prompts")
    if not crew_scan:  # a crew scan is decided by iatse.scan_consent (RULES.md §2)
        _ai_impact_notice(verdict, ctx)
    return relied


def _ai_impact_notice(verdict: Verdict, ctx: Context) -> None:
    use = ctx.use
    notices = [
        n
        for n in ctx.union_notices
        if n.kind == "ai_impact" and n.production == use.production and n.given_at <= use.at
    ]
    if notices:
        verdict.ok("iatse.ai_impact_notice")
    else:
        verdict.fail(
            "iatse.ai_impact_notice",
            "No AI-impact notice was given to the union before this use.",
        )
