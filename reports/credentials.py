"""Content Credentials (C2PA) of the published AI disclosure label.

The label is issued as a PDF and as a PNG of its pages, each carrying a C2PA manifest signed with
the installation's certificate (`C2PA_SIGNING_CERT`, `C2PA_SIGNING_KEY`). The manifest holds three
assertions:

- `c2pa.actions`: the file was created (`c2pa.created`) by Guild Ledger, from records, by software
  (IPTC digital source type `algorithmicMedia`: no trained model made it);
- `org.guildledger.ai-disclosure`: the label's content (label.content) with its public id and the
  latest signed ledger checkpoint, so the file says what the page says;
- `cawg.training-mining` (CAWG Training and Data Mining assertion 1.1): whether the production's
  people allow AI training, from their consents of kind `training` in force now.

Signing is quick; drawing the PDF and its PNG is not, so each signed pair is kept in the media
storage under the hash of what went into it and made again only when that changes.
"""

import hashlib
import io
import json
import threading
from datetime import datetime
from importlib import metadata
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.text import slugify

from consent.models import Consent
from consent.training import (
    TRAINING_ASSERTION,
    training_consents_in_force,
    training_mining,
)
from core.security import content_credentials
from ledger.journal import checkpoints
from ledger.models import Checkpoint, Engagement, Production

from . import label
from .models import DisclosureLabel

DISCLOSURE_ASSERTION = "org.guildledger.ai-disclosure"
ACTIONS_ASSERTION = "c2pa.actions"
SOFTWARE = "Guild Ledger"
# IPTC: "media created purely by an algorithm not based on any sampled training data".
ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia"
MIME = {"pdf": "application/pdf", "png": "image/png"}
STORAGE_FOLDER = "disclosure-labels"
PNG_SCALE = 2  # 144 dpi: readable on a phone when zoomed
# Bumped when the files would come out differently from the same label (layout, manifest shape).
FILE_VERSION = 2
# Past this many newest checkpoints failing their signature, the label names none.
CHECKPOINTS_LOOKED_AT = 20

_pdfium_lock = threading.Lock()  # PDFium is not thread-safe


def software_version() -> str:
    try:
        return metadata.version("guild-ledger")
    except metadata.PackageNotFoundError:
        return "unknown"


# --- what the manifest says ------------------------------------------------------------------


def latest_checkpoint() -> dict | None:
    """The latest checkpoint of the ledger's chain whose signature holds (as a verifier reads
    it: checkpoints.as_dict), or None when there is none."""
    for found in Checkpoint.objects.order_by("-seq", "-id")[:CHECKPOINTS_LOOKED_AT]:
        if checkpoints.signature_holds(found):
            return checkpoints.as_dict(found)
    return None


def production_training(production: Production, *, now: datetime | None = None) -> dict:
    """The production's training permission: allowed when every person engaged on it (or who
    gave a training consent on it) has a training consent in force on it, constrained when only
    some have, notAllowed when none has."""
    now = now or timezone.now()
    consented = {
        c.person_id
        for c in training_consents_in_force(Consent.objects.filter(production=production), now=now)
    }
    people = consented | set(
        Engagement.objects.filter(production=production).values_list("person_id", flat=True)
    )
    if people and consented == people:
        return training_mining("allowed")
    if consented:
        return training_mining(
            "constrained",
            f"{len(consented)} of the {len(people)} people of this production consented to AI "
            "training; the others did not.",
        )
    return training_mining("notAllowed")


def disclosure(found: DisclosureLabel) -> dict:
    """The `org.guildledger.ai-disclosure` assertion: the label's content, its public id and the
    latest ledger checkpoint."""
    return {
        **label.content(found.production),
        "public_id": str(found.public_id),
        "ledger_checkpoint": latest_checkpoint(),
    }


def file_name(found: DisclosureLabel, extension: str) -> str:
    slug = slugify(found.production.title) or "production"
    return f"ai-disclosure-{slug}.{extension}"


def manifest(found: DisclosureLabel, extension: str, *, now: datetime | None = None) -> dict:
    """The manifest definition c2pa's Builder reads."""
    version = software_version()
    agent = {"name": SOFTWARE, "version": version}
    return {
        "claim_generator_info": [agent],
        "title": file_name(found, extension),
        "format": MIME[extension],
        "assertions": [
            {
                "label": ACTIONS_ASSERTION,
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "softwareAgent": agent,
                            "digitalSourceType": ALGORITHMIC_MEDIA,
                        }
                    ]
                },
            },
            {"label": DISCLOSURE_ASSERTION, "data": disclosure(found)},
            {"label": TRAINING_ASSERTION, "data": production_training(found.production, now=now)},
        ],
    }


