"""The installation's Ed25519 key: signs what the product publishes as proof (the ledger's
checkpoints, a person's training preference), so anyone holding the public key can check it
without the product.

Signatures and keys travel as unpadded base64url; a key is named by `key_id`, the first 16 hex
digits of the SHA-256 of its raw public bytes.
"""

import base64
import binascii
import hashlib
from functools import cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

ALGORITHM = "Ed25519"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@cache
def _private_key(encoded: str) -> Ed25519PrivateKey:
    try:
        raw = base64.b64decode(encoded, validate=True)
        return Ed25519PrivateKey.from_private_bytes(raw)
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured(
            "SIGNING_KEY is not the base64 of a 32-byte Ed25519 private key."
        ) from exc


def private_key() -> Ed25519PrivateKey:
    if not settings.SIGNING_KEY:
        raise ImproperlyConfigured("SIGNING_KEY is not set: nothing can be signed.")
    return _private_key(settings.SIGNING_KEY)


def public_key() -> Ed25519PublicKey:
    return private_key().public_key()


def public_key_raw(key: Ed25519PublicKey | None = None) -> bytes:
    key = key or public_key()
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_pem() -> str:
    return (
        public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def key_id(key: Ed25519PublicKey | None = None) -> str:
    return hashlib.sha256(public_key_raw(key)).hexdigest()[:16]


def sign(message: bytes) -> str:
    """The signature of `message`, base64url."""
    return b64url(private_key().sign(message))


def verify(message: bytes, signature: str, key: Ed25519PublicKey | None = None) -> bool:
    """Whether `signature` (base64url) is the key's signature of `message`; never raises."""
    try:
        (key or public_key()).verify(from_b64url(signature), message)
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def published_keys() -> dict:
    """The document served at /.well-known/guild-ledger-keys.json: every key a verifier may need
    (one today), in JWK form (RFC 8037) and PEM."""
    return {
        "keys": [
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "alg": "EdDSA",
                "use": "sig",
                "kid": key_id(),
                "x": b64url(public_key_raw()),
                "pem": public_key_pem(),
            }
        ]
    }
