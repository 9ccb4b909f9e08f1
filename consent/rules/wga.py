"""The WGA consent rules (`wga.*`, RULES.md §2): a writer's own use of generative AI, never
required by the company (`wga.writer_use`); the disclosure of AI-generated material handed to a
writer (`wga.disclosure`); training on a writer's material (`wga.training`) and, from the 2026
agreement, the union notice of a training licence (`wga.training_notice`)."""

from .covering import covering_consent
from .facts import ConsentFacts
from .verdict import Context, Verdict, iso


def check_wga(verdict: Verdict, ctx: Context) -> ConsentFacts | None:
    """A WGA use, decided into `verdict`; the consent relied on, or None."""
    use = ctx.use
    relied = None
    if use.flags.material_handed_over:
        _disclosure(verdict, ctx)
    elif use.kind == "writer_ai_use":
        if use.flags.company_required:
            verdict.fail(
                "wga.writer_use",
                "The company required the writer to use generative AI, which the MBA forbids.",
            )
        else:
            relied = covering_consent(
                verdict,
                ctx,
                kinds=("writer_ai_use",),
                rule="wga.writer_use",
                sag_form=False,
                separate_rule=None,
            )
    if use.kind == "training":
        relied = covering_consent(
            verdict,
            ctx,
            kinds=("training",),
            rule="wga.training",
            sag_form=False,
            separate_rule=None,
        )
        if ctx.year >= 2026:
            _training_notice(verdict, ctx)
    return relied


def _disclosure(verdict: Verdict, ctx: Context) -> None:
    rule = "wga.disclosure"
    use = ctx.use
    given = [
        d
        for d in ctx.disclosures
        if d.production == use.production and d.given_at.date() <= use.at.date()
    ]
    if given:
        verdict.ok(rule, f"Disclosed to the writer at {iso(min(d.given_at for d in given))}.")
    else:
        verdict.fail(
            rule,
            "AI-generated material was handed to the writer without a disclosure on or before "
            "the hand-over date.",
        )


def _training_notice(verdict: Verdict, ctx: Context) -> None:
    """wga.training_notice (2026): licensing a writer's material for AI training (the use, dated
    `at`) needs a union notice of kind training_license on or before it. An agreed amount is
    recorded on the consent, never computed."""
    rule = "wga.training_notice"
    use = ctx.use
    notices = [
        n
        for n in ctx.union_notices
        if n.kind == "training_license" and n.production == use.production and n.given_at <= use.at
    ]
    if notices:
        verdict.ok(
            rule,
            f"The WGA was notified of the training licence at "
            f"{iso(min(n.given_at for n in notices))}.",
        )
    else:
        verdict.fail(
            rule,
            "No training_license notice to the WGA on or before the licence of the writer's "
            "material for AI training (2026 agreement).",
        )
