import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_demo_is_idempotent_and_serves_admin_and_docs(client):
    call_command("demo", stdout=open("/dev/null", "w"))
    from ledger.models import Engagement, Person, Production, Studio

    counts = [m.objects.count() for m in (Studio, Production, Person, Engagement)]
    call_command("demo", stdout=open("/dev/null", "w"))
    assert [m.objects.count() for m in (Studio, Production, Person, Engagement)] == counts
    assert counts[0] == 2 and counts[1] == 3 and counts[2] >= 20

    assert client.get("/admin/login/").status_code == 200
    assert client.get("/api/docs/").status_code == 200
    # Through the login form: the lock-out backend (django-axes) needs the request, which
    # Client.login() does not pass.
    login = {"username": "meridian", "password": "guild-ledger-demo", "next": "/admin/"}
    assert client.post("/admin/login/", login).status_code == 302
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/ledger/production/").status_code == 200
