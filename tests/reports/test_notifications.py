"""Notifications of open items (reports.notifications): the scan tells each staff user of the
items in their own scope once, leaving out the groups they muted; e-mail goes at once, in the
daily digest or never, as each user prefers, to their own recorded address only, one message
per send; a mail server error leaves the rows waiting for the next send, and the outbox's sweep
publishes the sends still waiting; the admin pages (the list, mark-as-read, the preference form,
the unread count on every page) show a user their own notifications and no one else's.

The scan's tests use the dashboard's scene (tests/reports/test_dashboard.py: violations,
consents, flags and payables of Meridian's productions and of Northgate's Harbor Nights); the
others notify hand-made items."""

import re
import smtplib
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core import outbox
from core.audit import HistoryBypassError
from reports import notifications, tasks
from reports.models import Notification, NotificationPreference
from reports.notifications import notify, preference_set
from reports.open_items import TITLES, OpenItem
from tests.factories import studio_staff
from tests.reports.test_dashboard import build_scenario

pytestmark = pytest.mark.django_db

SITE = "https://ledger.example"
LIST = "/admin/notifications/"
PREFERENCES = "/admin/notifications/preferences/"
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE
    settings.NOTIFICATION_DIGEST_HOUR = 7


@pytest.fixture
def s():
    s = build_scenario(timezone.now())
    s.northgate_user = studio_staff(s.northgate, "northgate-staff")
    return s


@pytest.fixture
def maya(db):
    return studio_staff_with("maya", "maya@meridian.example")


def studio_staff_with(username: str, email: str):
    from tests.factories import StudioFactory

    user = studio_staff(StudioFactory(name=f"{username} studio", slug=username), username)
    user.email = email
    user.save()
    return user


def items(*ids: int, kind: str = "violations") -> list[OpenItem]:
    return [
        OpenItem(
            f"AI use #{i}: replica use", f"/admin/consent/aiuse/{i}/change/", f"{kind}:ai_use:{i}"
        )
        for i in ids
    ]


def keys_of(user) -> set[str]:
    return set(Notification.objects.filter(user=user).values_list("key", flat=True))


def prefer(user, email: str, muted=()) -> NotificationPreference:
    return preference_set(user=user, email=email, muted=list(muted), actor=user)


# --- the scan ---------------------------------------------------------------------------------


def test_the_scan_tells_each_user_of_their_own_scope_only_and_once(s):
    made = tasks.notify_open_items.delay().get()

    assert s.clerk.pk not in made  # no studio's or guild's staff
    meridian, northgate, sag = (
        keys_of(s.studio_user),
        keys_of(s.northgate_user),
        keys_of(s.sag_user),
    )
    harbor_use = f"violations:ai_use:{s.bob_use.pk}"
    film_use = f"violations:ai_use:{s.hal_past.pk}"
    assert film_use in meridian and harbor_use not in meridian
    assert harbor_use in northgate and film_use not in northgate
    assert {film_use, harbor_use} <= sag  # the guild's members across studios
    assert f"expiring_consents:consent:{s.ann_consent.pk}" in meridian
    assert f"flags:flag:{s.hal_flag.pk}" in meridian
    assert any(key.startswith("overdue_payables:payable:") for key in meridian)
    assert not any(key.startswith("overdue_payables:") for key in sag)  # studio work only
    assert made[s.studio_user.pk] == len(meridian)
    row = Notification.objects.get(user=s.studio_user, key=film_use)
    assert (row.kind, row.url) == ("violations", f"/admin/consent/aiuse/{s.hal_past.pk}/change/")
    assert row.email_after is None  # no address on record
    assert mail.outbox == []

    count = Notification.objects.count()
    assert tasks.notify_open_items.delay().get() == {}
    assert Notification.objects.count() == count


def test_the_scan_leaves_out_the_groups_a_user_muted(s):
    prefer(s.studio_user, "daily", muted=["flags", "overdue_payables"])

    tasks.notify_open_items.delay().get()

    kinds = set(Notification.objects.filter(user=s.studio_user).values_list("kind", flat=True))
    assert kinds == {"violations", "expiring_consents"}
    assert "flags" in set(
        Notification.objects.filter(user=s.sag_user).values_list("kind", flat=True)
    )


