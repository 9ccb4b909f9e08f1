"""The AI disclosure label: its counts, its publication at an unguessable public address (no
login; unpublished is not found), and what it never shows: anyone who did not agree to be named,
and any free text written about a person."""

import json
import uuid
from datetime import UTC, date, datetime

import pytest
from django.test import Client

from compensation.models import WgaDelivery
from consent.services import (
    ai_use_record,
    consent_revoke,
    union_notice_record,
    wga_disclosure_record,
)
from ledger.access import SYSTEM_SCOPE, Scope, scope_for
from reports import label
from reports.compliance import Target
from reports.models import DisclosureLabel, Report
from reports.services import label_publish, report_generate
from tests.factories import (
    EngagementFactory,
    ProductionFactory,
    StudioFactory,
    UserFactory,
    agreement,
    evidence_file,
    grant_consent,
    guild,
    studio_staff,
)

pytestmark = pytest.mark.django_db

EVERYONE = Scope(superuser=True)

# The people of "The Long Light". Only Ann agreed to be named.
PEOPLE = {
    "ann": dict(
        legal_name="Annabel Quist",
        professional_name="Ann Vale",
        email="annabel@quist.test",
        payroll_ref="PAY-ANN-0001",
    ),
    "bob": dict(
        legal_name="Robert Lindqvist",
        professional_name="Bobby Lind",
        email="robert@lindqvist.test",
        payroll_ref="PAY-BOB-0002",
    ),
    "cara": dict(
        legal_name="Carolina Mendes",
        professional_name="",
        email="carolina@mendes.test",
        payroll_ref="PAY-CARA-0003",
    ),
    "eve": dict(
        legal_name="Evelyn Hart",
        professional_name="Evie Hartley",
        email="evelyn@hart.test",
        payroll_ref="PAY-EVE-0004",
    ),
    "dan": dict(
        legal_name="Daniel Okafor",
        professional_name="Danny Oak",
        email="daniel@okafor.test",
        payroll_ref="PAY-DAN-0005",
    ),
    "wes": dict(
        legal_name="Wesley Brandt",
        professional_name="Wes Penn",
        email="wesley@brandt.test",
        payroll_ref="PAY-WES-0006",
    ),
}
DESCRIPTIONS = {
    "ann": "Full-body scan of Annabel Quist for the rooftop duel",
    "bob": "Face scan of Robert Lindqvist for the harbour chase, his stunt double's shots",
    "eve": "Voice replica of Evelyn Hart for the radio play-within-the-play",
}
FREE_TEXT = [
    *DESCRIPTIONS.values(),
    "Replica of Carolina Mendes in the finale crowd",
    "Synthetic extra modelled on Robert Lindqvist's gait",
    "Notice sent to Robert Lindqvist's agent",
    "AI-generated outline handed to Daniel Okafor",
    "Polish pass by Wesley Brandt on an AI draft",
]