# --- signing ---------------------------------------------------------------------------------


def _certificate_and_key() -> tuple[str, str]:
    return (
        content_credentials.pem_text(settings.C2PA_SIGNING_CERT, "C2PA_SIGNING_CERT"),
        content_credentials.pem_text(settings.C2PA_SIGNING_KEY, "C2PA_SIGNING_KEY"),
    )


def sign(data: bytes, definition: dict) -> bytes:
    """`data` (of the definition's format) with the manifest embedded and signed."""
    import c2pa  # loads the native library: only where signing happens

    cert, key = _certificate_and_key()
    info = c2pa.C2paSignerInfo(
        content_credentials.algorithm(key).encode("ascii"),
        cert.encode("ascii"),
        key.encode("ascii"),
        None,
    )
    out = io.BytesIO()
    with (
        c2pa.Signer.from_info(info) as signer,
        c2pa.Builder.from_json(definition) as builder,
    ):
        builder.sign(signer, definition["format"], io.BytesIO(data), out)
    return out.getvalue()


def pdf(content: dict) -> bytes:
    from weasyprint import HTML  # imported here: loading Pango costs a second

    return HTML(string=label.html(content)).write_pdf()


def png(pdf_bytes: bytes) -> bytes:
    """Every page of the PDF, drawn one under the other."""
    import pypdfium2
    from PIL import Image

    with _pdfium_lock:
        document = pypdfium2.PdfDocument(pdf_bytes)
        try:
            pages = [page.render(scale=PNG_SCALE).to_pil().convert("RGB") for page in document]
        finally:
            document.close()
    sheet = Image.new("RGB", (max(p.width for p in pages), sum(p.height for p in pages)), "white")
    top = 0
    for page in pages:
        sheet.paste(page, (0, top))
        top += page.height
    sheet = _trimmed(sheet)
    out = io.BytesIO()
    sheet.save(out, format="PNG")
    return out.getvalue()


def _trimmed(sheet, margin: int = 48):
    """The sheet cut to what is drawn on it, with a white margin: an image of the label, not of
    a mostly empty page."""
    from PIL import ImageOps

    box = ImageOps.invert(sheet.convert("L")).getbbox()
    if box is None:
        return sheet
    left, upper, right, lower = box
    return sheet.crop(
        (
            max(left - margin, 0),
            max(upper - margin, 0),
            min(right + margin, sheet.width),
            min(lower + margin, sheet.height),
        )
    )


# --- the files, kept by what went into them ---------------------------------------------------


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def fingerprint(found: DisclosureLabel, *, now: datetime | None = None) -> str:
    """The SHA-256 of everything the signed files are made from: the manifests (which hold the
    label's content), the signing certificate and the file version. Equal fingerprints, equal
    files; it is also the files' ETag."""
    cert, _ = _certificate_and_key()
    return hashlib.sha256(
        _canonical(
            {
                "manifests": {ext: manifest(found, ext, now=now) for ext in MIME},
                "certificate": hashlib.sha256(cert.encode()).hexdigest(),
                "version": FILE_VERSION,
            }
        )
    ).hexdigest()


def _path(found: DisclosureLabel, digest: str, extension: str) -> str:
    return f"{STORAGE_FOLDER}/{found.public_id}/{digest}.{extension}"


def signed_file(found: DisclosureLabel, extension: str, *, digest: str | None = None) -> bytes:
    """The label's signed PDF or PNG: from the media storage when the label is unchanged, else
    drawn, signed and stored (both formats at once, as the PNG is drawn from the PDF)."""
    digest = digest or fingerprint(found)
    path = _path(found, digest, extension)
    if default_storage.exists(path):
        with default_storage.open(path, "rb") as handle:
            return handle.read()
    content = label.content(found.production)
    drawn = pdf(content)
    unsigned = {"pdf": drawn, "png": png(drawn)}
    made = {ext: sign(unsigned[ext], manifest(found, ext)) for ext in MIME}
    for ext, data in made.items():
        target = _path(found, digest, ext)
        if not default_storage.exists(target):  # another request may have stored it meanwhile
            default_storage.save(target, ContentFile(data))
    _forget_older(found, digest)
    return made[extension]


def _forget_older(found: DisclosureLabel, digest: str) -> None:
    folder = f"{STORAGE_FOLDER}/{found.public_id}"
    try:
        _, names = default_storage.listdir(folder)
    except (FileNotFoundError, NotImplementedError):
        return
    for name in names:
        if not name.startswith(digest + "."):
            default_storage.delete(f"{folder}/{name}")