def test_immediately_sends_one_message_at_once_with_absolute_links_to_the_users_address(
    s, django_capture_on_commit_callbacks
):
    s.studio_user.email = "maya@meridian.example"
    s.studio_user.save()
    prefer(s.studio_user, "immediately")
    s.sag_user.email = "sam@sag.example"  # daily, the default: not yet
    s.sag_user.save()

    with django_capture_on_commit_callbacks(execute=True):
        tasks.notify_open_items.delay().get()

    assert len(mail.outbox) == 1
    (message,) = mail.outbox
    rows = Notification.objects.filter(user=s.studio_user)
    assert message.to == ["maya@meridian.example"]
    assert (message.cc, message.bcc) == ([], [])
    assert message.subject == f"Guild Ledger: {rows.count()} open items for you"
    for row in rows:
        assert row.text in message.body
        assert f"\n  {SITE}{row.url}\n" in message.body
    assert f"{SITE}/admin/consent/aiuse/{s.hal_past.pk}/change/" in message.body
    assert f"{SITE}/admin/open-items/" in message.body
    assert f"{SITE}{PREFERENCES}" in message.body
    assert not rows.filter(emailed_at__isnull=True).exists()
    assert not Notification.objects.filter(user=s.sag_user, emailed_at__isnull=False).exists()

    # Sending again sends nothing: every row is stamped.
    assert tasks.send_notifications.delay(s.studio_user.pk).get() == 0
    assert len(mail.outbox) == 1


# --- notify and send --------------------------------------------------------------------------


def test_notify_skips_items_already_told_and_muted_kinds(maya):
    prefer(maya, "never", muted=["flags"])
    assert notify(maya, items(1, 2), now=NOON) == 2
    flag = OpenItem("Flag #5", "/admin/reports/flag/5/change/", "flags:flag:5")
    assert notify(maya, [*items(1, 2, 3), flag], now=NOON) == 1
    assert keys_of(maya) == {"violations:ai_use:1", "violations:ai_use:2", "violations:ai_use:3"}


