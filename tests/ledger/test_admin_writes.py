"""The registry's admin pages write through the registry's services, as the API does: a person's
memberships from the inline, staff roles from their pages; guilds and agreements are the
catalogue's and are read, not changed, in the admin."""

import pytest
from django.test import Client
from django.urls import reverse

from ledger.models import Agreement, Guild, Membership, StudioStaff
from ledger.registry import services
from tests.factories import (
    MembershipFactory,
    PersonFactory,
    StudioFactory,
    UserFactory,
    guild,
    studio_staff,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(monkeypatch):
    """Every registry service the admin calls, by name, with its keyword arguments."""
    seen: list[tuple[str, dict]] = []
    for name in ("person_update", "studio_staff_create", "guild_staff_create"):
        original = getattr(services, name)

        def spy(*args, _name=name, _original=original, **kwargs):
            seen.append((_name, kwargs))
            return _original(*args, **kwargs)

        monkeypatch.setattr(services, name, spy)
    return seen


def _person_form(person, memberships):
    data = {
        "legal_name": person.legal_name,
        "professional_name": "",
        "email": person.email,
        "payroll_ref": person.payroll_ref,
        "registered_by": person.registered_by_id,
        "date_of_death": "",
        "authorized_representative": "",
        "memberships-TOTAL_FORMS": str(len(memberships)),
        "memberships-INITIAL_FORMS": str(sum(1 for m in memberships if m.get("id"))),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(memberships):
        for key, value in row.items():
            data[f"memberships-{index}-{key}"] = value
        data[f"memberships-{index}-person"] = person.pk
    return data


def test_the_membership_inline_sets_memberships_through_the_service(calls):
    studio = StudioFactory()
    staff = studio_staff(studio, "maya")
    person = PersonFactory(registered_by=studio)
    kept = MembershipFactory(person=person, guild=guild("sag-aftra"), member_number="SAG-1")
    client = Client()
    client.force_login(staff)
    url = reverse("admin:ledger_person_change", args=[person.pk])

    response = client.post(
        url,
        _person_form(
            person,
            [
                {"id": kept.pk, "guild": kept.guild_id, "member_number": "SAG-2"},
                {"guild": guild("wga").pk, "member_number": "WGA-9"},
            ],
        ),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    memberships = [c for c in calls if c[0] == "person_update" and "memberships" in c[1]]
    assert len(memberships) == 1
    assert sorted(
        (m.guild.code, m.member_number) for m in Membership.objects.filter(person=person)
    ) == [("sag-aftra", "SAG-2"), ("wga", "WGA-9")]
    added = Membership.objects.get(person=person, guild__code="wga")
    assert added.history.get().history_user == staff

    removed = client.post(
        url,
        _person_form(
            person,
            [{"id": kept.pk, "guild": kept.guild_id, "member_number": "SAG-2", "DELETE": "on"}],
        ),
    )
    assert removed.status_code == 302
    assert not Membership.objects.filter(person=person, guild__code="sag-aftra").exists()


def test_guilds_and_agreements_are_read_not_changed_in_the_admin():
    root = UserFactory(username="root", is_superuser=True)
    client = Client()
    client.force_login(root)
    sag = Agreement.objects.get(code="sag-tvth-2023")
    assert client.get(reverse("admin:ledger_agreement_add")).status_code == 403
    assert client.get(reverse("admin:ledger_guild_add")).status_code == 403
    page = client.get(reverse("admin:ledger_agreement_change", args=[sag.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    refused = client.post(
        reverse("admin:ledger_agreement_change", args=[sag.pk]), {"name": "Changed"}
    )
    assert refused.status_code == 403
    assert Agreement.objects.get(pk=sag.pk).name == "SAG-AFTRA TV/Theatrical (2023 MOA)"
    deleted = client.post(
        reverse("admin:ledger_guild_delete", args=[sag.guild_id]), {"post": "yes"}
    )
    assert deleted.status_code == 403 and Guild.objects.filter(pk=sag.guild_id).exists()


def test_staff_roles_are_granted_through_the_service(calls):
    root = UserFactory(username="root", is_superuser=True)
    studio = StudioFactory()
    user = UserFactory(username="newhire")
    client = Client()
    client.force_login(root)

    response = client.post(
        reverse("admin:ledger_studiostaff_add"), {"user": user.pk, "studio": studio.pk}
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert [name for name, _ in calls] == ["studio_staff_create"]
    role = StudioStaff.objects.get(user=user)
    assert role.studio == studio and role.history.get().history_user == root
    again = client.post(
        reverse("admin:ledger_studiostaff_add"), {"user": user.pk, "studio": studio.pk}
    )
    assert again.status_code == 200  # a form error, not a second role or a 500
    assert StudioStaff.objects.filter(user=user).count() == 1
