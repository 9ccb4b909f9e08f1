"""Security headers on the three kinds of page: the API, the staff admin, the public disclosure
label; and the Swagger UI page, which runs under the same policy."""

import pytest
from rest_framework.test import APIClient

from ledger.access import scope_for
from reports.services import label_publish
from tests.factories import ProductionFactory, StudioFactory, studio_staff

pytestmark = pytest.mark.django_db

FIXED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": (
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
        "microphone=(), payment=(), usb=()"
    ),
}
STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def assert_headers(response, csp=STRICT_CSP):
    for name, value in FIXED.items():
        assert response.headers.get(name) == value, (name, response.headers.get(name))
    assert response.headers["Content-Security-Policy"] == csp


@pytest.fixture
def studio():
    return StudioFactory(slug="alpha")


@pytest.fixture
def staff(studio):
    return studio_staff(studio, "staff-a")


def test_an_api_response_carries_the_headers(staff):
    client = APIClient()
    client.force_authenticate(staff)
    response = client.get("/api/v1/guilds/")
    assert response.status_code == 200
    assert_headers(response)


def test_an_api_error_carries_them_too():
    response = APIClient().get("/api/v1/guilds/")
    assert response.status_code == 401
    assert_headers(response)


def test_admin_pages_carry_the_headers(client, staff):
    assert_headers(client.get("/admin/login/"))
    client.force_login(staff)
    response = client.get("/admin/ledger/production/")
    assert response.status_code == 200
    assert_headers(response)
    # the admin's own scripts come from this site: no inline <script> runs under this policy
    assert b"<script>" not in response.content


def test_the_public_disclosure_page_carries_the_headers(client, studio, staff):
    production = ProductionFactory(studio=studio)
    label = label_publish(
        actor=staff, scope=scope_for(staff), production=production, published=True
    )
    page = client.get(f"/disclosure/{label.public_id}/")
    assert page.status_code == 200
    assert_headers(page)
    data = client.get(f"/disclosure/{label.public_id}.json")
    assert data.status_code == 200
    assert_headers(data)


def test_the_api_docs_run_under_the_site_policy(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert_headers(response)
    # Swagger UI comes from this site's static files and starts from a script file, not inline
    assert (
        b"/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in response.content
    )
    assert b"<script>" not in response.content
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("application/javascript")
    assert_headers(script)
