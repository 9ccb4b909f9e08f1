"""The certificate and key that sign Content Credentials (C2PA manifests), read from settings.

`C2PA_SIGNING_CERT` is the certificate chain (the signing certificate first, then any
intermediates, not the root) and `C2PA_SIGNING_KEY` its private key, each as PEM text or as the
path of a PEM file. No Django import here: production settings use it before Django is set up.
"""

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from django.core.exceptions import ImproperlyConfigured

TEST_FOLDER = Path(__file__).resolve().parent.parent.parent / "config" / "c2pa_test"
TEST_CERT = str(TEST_FOLDER / "chain.pem")
TEST_KEY = str(TEST_FOLDER / "signing_key.pem")


def pem_text(value: str, name: str) -> str:
    """The PEM text a setting holds, or the text of the file it names."""
    if "-----BEGIN" in value:
        return value
    try:
        return Path(value).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImproperlyConfigured(f"{name} is neither PEM text nor a readable PEM file.") from exc


def signing_certificate(chain_pem: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificates(chain_pem.encode("ascii"))[0]
    except (ValueError, UnicodeEncodeError) as exc:
        raise ImproperlyConfigured("C2PA_SIGNING_CERT holds no PEM certificate.") from exc


def is_test_certificate(chain_pem: str) -> bool:
    test = signing_certificate(pem_text(TEST_CERT, "the test certificate"))
    return signing_certificate(chain_pem) == test


def algorithm(key_pem: str) -> str:
    """The C2PA signing algorithm for the key: es256/es384/es512 for P-256/384/521, ps256 for
    RSA, ed25519."""
    try:
        key = load_pem_private_key(key_pem.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise ImproperlyConfigured(
            "C2PA_SIGNING_KEY is not an unencrypted PEM private key."
        ) from exc
    if isinstance(key, ec.EllipticCurvePrivateKey):
        by_curve = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}
        if key.curve.name in by_curve:
            return by_curve[key.curve.name]
    elif isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    raise ImproperlyConfigured(
        "C2PA_SIGNING_KEY must be an EC P-256, P-384 or P-521, RSA or Ed25519 key."
    )


def production_problem(cert: str, key: str) -> str | None:
    """Why production cannot sign the published labels with these settings, or None."""
    if not cert or not key:
        return "C2PA_SIGNING_CERT and C2PA_SIGNING_KEY must be set"
    if is_test_certificate(pem_text(cert, "C2PA_SIGNING_CERT")):
        return "C2PA_SIGNING_CERT is the public test certificate of config/c2pa_test"
    algorithm(pem_text(key, "C2PA_SIGNING_KEY"))
    return None