def at(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def consent_for(engagement, actor, who, **fields):
    values = dict(
        description=DESCRIPTIONS[who],
        scenes="Episode 3",
        media="streaming",
        evidence=evidence_file(f"signed by {who}".encode(), f"{who}.pdf"),
    )
    values.update(fields)
    return grant_consent(engagement, actor=actor, **values)


def use(actor, production, person, kind, day, description, **flags):
    if kind == "replica_use":
        flags.setdefault("days", 1)  # a replica use needs its days
    return ai_use_record(
        actor=actor,
        scope=EVERYONE,
        production=production,
        person=person,
        kind=kind,
        starts_at=at(2025, 6, day, 9),
        description=description,
        **flags,
    )


@pytest.fixture
def world():
    meridian = StudioFactory(name="Meridian Pictures", slug="meridian")
    light = ProductionFactory(studio=meridian, title="The Long Light")
    actor = UserFactory(username="recorder")
    people = {}
    for who in ("ann", "bob", "cara", "eve"):
        people[who] = EngagementFactory(
            production=light, **{f"person__{k}": v for k, v in PEOPLE[who].items()}
        )
    for who in ("dan", "wes"):
        people[who] = EngagementFactory(
            production=light,
            agreement=agreement("wga-mba-2023"),
            classification="writer",
            rate_unit="flat",
            **{f"person__{k}": v for k, v in PEOPLE[who].items()},
        )

    ann = consent_for(people["ann"], actor, "ann", named_in_disclosure=True)
    bob = consent_for(
        people["bob"],
        actor,
        "bob",
        instrument="rider",
        signed_by="Robert Lindqvist's agent",
        signed_by_capacity="representative",
    )
    eve = consent_for(people["eve"], actor, "eve", named_in_disclosure=True)
    person = {who: e.person for who, e in people.items()}
    uses = [
        use(actor, light, person["ann"], "replica_creation", 10, DESCRIPTIONS["ann"]),
        use(actor, light, person["ann"], "replica_creation", 11, DESCRIPTIONS["ann"]),
        use(actor, light, person["bob"], "replica_creation", 10, DESCRIPTIONS["bob"]),
        use(actor, light, person["eve"], "replica_creation", 12, DESCRIPTIONS["eve"]),
        use(actor, light, person["cara"], "replica_use", 12, FREE_TEXT[3]),
        use(
            actor,
            light,
            person["wes"],
            "writer_ai_use",
            13,
            FREE_TEXT[7],
            material_handed_over=True,
        ),
    ]
    # Eve agreed to be named, then revoked her consent: she is not named any more.
    consent_revoke(actor=actor, consent=eve, reason="Evelyn Hart withdrew", at=at(2025, 6, 20))

    for kind, code, day in (
        ("synthetic_performer", "sag-aftra", 8),
        ("synthetic_performer", "sag-aftra", 3),
        ("ai_impact", "iatse", 5),
    ):
        union_notice_record(
            actor=actor,
            scope=SYSTEM_SCOPE,
            production=light,
            guild=guild(code),
            kind=kind,
            given_at=at(2025, 6, day, 23, 30),
            description=FREE_TEXT[4],
            recipient=FREE_TEXT[5],
        )
    WgaDelivery.objects.create(
        engagement=people["dan"],
        work_type="story",
        date=date(2025, 6, 14),
        ai_material_handed_over=True,
    )
    WgaDelivery.objects.create(
        engagement=people["wes"], work_type="screenplay", date=date(2025, 6, 15)
    )
    wga_disclosure_record(
        actor=actor,
        scope=SYSTEM_SCOPE,
        production=light,
        writer=person["dan"],
        material=FREE_TEXT[6],
        handed_over_on=date(2025, 6, 14),
        disclosed_at=at(2025, 6, 14, 9),
    )

    # Another production of another studio: nothing of it shows on this label.
    ember = ProductionFactory(
        studio=StudioFactory(name="Northgate", slug="northgate"), title="Ember"
    )
    nell = EngagementFactory(
        production=ember,
        person__legal_name="Nell Northcott",
        person__professional_name="Nell North",
        person__payroll_ref="PAY-NELL-0007",
    )
    nell_consent = consent_for(nell, actor, "ann", named_in_disclosure=True)
    use(actor, ember, nell.person, "replica_creation", 10, "Scan of Nell Northcott")
    wga_disclosure_record(
        actor=actor,
        scope=SYSTEM_SCOPE,
        production=ember,
        writer=person["wes"],
        material="An unrelated outline",
        handed_over_on=date(2025, 6, 14),
        disclosed_at=at(2025, 6, 14, 9),
    )
    return {
        "studio": meridian,
        "light": light,
        "ember": ember,
        "actor": actor,
        "staff": studio_staff(meridian, "maya"),
        "person": person,
        "consents": {"ann": ann, "bob": bob, "eve": eve, "nell": nell_consent},
        "uses": uses,
    }


# --- the content ------------------------------------------------------------------------------


def test_the_register_is_what_the_fixture_says(world):
    assert [u.status for u in world["uses"][:5]] == ["allowed"] * 4 + ["violation"]
    assert world["uses"][2].consent == world["consents"]["bob"]


def test_the_label_counts(world):
    c = label.content(world["light"])
    assert c["label"] == "AI disclosure"
    assert (c["production"], c["studio"]) == ("The Long Light", "Meridian Pictures")
    wes_use = world["uses"][5]
    writer_kind = {
        "recorded": 1,
        "people": 1,
        "allowed": int(wes_use.status == "allowed"),
        "violations": int(wes_use.status == "violation"),
    }
    assert c["uses"] == {
        "replica_creation": {"recorded": 4, "people": 3, "allowed": 4, "violations": 0},
        "replica_use": {"recorded": 1, "people": 1, "allowed": 0, "violations": 1},
        "writer_ai_use": writer_kind,
    }
    assert list(c["uses"]) == ["replica_creation", "replica_use", "writer_ai_use"]
    assert c["consent_basis"]["replica_creation"] == {
        "consents": 3,  # Ann's two uses rely on one consent
        "instrument": {"separate_writing": 2, "rider": 1, "standard_terms": 0},
        "capacity": {"self": 2, "representative": 1, "union": 0},
    }
    assert "replica_use" not in c["consent_basis"]  # a violation relies on no consent
    assert c["named"] == [{"name": "Ann Vale", "use_kinds": ["replica_creation"]}]
    assert c["union_notices"] == [
        {"kind": "ai_impact", "guild": "iatse", "count": 1, "first_given_on": "2025-06-05"},
        {
            "kind": "synthetic_performer",
            "guild": "sag-aftra",
            "count": 2,
            "first_given_on": "2025-06-03",
        },
    ]
    # Dan by a delivery, Wes by a use; only Dan was told (Wes's disclosure is on Ember).
    assert c["writers"] == {"received_ai_material": 2, "disclosed": 1}
    assert c["last_compliance_report"] is None
    assert json.loads(json.dumps(c)) == c


def test_an_empty_production_has_an_empty_label():
    production = ProductionFactory(title="Quiet")
    c = label.content(production)
    assert c["uses"] == {} and c["consent_basis"] == {} and c["named"] == []
    assert c["union_notices"] == []
    assert c["writers"] == {"received_ai_material": 0, "disclosed": 0}
    page = label.html(c)
    assert "No AI use is recorded" in page


def test_a_named_person_without_uses_is_named_with_none(world):
    grant_consent(
        EngagementFactory(
            production=world["light"], person__legal_name="Zed Zimmer", person__payroll_ref="Z-1"
        ),
        actor=world["actor"],
        scenes="Episode 3",
        media="streaming",
        named_in_disclosure=True,
    )
    named = label.content(world["light"])["named"]
    assert {"name": "Zed Zimmer", "use_kinds": []} in named
    assert "none recorded yet" in label.html(label.content(world["light"]))


def test_the_last_compliance_report_is_the_latest_of_the_production(world):
    staff = world["staff"]
    target = Target.of(world["light"])
    for as_of, period in (
        (at(2025, 7, 2, 6), (date(2025, 6, 1), date(2025, 6, 30))),
        (at(2025, 7, 9, 6), (date(2025, 6, 1), date(2025, 7, 7))),
        (at(2025, 7, 5, 6), (date(2025, 6, 1), date(2025, 7, 4))),
    ):
        report_generate(
            target=target,
            period_from=period[0],
            period_to=period[1],
            origin="on_demand",
            actor=staff,
            as_of=as_of,
        )
    report_generate(
        target=Target.of(world["ember"]),
        period_from=date(2025, 6, 1),
        period_to=date(2025, 7, 31),
        origin="on_demand",
        actor=staff,
        as_of=at(2025, 8, 1, 6),
    )
    latest = Report.objects.get(production=world["light"], generated_at=at(2025, 7, 9, 6))
    assert label.content(world["light"])["last_compliance_report"] == {
        "generated_at": "2025-07-09T06:00:00+00:00",
        "period_from": "2025-06-01",
        "period_to": "2025-07-07",
        "sha256": latest.sha256,
    }


# --- publication ------------------------------------------------------------------------------


def publish(world, production=None, published=True) -> DisclosureLabel:
    staff = world["staff"]
    return label_publish(
        actor=staff,
        scope=scope_for(staff),
        production=production or world["light"],
        published=published,
    )


def page_url(public_id) -> str:
    return f"/disclosure/{public_id}/"


def json_url(public_id) -> str:
    return f"/disclosure/{public_id}.json"


def assert_not_found(client, public_id):
    page = client.get(page_url(public_id))
    assert page.status_code == 404
    data = client.get(json_url(public_id))
    assert data.status_code == 404
    assert data["Content-Type"].startswith("application/json")
    body = json.loads(data.content)
    assert set(body) == {"code", "message", "fields"}
    assert (body["code"], body["fields"]) == ("not_found", {})


def test_a_published_label_is_served_without_login(world):
    published = publish(world)
    client = Client()  # anonymous
    page = client.get(page_url(published.public_id))
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    text = page.content.decode()
    assert "The Long Light" in text and "Meridian Pictures" in text and "Ann Vale" in text
    assert "/admin" not in text  # a public page: no way into the admin

    data = client.get(json_url(published.public_id))
    assert data.status_code == 200
    assert data["Content-Type"].startswith("application/json")
    assert json.loads(data.content) == label.content(world["light"])


def test_an_unpublished_or_withdrawn_or_unknown_label_is_not_found(world):
    client = Client()
    assert_not_found(client, uuid.uuid4())
    never = DisclosureLabel.objects.create(production=world["light"])
    assert_not_found(client, never.public_id)

    published = publish(world)
    assert published.public_id == never.public_id
    assert client.get(page_url(published.public_id)).status_code == 200
    publish(world, published=False)
    assert_not_found(client, published.public_id)


def test_the_label_pages_only_answer_reads(world):
    published = publish(world)
    client = Client()
    assert client.post(page_url(published.public_id)).status_code == 405
    assert client.post(json_url(published.public_id)).status_code == 405
    assert client.head(page_url(published.public_id)).status_code == 200


def test_a_studio_publishes_only_its_own_labels(world):
    from core.errors import NotFound

    with pytest.raises(NotFound):
        publish(world, production=world["ember"])
    assert not DisclosureLabel.objects.filter(production=world["ember"]).exists()


# --- privacy ----------------------------------------------------------------------------------


def test_the_label_names_only_who_agreed_and_shows_no_free_text(world):
    published = publish(world)
    client = Client()
    page = client.get(page_url(published.public_id)).content.decode()
    data = client.get(json_url(published.public_id)).content.decode()
    assert "Ann Vale" in page and "Ann Vale" in data

    forbidden = [PEOPLE["ann"][k] for k in ("legal_name", "email", "payroll_ref")]
    for who in ("bob", "cara", "eve", "dan", "wes"):
        forbidden += [v for v in PEOPLE[who].values() if v]
    forbidden += ["Nell North", "Nell Northcott", "PAY-NELL-0007", *FREE_TEXT]
    # Distinctive fragments too, so that a shortened or re-worded copy is caught.
    forbidden += ["Quist", "Lindqvist", "Mendes", "Evelyn", "Okafor", "Brandt", "Lind", "Hart"]
    forbidden += ["rooftop", "harbour", "radio play", "withdrew", "agent", ".test", "PAY-"]
    for body in (page, data):
        found = [text for text in forbidden if text in body]
        assert found == [], found
