"""Writes a certificate chain for Content Credentials: a root CA, an intermediate CA and an
ES256 signing certificate with the extensions the C2PA specification asks of a claim signer.

Run as a script it writes the public test chain committed beside it (once). Anyone can read those
keys: whatever they sign proves nothing, and readers report the signer as untrusted. Tests call
`write_chain(folder)` for a throwaway chain that is not the committed one.

    .venv/bin/python config/c2pa_test/generate.py
"""

from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HERE = Path(__file__).resolve().parent
NOT_BEFORE = datetime(2025, 1, 1, tzinfo=UTC)
NOT_AFTER = datetime(2045, 1, 1, tzinfo=UTC)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Guild Ledger test material"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _certificate(subject, subject_key, issuer, issuer_key, serial, *, ca: bool):
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(subject_key.public_key())
        .serial_number(serial)
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    builder = builder.add_extension(
        x509.KeyUsage(
            digital_signature=True,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=ca,
            crl_sign=ca,
            encipher_only=False,
            decipher_only=False,
        ),
        critical=True,
    )
    if not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def write_chain(folder: Path) -> tuple[Path, Path]:
    """Writes root_ca.pem, chain.pem and signing_key.pem into `folder`; returns the paths of the
    chain and of the key."""
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name("Guild Ledger TEST root CA")
    root = _certificate(root_name, root_key, root_name, root_key, 1, ca=True)
    mid_key = ec.generate_private_key(ec.SECP256R1())
    mid_name = _name("Guild Ledger TEST intermediate CA")
    mid = _certificate(mid_name, mid_key, root_name, root_key, 2, ca=True)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _certificate(
        _name("Guild Ledger TEST Content Credentials"), leaf_key, mid_name, mid_key, 3, ca=False
    )
    (folder / "root_ca.pem").write_bytes(_pem(root))
    # The chain a signer presents: the signing certificate, then the intermediate, not the root.
    (folder / "chain.pem").write_bytes(_pem(leaf) + _pem(mid))
    (folder / "signing_key.pem").write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return folder / "chain.pem", folder / "signing_key.pem"


if __name__ == "__main__":
    write_chain(HERE)
