"""No page loads anything from another host: the product works offline and tells no third party
who is reading what.

What counts is what a browser fetches on its own when it opens a page: `<script src>`,
`<link href>` (stylesheets, icons), `<img src>`, `<iframe src>`, media sources, `<object data>`,
a form's `action`, `url(...)` and `@import` in `<style>` blocks, `style` attributes and the
site's own stylesheets, and every source a Content-Security-Policy allows. A plain `<a href>` is
not counted: following a link (say, to the published source of a rate) is the reader's choice.
A URL is the product's own when it has no host (a path) or names the host the page was asked
for; `data:` URIs load nothing.

The pages: the log-in page, the API docs and their start-up script, and the public disclosure
label without a login; then, on the demo's data, the admin home, every admin list, add form and
the first record's change form (a compliance report's page is its HTML render), as the
administrator and as studio staff.
"""

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import NoReverseMatch, reverse

from ledger.access import productions, scope_for
from reports.models import Report
from reports.services import label_publish

pytestmark = pytest.mark.django_db

HOST = "testserver"
# (tag, attribute) pairs a browser fetches without being asked to.
LOADING = {
    ("script", "src"),
    ("link", "href"),
    ("img", "src"),
    ("img", "srcset"),
    ("iframe", "src"),
    ("frame", "src"),
    ("source", "src"),
    ("source", "srcset"),
    ("video", "src"),
    ("video", "poster"),
    ("audio", "src"),
    ("track", "src"),
    ("embed", "src"),
    ("object", "data"),
    ("input", "src"),
    ("form", "action"),
}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""")
# A CSP source that is not a keyword, a scheme of this page's own, or a path.
CSP_KEYWORDS = re.compile(r"^('[a-z-]+'|data:|blob:)$")


def outside(url: str) -> bool:
    """Whether fetching `url` from a page of this site would reach another host."""
    url = url.strip()
    if not url or url.startswith(("data:", "#")):
        return False
    parts = urlsplit(url)
    if parts.scheme and parts.scheme not in ("http", "https"):
        return True  # javascript:, ftp:, … nothing of ours is fetched that way
    return bool(parts.netloc) and parts.netloc != HOST


def css_urls(text: str) -> list[str]:
    return [first or second for first, second in CSS_URL.findall(text)]


class Resources(HTMLParser):
    """The URLs an HTML page makes the browser fetch (module docstring)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self.stylesheets: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if (tag, name) in LOADING:
                urls = [u.split()[0] for u in value.split(",") if u.strip()]
                urls = urls if name == "srcset" else [value]
                self.urls += urls
            if name == "style":
                self.urls += css_urls(value)
        if tag == "link" and "stylesheet" in (dict(attrs).get("rel") or ""):
            self.stylesheets.append(dict(attrs).get("href") or "")
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.urls += css_urls(data)


def csp_outside_sources(policy: str) -> list[str]:
    sources = []
    for directive in filter(None, (part.strip() for part in policy.split(";"))):
        _name, *values = directive.split()
        sources += [v for v in values if not CSP_KEYWORDS.match(v) and outside_source(v)]
    return sources


def outside_source(value: str) -> bool:
    """A CSP source naming a host (`https://cdn…`, `*.example.com`, `https:`) allows others."""
    return not value.startswith("/")


def static_file_urls(href: str) -> list[str]:
    """The url()s and @imports of one of the site's stylesheets, read from its static file."""
    prefix = "/static/"
    path = urlsplit(href).path
    if not path.startswith(prefix):
        return []
    found = finders.find(path.removeprefix(prefix))
    assert found, f"{href} is linked but no static file answers it"
    return css_urls(Path(str(found)).read_text(encoding="utf-8"))


def problems_of(response) -> list[str]:
    """Every outside host the response loads or allows, as `where: url` strings."""
    problems = [f"CSP: {s}" for s in csp_outside_sources(response["Content-Security-Policy"])]
    if "html" not in response.get("Content-Type", ""):
        return problems
    page = Resources()
    page.feed(response.content.decode())
    problems += [f"page: {url}" for url in page.urls if outside(url)]
    for href in page.stylesheets:
        problems += [f"{href}: {url}" for url in static_file_urls(href) if outside(url)]
    return problems


