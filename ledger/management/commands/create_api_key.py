"""Create a payroll API key scoped to one or more studios, with the scopes it needs and, if
wanted, an expiry. The key is printed once; only its hash is stored."""

from datetime import UTC, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from core.api.scopes import ALL_SCOPES, default_scopes
from core.audit import acting_as, system_user
from core.errors import DomainError
from core.parse import ParseError, parse_date, parse_instant
from ledger.models import Studio
from ledger.payroll.keys import payroll_key_create


def parse_expiry(value: str) -> datetime:
    """`30` (days from now), `2027-01-31` (the key stops at 00:00 UTC that day) or an ISO 8601
    date-time with a time zone."""
    if value.isascii() and value.isdigit():  # "²" is a digit to isdigit(), not to int()
        if int(value) > 36_600:
            raise CommandError(f"--expires {value!r}: at most 36600 days.")
        return timezone.now() + timedelta(days=int(value))
    try:
        if len(value) == 10:
            return datetime.combine(parse_date(value, field="expires"), time(), tzinfo=UTC)
        return parse_instant(value, field="expires")
    except ParseError as error:
        raise CommandError(
            f"--expires {value!r}: give a number of days, a date (2027-01-31) or an ISO "
            f"date-time (and with it, give the time zone: Z or +00:00). {error.message}"
        ) from None


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
        parser.add_argument(
            "--scope",
            action="append",
            choices=ALL_SCOPES,
            help="What the key may do (repeatable; default: every scope). "
            "A vendor that only reads payables needs just payables:read.",
        )
        parser.add_argument(
            "--expires",
            help="Days from now (90), a date (2027-01-31, 00:00 UTC) or an ISO date-time.",
        )

    def handle(self, *args, studio, name, owner=None, scope=None, expires=None, **options):
        expires_at = parse_expiry(expires) if expires else None
        scopes = sorted(set(scope), key=ALL_SCOPES.index) if scope else default_scopes()
        with transaction.atomic():
            studios = list(Studio.objects.filter(slug__in=studio))
            missing = sorted(set(studio) - {s.slug for s in studios})
            if missing:
                raise CommandError(f"Unknown studio: {', '.join(missing)}")
            actor = system_user()
            with acting_as(actor):
                user = self._owner(owner, name)
            try:
                key, raw = payroll_key_create(
                    actor=actor,
                    name=name,
                    owner=user,
                    studios=studios,
                    scopes=scopes,
                    expires_at=expires_at,
                )
            except DomainError as error:
                raise CommandError(error.message) from None
        self.stdout.write(f"API key for {name} ({', '.join(s.slug for s in studios)}), shown once:")
        self.stdout.write(f"scopes: {' '.join(key.scopes)}")
        self.stdout.write(f"expires: {key.expiry_date.isoformat() if key.expiry_date else 'never'}")
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
