"""The link to a person's own page (portal.personal), and the public address of the person's
training statement (portal.training).

A person has no account: the link sent to their recorded address is the credential, as the link
of a consent request is. Its secret is random, shown only in that message and stored only as its
SHA-256; it opens the page once, within PERSONAL_LINK_MINUTES."""

import uuid

from django.db import models

from core.audit import AuditedManager, history
from ledger.models import Person


class PersonalLink(models.Model):
    """One link to a person's own page: unused until it is opened (`used_at`), and worthless
    after `expires_at`."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="personal_links")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    objects = AuditedManager()
    history = history()

    class Meta:
        verbose_name = "personal page link"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="personal_link_expires_after_creation",
            ),
        ]

    def __str__(self):
        return f"Personal page link #{self.pk} of {self.person}"


class TrainingStatement(models.Model):
    """The stable, unguessable public address of a person's signed AI-training preference
    (portal.training): made the first time the person's page shows it, never changed. What it
    serves is computed from the person's consents at each request."""

    person = models.OneToOneField(
        Person, on_delete=models.CASCADE, related_name="training_statement"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AuditedManager()
    history = history()

    def __str__(self):
        return f"Training statement of {self.person}"