def check(client, subtests, url: str) -> bool:
    """Open `url` and check it if it answers 200; whether it did."""
    response = client.get(url)
    if response.status_code != 200:
        return False
    with subtests.test(page=url):
        assert problems_of(response) == []
    return True


# --- the detector itself --------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, is_outside",
    [
        ("/static/admin/css/base.css", False),
        ("widgets.css", False),
        ("http://testserver/static/x.js", False),
        ("data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'/>", False),
        ("https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js", True),
        ("//cdn.example.com/x.css", True),
        ("javascript:alert(1)", True),
    ],
)
def test_a_url_is_outside_when_it_names_another_host(url, is_outside):
    assert outside(url) is is_outside


def test_the_detector_finds_every_kind_of_outside_resource():
    html = """
      <link rel="stylesheet" href="https://fonts.example.com/a.css">
      <script src="//cdn.example.com/x.js"></script>
      <img src="/ok.png" srcset="/ok-2x.png 2x, https://img.example.com/b.png 3x">
      <div style="background: url('https://img.example.com/c.png')"></div>
      <style>@import "https://fonts.example.com/d.css"; .x { background: url(/ok.png) }</style>
      <form action="https://collect.example.com/e"></form>
      <a href="https://www.sagaftra.org/">a plain link is not a load</a>
    """
    page = Resources()
    page.feed(html)
    assert [url for url in page.urls if outside(url)] == [
        "https://fonts.example.com/a.css",
        "//cdn.example.com/x.js",
        "https://img.example.com/b.png",
        "https://img.example.com/c.png",
        "https://fonts.example.com/d.css",
        "https://collect.example.com/e",
    ]
    assert csp_outside_sources("default-src 'self'; script-src 'self' https://cdn.x") == [
        "https://cdn.x"
    ]
    assert csp_outside_sources("img-src 'self' data:; frame-ancestors 'none'") == []


# --- the pages ------------------------------------------------------------------------------


@pytest.fixture
def demo(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    call_command("demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_the_pages_without_a_login_load_nothing_from_outside(demo, client, subtests):
    staff = get_user_model().objects.get(username="meridian")
    scope = scope_for(staff)
    production = productions(scope).order_by("pk").first()
    label = label_publish(actor=staff, scope=scope, production=production, published=True)
    pages = ["/admin/login/", "/api/docs/", f"/disclosure/{label.public_id}/"]
    assert [check(client, subtests, page) for page in pages] == [True] * len(pages)
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert re.findall(r"https?://[^\s\"']+", script.content.decode()) == []
    assert '"validatorUrl": null' in script.content.decode()  # no badge from validator.swagger.io


def admin_pages(user) -> list[str]:
    """The admin home, then for every registered model its list, its add form and the change
    form of its first record."""
    pages = [reverse("admin:index")]
    for model, _model_admin in admin.site._registry.items():
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pages.append(reverse(f"{name}_changelist"))
        try:
            pages.append(reverse(f"{name}_add"))
        except NoReverseMatch:
            pass
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages.append(reverse(f"{name}_change", args=[first.pk]))
    return pages


@pytest.mark.parametrize("username", ["admin", "meridian"])
def test_admin_pages_load_nothing_from_outside(demo, client, subtests, username):
    user = get_user_model().objects.get(username=username)
    client.force_login(user)
    report = (
        Report.objects.filter(production__in=productions(scope_for(user))).order_by("pk").first()
    )
    assert report is not None
    must_open = [reverse("admin:index"), reverse("admin:reports_report_change", args=[report.pk])]
    opened = [page for page in [*must_open, *admin_pages(user)] if check(client, subtests, page)]
    assert opened[: len(must_open)] == must_open
    # enough of the admin opened for this to mean something (the demo has data in most tables)
    assert len(opened) >= 40, opened