def test_daily_waits_for_the_digest_then_sends_one_message(
    maya, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as published:
        notify(maya, items(1, 2), now=NOON)
    assert published == []
    digest = datetime(2026, 3, 11, 7, 0, tzinfo=UTC)
    assert set(Notification.objects.values_list("email_after", flat=True)) == {digest}

    with time_machine.travel(digest - timedelta(minutes=1), tick=False):
        assert tasks.send_notifications.delay(maya.pk).get() == 0
        assert tasks.send_daily_digests.delay().get() == 0
    assert mail.outbox == []

    with time_machine.travel(digest, tick=False):
        assert tasks.send_daily_digests.delay().get() == 1
    (message,) = mail.outbox
    assert message.to == [maya.email]
    assert message.subject == "Guild Ledger: 2 open items for you"
    assert set(Notification.objects.values_list("emailed_at", flat=True)) == {digest}

    with time_machine.travel(digest + timedelta(hours=1), tick=False):
        assert tasks.send_daily_digests.delay().get() == 0
    assert len(mail.outbox) == 1


def test_the_digest_instant_is_the_next_digest_hour():
    assert notifications.next_digest(datetime(2026, 3, 10, 6, 59, tzinfo=UTC)) == datetime(
        2026, 3, 10, 7, 0, tzinfo=UTC
    )
    assert notifications.next_digest(datetime(2026, 3, 10, 7, 0, tzinfo=UTC)) == datetime(
        2026, 3, 11, 7, 0, tzinfo=UTC
    )


@pytest.mark.parametrize("case", ["never", "no address"])
def test_never_and_no_address_get_admin_notifications_and_no_mail(
    case, maya, client, django_capture_on_commit_callbacks
):
    if case == "never":
        prefer(maya, "never")
    else:
        prefer(maya, "immediately")
        maya.email = ""
        maya.save()
    with django_capture_on_commit_callbacks(execute=True) as published:
        assert notify(maya, items(1), now=timezone.now()) == 1
    assert published == []
    assert Notification.objects.get(user=maya).email_after is None
    assert tasks.send_notifications.delay(maya.pk).get() == 0
    assert tasks.send_daily_digests.delay().get() == 0
    assert mail.outbox == []
    client.force_login(maya)
    assert "AI use #1: replica use" in client.get(LIST).content.decode()


def test_a_mail_server_error_leaves_the_rows_waiting_for_a_later_send(
    maya, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    prefer(maya, "immediately")

    def refuse(self, fail_silently=False):
        raise smtplib.SMTPServerDisconnected("gone")

    with monkeypatch.context() as patched:
        patched.setattr("django.core.mail.EmailMessage.send", refuse)
        with django_capture_on_commit_callbacks(execute=True):
            notify(maya, items(1, 2), now=timezone.now())
    assert mail.outbox == []
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 2
    assert "wait for the mail server" in caplog.text

    assert tasks.send_notifications.delay(maya.pk).get() == 2
    assert tasks.send_notifications.delay(maya.pk).get() == 0
    assert len(mail.outbox) == 1
    assert "2 open items" in mail.outbox[0].subject


def test_the_sweep_publishes_the_sends_still_waiting(maya):
    prefer(maya, "immediately")
    other = studio_staff_with("omar", "omar@example.org")
    prefer(other, "immediately")
    now = timezone.now()
    # Made without a commit (the test's transaction never commits): their publish never ran.
    notify(maya, items(1, 2), now=now - timedelta(minutes=5))
    notify(other, items(3), now=now)  # within the grace period: not yet

    assert outbox.sweep(grace_seconds=60)["notifications"] == 1

    (message,) = mail.outbox
    assert message.to == [maya.email]
    assert Notification.objects.filter(user=other, emailed_at__isnull=True).count() == 1
    assert outbox.sweep(grace_seconds=60)["notifications"] == 0


def test_a_user_no_longer_staff_is_sent_nothing(maya):
    prefer(maya, "immediately")
    notify(maya, items(1), now=timezone.now())
    maya.studio_roles.all().delete()
    assert tasks.send_notifications.delay(maya.pk).get() == 0
    assert mail.outbox == []
    assert Notification.objects.get(user=maya).email_after is None


# --- the admin --------------------------------------------------------------------------------


def test_the_list_shows_the_users_own_notifications_newest_first_unread_marked(maya, client):
    other = studio_staff_with("omar", "omar@example.org")
    notify(maya, items(1), now=NOON)
    notify(maya, items(2), now=NOON + timedelta(minutes=5))
    notify(other, items(9), now=NOON)
    client.force_login(maya)

    page = client.get(LIST).content.decode()

    texts = re.findall(r"AI use #(\d+): replica use", page)
    assert texts == ["2", "1"]
    assert page.count('class="gl-unread"') == 2
    assert 'data-unread="2"' in page
    assert "Mark all as read" in page
    home = client.get(reverse("admin:index")).content.decode()
    assert re.search(r'class="gl-notifications-link" data-unread="2">Notifications', home)


def test_opening_a_notification_marks_it_read_and_goes_to_its_page(maya, client):
    notify(maya, items(1, 2), now=NOON)
    first = Notification.objects.get(key="violations:ai_use:1")
    client.force_login(maya)

    response = client.get(f"/admin/notifications/{first.pk}/open/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/consent/aiuse/1/change/"
    first.refresh_from_db()
    assert first.read_at is not None
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


def test_history_says_who_made_read_and_e_mailed_each_notification(maya):
    from core.audit import acting_as, system_user

    prefer(maya, "immediately")
    with acting_as(system_user()):
        notify(maya, items(1, 2), now=NOON)
        assert notifications.notifications_send(user_id=maya.pk, now=NOON) == 2
    notifications.notifications_mark_read(user=maya, now=NOON + timedelta(minutes=5))

    for row in Notification.objects.filter(user=maya):
        made, emailed, read = row.history.order_by("history_id")
        assert (made.history_type, made.history_user.username) == ("+", "system")
        assert (emailed.emailed_at, emailed.history_user.username) == (NOON, "system")
        assert (read.read_at, read.history_user) == (NOON + timedelta(minutes=5), maya)
    with pytest.raises(HistoryBypassError):
        Notification.objects.filter(user=maya).update(read_at=None)


def test_mark_all_as_read_is_a_post_with_its_token(maya):
    notify(maya, items(1, 2), now=NOON)
    client = Client(enforce_csrf_checks=True)
    client.force_login(maya)
    page = client.get(LIST)
    token = page.context["csrf_token"]

    assert client.post(LIST).status_code == 403
    assert Notification.objects.filter(read_at__isnull=True).count() == 2
    response = client.post(LIST, {"csrfmiddlewaretoken": str(token)})
    assert response.status_code == 302
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    assert 'data-unread="0"' in client.get(LIST).content.decode()


def test_no_other_users_notification_is_reachable(maya, client):
    other = studio_staff_with("omar", "omar@example.org")
    notify(other, items(9), now=NOON)
    theirs = Notification.objects.get(user=other)
    client.force_login(maya)

    assert client.get(f"/admin/notifications/{theirs.pk}/open/").status_code == 404
    assert "AI use #9" not in client.get(LIST).content.decode()
    client.post(LIST)
    theirs.refresh_from_db()
    assert theirs.read_at is None
    for raw in ("²", "٢", "99999999999999999999999", "-1", "x"):
        assert client.get(f"/admin/notifications/{raw}/open/").status_code == 404


def test_the_list_is_paginated_and_any_page_number_answers(maya, client):
    notify(maya, items(*range(1, 56)), now=NOON)
    client.force_login(maya)

    assert client.get(LIST).content.decode().count("<li data-notification=") == 50
    second = client.get(LIST, {"page": "2"}).content.decode()
    assert second.count("<li data-notification=") == 5
    for raw in ("abc", "²", "0", "-3", "999999999999999999999"):
        assert client.get(LIST, {"page": raw}).status_code == 200


def test_the_preference_form_saves_with_history(maya, client):
    client.force_login(maya)
    page = client.get(PREFERENCES).content.decode()
    assert maya.email in page
    assert 'type="radio"' in page and 'value="daily"' in page
    for key, title in TITLES.items():
        assert f'value="{key}"' in page and title in page
    assert "[]" not in page and "[&quot;" not in page  # checkboxes, never raw JSON

    response = client.post(PREFERENCES, {"email": "immediately", "muted": ["flags", "violations"]})

    assert response.status_code == 302
    preference = NotificationPreference.objects.get(user=maya)
    assert (preference.email, preference.muted) == ("immediately", ["violations", "flags"])
    (entry,) = preference.history.all()
    assert entry.history_user == maya
    page = client.get(PREFERENCES).content.decode()
    assert re.search(r'value="flags"[^>]*checked', page)


@pytest.mark.parametrize(
    "data",
    [
        {"email": "weekly"},
        {"email": "daily", "muted": ["bogus"]},
        {"email": ""},
        {},
        {"email": "daily\x00", "muted": ["flags\x00"]},
        {"email": ["daily", "never"], "muted": "x" * 5000},
    ],
)
def test_the_preference_form_refuses_bad_input_and_saves_nothing(maya, client, data):
    client.force_login(maya)
    response = client.post(PREFERENCES, data)
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not NotificationPreference.objects.filter(user=maya).exists()


def test_the_preference_service_refuses_unknown_groups_and_frequencies(maya):
    from core.errors import DomainError

    with pytest.raises(DomainError) as refused:
        preference_set(user=maya, email="daily", muted=["bogus"], actor=maya)
    assert "muted" in refused.value.fields
    with pytest.raises(DomainError) as refused:
        preference_set(user=maya, email="hourly", muted=[], actor=maya)
    assert "email" in refused.value.fields
    assert not NotificationPreference.objects.exists()


def test_the_pages_need_a_staff_login(client):
    for url in (LIST, PREFERENCES):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


# --- with a real worker -----------------------------------------------------------------------


@pytest.fixture
def mail_sink(monkeypatch):
    from tests.reports.test_schedule_end_to_end import SMTP_BACKEND, smtp_sink

    with smtp_sink() as (sink, url):
        monkeypatch.setenv("EMAIL_URL", url)
        monkeypatch.setenv("TEST_EMAIL_BACKEND", SMTP_BACKEND)
        yield sink


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_published_send_is_delivered_by_a_real_worker(mail_sink, rabbitmq_worker):
    user = studio_staff_with("maya", "maya@meridian.example")
    prefer(user, "immediately")

    notify(user, items(1), now=timezone.now())  # commits: its send is published to the broker

    deadline = time.monotonic() + 60
    while not mail_sink.received and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [rcpt for rcpt, _ in mail_sink.received] == [["maya@meridian.example"]]
    while time.monotonic() < deadline:
        if not Notification.objects.filter(emailed_at__isnull=True).exists():
            break
        time.sleep(0.2)
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()
