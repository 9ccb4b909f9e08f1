"""What the privacy commands share: the person by id and the acting user by username (the
named system user when none is given, so the record still says who)."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from core.audit import system_user
from ledger.models import Person


def add_common_arguments(parser):
    parser.add_argument("person", type=int, help="The person's id.")
    parser.add_argument(
        "--actor",
        help="Username of the data protection officer doing it (default: the system user).",
    )


def person_and_actor(person_id: int, username: str | None):
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        raise CommandError(f"No person #{person_id}.")
    if not username:
        return person, system_user()
    actor = get_user_model().objects.filter(username=username, is_active=True).first()
    if actor is None or not actor.is_superuser:
        raise CommandError(f"--actor {username!r}: no active administrator of that name.")
    return person, actor
