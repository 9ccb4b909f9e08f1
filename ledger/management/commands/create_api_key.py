"""Create a payroll API key scoped to one or more studios. The key is printed once; only its
hash is stored."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ledger.audit import acting_as, system_user
from ledger.models import PayrollKey, Studio


class Command(BaseCommand):
    help = "Create a payroll API key for the given studio(s) and print it once."

    def add_arguments(self, parser):
        parser.add_argument(
            "--studio", action="append", required=True, help="Studio slug (repeatable)."
        )
        parser.add_argument(
            "--name", required=True, help="A name for the key, e.g. the payroll vendor."
        )
        parser.add_argument(
            "--owner",
            help="Username the key acts as in history (default: a service user per key name).",
        )

    @transaction.atomic
    def handle(self, *args, studio, name, owner=None, **options):
        studios = list(Studio.objects.filter(slug__in=studio))
        missing = sorted(set(studio) - {s.slug for s in studios})
        if missing:
            raise CommandError(f"Unknown studio: {', '.join(missing)}")
        with acting_as(system_user()):
            user = self._owner(owner, name)
            key, raw = PayrollKey.objects.create_key(name=name, owner=user)
            key.studios.set(studios)
        self.stdout.write(f"API key for {name} ({', '.join(s.slug for s in studios)}), shown once:")
        self.stdout.write(raw)

    def _owner(self, username, key_name):
        User = get_user_model()
        if username:
            try:
                return User.objects.get(username=username)
            except User.DoesNotExist:
                raise CommandError(f"Unknown user: {username}") from None
        user, created = User.objects.get_or_create(
            username=f"payroll-{key_name}"[:150].replace(" ", "-").lower(),
            defaults={"first_name": key_name[:150], "last_name": "(payroll API)"},
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        return user
