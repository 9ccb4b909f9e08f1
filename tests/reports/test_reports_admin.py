"""The reports admin on the demo data, as each demo login sees it: every page of the reporting
admin opens, each user sees only their reports, and the demo made one report per production."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from ledger.models import Production
from reports.models import ConsentReceipt, DisclosureLabel, Report

pytestmark = pytest.mark.django_db

PAGES = [
    "/admin/reports/report/",
    "/admin/reports/report/run/",
    "/admin/reports/reportdelivery/",
    "/admin/reports/subscription/",
    "/admin/reports/subscription/add/",
    "/admin/reports/consentreceipt/",
    "/admin/reports/receiptdelivery/",
    "/admin/reports/disclosurelabel/",
    "/admin/reports/disclosurelabel/add/",
    "/admin/django_celery_beat/periodictask/",
]


@pytest.fixture
def demo(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    call_command("demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def _login(client, username):
    client.force_login(get_user_model().objects.get(username=username))
    return client


def test_the_demo_makes_one_report_per_production(demo):
    assert Report.objects.count() == Production.objects.count() > 0
    assert set(Report.objects.values_list("production_id", flat=True)) == set(
        Production.objects.values_list("id", flat=True)
    )


# One demo per login, each page a subtest of its own: the demo is most of the cost.
def test_every_reporting_page_opens_for_the_administrator(demo, client, subtests):
    _login(client, "admin")
    for page in PAGES:
        with subtests.test(page=page):
            assert client.get(page).status_code == 200


def test_every_reporting_page_opens_for_studio_staff(demo, client, subtests):
    _login(client, "meridian")
    for page in PAGES[:-1]:
        with subtests.test(page=page):
            assert client.get(page).status_code == 200


def test_schedules_are_the_administrators_to_edit(demo, client):
    assert _login(client, "meridian").get(PAGES[-1]).status_code == 403
    page = _login(client, "admin").get(PAGES[-1]).content.decode()
    assert "Weekly compliance report of each active production" in page
    assert "Monthly compliance report of each guild" in page


def test_each_login_sees_only_its_reports_and_receipts(demo, client):
    northgate = Report.objects.exclude(studio__slug="meridian").first()
    meridian = Report.objects.filter(studio__slug="meridian").first()
    _login(client, "meridian")
    assert client.get(f"/admin/reports/report/{meridian.pk}/change/").status_code == 200
    assert client.get(f"/admin/reports/report/{northgate.pk}/change/").status_code == 404
    assert client.get(f"/admin/reports/report/{northgate.pk}/pdf/").status_code == 404
    consent = ConsentReceipt.objects.filter(production__studio__slug="meridian").first()
    pdf = client.get(f"/admin/reports/consentreceipt/{consent.pk}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    _login(client, "northgate")
    assert client.get(f"/admin/reports/consentreceipt/{consent.pk}/pdf/").status_code == 404


def test_studio_staff_publish_their_label_in_the_admin(demo, client):
    production = Production.objects.filter(studio__slug="meridian").first()
    response = _login(client, "meridian").post(
        "/admin/reports/disclosurelabel/add/", {"production": production.pk, "published": "on"}
    )
    assert response.status_code == 302, response.content
    label = DisclosureLabel.objects.get(production=production)
    assert label.published
    public = client.get(f"/disclosure/{label.public_id}/")
    assert public.status_code == 200
    assert production.title.encode() in public.content
