"""A real Celery worker on a real broker (RabbitMQ) delivers a webhook for a committed payable.

The worker runs as a separate process against the same PostgreSQL test database; the test
process publishes through the broker instead of running tasks eagerly."""

import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app
from ledger.webhooks import WebhookAttempt, WebhookEndpoint
from tests.factories import EngagementFactory, payroll_key
from tests.ledger.conftest_journal import make_payable
from tests.ledger.test_webhooks import Receiver

BROKER = os.environ.get("TEST_CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker():
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": BROKER,
    }
    # The worker consumes the queue the app publishes to. Celery caches its queue table on first
    # use, so a test cannot re-point it: runs sharing one broker at once would share the queue.
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool",
        "solo",
        "--loglevel",
        "WARNING",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-Q",
        celery_app.conf.task_default_queue,
    ]
    process = subprocess.Popen(
        command, cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    previous = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    celery_app.conf.update(broker_url=BROKER, task_always_eager=False)
    try:
        yield process
    finally:
        celery_app.conf.update(previous)
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def test_worker_delivers_the_webhook_of_a_committed_payable(worker):
    receiver = Receiver([204])
    try:
        engagement = EngagementFactory()
        key, _ = payroll_key(engagement.production.studio, name="acme")
        WebhookEndpoint.objects.create(payroll_key=key, url=receiver.url)

        # Commits; on commit the task is published to the broker.
        make_payable(production=engagement.production, person=engagement.person)

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not WebhookAttempt.objects.exists():
            assert worker.poll() is None, worker.stdout.read().decode()
            time.sleep(0.5)
        attempt = WebhookAttempt.objects.get()
        assert attempt.succeeded and attempt.status_code == 204
        assert len(receiver.requests) == 1
    finally:
        receiver.close()
