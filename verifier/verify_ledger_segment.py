#!/usr/bin/env python3
"""Verify an exported segment of a Guild Ledger hash chain, outside the product.

    python verify_ledger_segment.py SEGMENT.json --public-key KEY.pem
    python verify_ledger_segment.py SEGMENT.json --public-key guild-ledger-keys.json

The segment comes from `manage.py export_ledger_segment`. The key is the installation's public
key, obtained apart from the segment (its PEM, or the JWKS document served at
/.well-known/guild-ledger-keys.json); the key inside the segment is never trusted on its own.

Checks, in order:
1. the checkpoint names the key given (its key id: the first 16 hex digits of the SHA-256 of the
   raw Ed25519 public key), and its Ed25519 signature verifies over the canonical message
   {"type": "guild-ledger.checkpoint", "seq", "hash", "created_at", "key_id"} (JSON, sorted
   keys, no whitespace);
2. each transaction's body, serialized again as canonical JSON, hashes with the previous hash to
   the hash listed: SHA-256(prev_hash || body);
3. the seqs run without a gap, and each body names its own seq;
4. the checkpoint's hash is the chain's hash at the checkpoint's seq.

Exit 0 when everything holds, 1 otherwise, with one line saying why. Needs Python 3.11+ and the
`cryptography` package only; imports nothing of Guild Ledger.
"""

import argparse
import base64
import hashlib
import json
import sys
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

MESSAGE_TYPE = "guild-ledger.checkpoint"
GENESIS = "0" * 64


class Failed(Exception):
    pass


def canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(raw_public(key)).hexdigest()[:16]


def load_key(path: Path, wanted_kid: str) -> Ed25519PublicKey:
    """The Ed25519 public key in `path`: a PEM, a JWK, or a JWKS (the key whose kid is the
    checkpoint's; any other key in the set is ignored)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise Failed(f"cannot read the public key {path}: {error.strerror}") from error
    if data.lstrip().startswith(b"-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(data)
        except ValueError as error:
            raise Failed(f"{path} is not a PEM public key") from error
        if not isinstance(key, Ed25519PublicKey):
            raise Failed(f"{path} is not an Ed25519 public key")
        return key
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise Failed(f"{path} is neither a PEM public key nor a JSON key set") from error
    keys = document.get("keys", [document]) if isinstance(document, dict) else []
    for jwk in keys:
        if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            continue
        try:
            key = Ed25519PublicKey.from_public_bytes(b64url_decode(str(jwk.get("x", ""))))
        except ValueError:
            continue
        if key_id(key) == wanted_kid:
            return key
    raise Failed(f"{path} holds no Ed25519 key with the checkpoint's key id {wanted_kid}")


def load_segment(path: Path) -> dict:
    try:
        segment = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise Failed(f"cannot read the segment {path}: {error.strerror}") from error
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise Failed(f"the segment {path} is not JSON: {error}") from error
    if not isinstance(segment, dict):
        raise Failed("the segment is not a JSON object")
    checkpoint, transactions = segment.get("checkpoint"), segment.get("transactions")
    if not isinstance(checkpoint, dict) or not isinstance(transactions, list) or not transactions:
        raise Failed("the segment has no checkpoint or no transactions")
    for name, kind in (("seq", int), ("hash", str), ("created_at", str), ("key_id", str)):
        if not isinstance(checkpoint.get(name), kind) or isinstance(checkpoint.get(name), bool):
            raise Failed(f"the checkpoint's {name} is missing or malformed")
    if not isinstance(checkpoint.get("signature"), str):
        raise Failed("the checkpoint has no signature")
    if not isinstance(segment.get("prev_hash"), str):
        raise Failed("the segment has no prev_hash")
    for tx in transactions:
        if (
            not isinstance(tx, dict)
            or not isinstance(tx.get("body"), dict)
            or not isinstance(tx.get("hash"), str)
            or not isinstance(tx.get("seq"), int)
        ):
            raise Failed("a transaction of the segment is not {seq, body, hash}")
    return segment


def check_signature(checkpoint: dict, key: Ed25519PublicKey) -> None:
    if checkpoint["key_id"] != key_id(key):
        raise Failed(
            f"the checkpoint names key {checkpoint['key_id']}, the key given is {key_id(key)}"
        )
    message = canonical(
        {
            "type": MESSAGE_TYPE,
            "seq": checkpoint["seq"],
            "hash": checkpoint["hash"],
            "created_at": checkpoint["created_at"],
            "key_id": checkpoint["key_id"],
        }
    )
    try:
        key.verify(b64url_decode(checkpoint["signature"]), message)
    except (InvalidSignature, ValueError) as error:
        raise Failed(
            f"the signature of the checkpoint at #{checkpoint['seq']} does not verify"
        ) from error


def check_chain(segment: dict) -> tuple[int, int]:
    """Walk the segment; (first seq, last seq) when every link holds."""
    checkpoint, transactions = segment["checkpoint"], segment["transactions"]
    first = transactions[0]["seq"]
    if not first - 1 <= checkpoint["seq"] <= transactions[-1]["seq"]:
        raise Failed(
            f"the segment #{first}..#{transactions[-1]['seq']} does not reach the checkpoint "
            f"at #{checkpoint['seq']}"
        )
    prev_hash = segment["prev_hash"]
    if first == 1 and prev_hash != GENESIS:
        raise Failed("the first transaction's prev_hash is not the genesis hash")
    hashes = {first - 1: prev_hash}
    for expected, tx in enumerate(transactions, start=first):
        if tx["seq"] != expected or tx["body"].get("seq") != expected:
            raise Failed(f"expected seq {expected}, found {tx['seq']}: the seqs have a gap")
        digest = hashlib.sha256(prev_hash.encode("ascii") + canonical(tx["body"])).hexdigest()
        if digest != tx["hash"]:
            raise Failed(
                f"transaction #{expected} does not hash to the hash listed: it or the chain "
                "before it was altered"
            )
        hashes[expected] = prev_hash = digest
    if hashes[checkpoint["seq"]] != checkpoint["hash"]:
        raise Failed(
            f"the chain's hash at #{checkpoint['seq']} is not the hash the checkpoint signed"
        )
    return first, transactions[-1]["seq"]


def verify(segment_path: Path, key_path: Path) -> str:
    segment = load_segment(segment_path)
    checkpoint = segment["checkpoint"]
    check_signature(checkpoint, load_key(key_path, checkpoint["key_id"]))
    first, last = check_chain(segment)
    return (
        f"OK: #{first}..#{last} link without a gap; the checkpoint at #{checkpoint['seq']} "
        f"(signed {checkpoint['created_at']}, key {checkpoint['key_id']}) matches the chain"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("segment", type=Path, help="the JSON written by export_ledger_segment")
    parser.add_argument(
        "--public-key",
        type=Path,
        required=True,
        help="the installation's public key: a PEM file, or the JWKS from "
        "/.well-known/guild-ledger-keys.json",
    )
    args = parser.parse_args(argv)
    try:
        print(verify(args.segment, args.public_key))
    except Failed as failure:
        print(f"FAILED: {failure}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
