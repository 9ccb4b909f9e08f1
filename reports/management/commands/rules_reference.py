"""Write the rules reference, docs/rules.md, generated from the rule books and the shipped
parameters (reports.rules_reference). `--check` writes nothing: exit 1 when the file is stale."""

from django.core.management.base import BaseCommand

from reports import rules_reference


class Command(BaseCommand):
    help = "Write docs/rules.md from the rule books and the shipped parameters (--check: compare)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Write nothing; exit 1 when docs/rules.md differs from a fresh generation.",
        )

    def handle(self, *args, check: bool = False, **options):
        path = rules_reference.REFERENCE_FILE
        if check:
            if rules_reference.stale():
                self.stderr.write(
                    f"{path.name} is stale: it differs from the rule books and parameters. "
                    f"Regenerate it with `{rules_reference.REGENERATE}`."
                )
                raise SystemExit(1)
            self.stdout.write(f"{path.name} is up to date.")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rules_reference.markdown(), encoding="utf-8")
        self.stdout.write(f"Wrote {path}.")
