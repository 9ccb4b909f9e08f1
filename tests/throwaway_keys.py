"""Throwaway signing keys for tests that start the production settings: they refuse the
committed test key and test certificate chain, as they would in production."""

import base64
import secrets
import tempfile
from functools import cache
from pathlib import Path

from config.c2pa_test.generate import write_chain


@cache
def throwaway_env() -> dict[str, str]:
    """SIGNING_KEY (a fresh Ed25519 key), and C2PA_SIGNING_CERT and C2PA_SIGNING_KEY naming a
    chain made once per test process."""
    cert, key = write_chain(Path(tempfile.mkdtemp(prefix="gl-c2pa-")))
    return {
        "SIGNING_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "C2PA_SIGNING_CERT": str(cert),
        "C2PA_SIGNING_KEY": str(key),
    }
