#!/usr/bin/env python3
"""Verify an Airlock .intoto.jsonl file with securesystemslib's DSSE implementation.

Usage: verify_dsse.py PROVENANCE.intoto.jsonl PUBLIC_KEY.pem

An independent check of Airlock's DSSE signing: the envelope is parsed and verified by
securesystemslib (securesystemslib.dsse.Envelope + securesystemslib.signer.SSlibKey), not by
Airlock. The key id is computed the way Airlock defines it (hex SHA-256 of the SPKI DER), so a
wrong keyid in the envelope also fails. Exit 0 when some line verifies and carries an in-toto
payload, 1 otherwise (with the reason on stderr), 2 on usage errors.
"""

import hashlib
import json
import sys

from cryptography.hazmat.primitives import serialization
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"


def load_key(path):
    with open(path, "rb") as f:
        public = serialization.load_pem_public_key(f.read())
    spki = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    keyid = hashlib.sha256(spki).hexdigest()
    # from_crypto picks the scheme: ed25519, or ecdsa-sha2-nistp256 (DER signatures over SHA-256).
    return SSlibKey.from_crypto(public, keyid=keyid)


def verify_line(line, key):
    envelope = Envelope.from_dict(json.loads(line))
    if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE:
        raise ValueError(f"payload type is {envelope.payload_type!r}")
    envelope.verify([key], 1)
    statement = json.loads(envelope.payload)
    if statement.get("_type") != STATEMENT_TYPE:
        raise ValueError(f"statement _type is {statement.get('_type')!r}")
    return statement


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        key = load_key(argv[2])
    except Exception as e:  # noqa: BLE001 - report any key problem the same way
        print(f"cannot load public key {argv[2]}: {e}", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        lines = [l for l in f.read().splitlines() if l.strip()]
    if not lines:
        print(f"{argv[1]}: no envelopes", file=sys.stderr)
        return 1
    reasons = []
    for number, line in enumerate(lines, 1):
        try:
            statement = verify_line(line, key)
        except Exception as e:  # noqa: BLE001 - securesystemslib raises several types
            cause = f" ({e.__cause__})" if e.__cause__ else ""
            reasons.append(f"line {number}: {type(e).__name__}: {e}{cause}")
            continue
        subjects = ", ".join(s.get("name", "?") for s in statement.get("subject", []))
        print(f"OK: line {number} verified with key {key.keyid} ({key.scheme}); subjects: {subjects}")
        return 0
    for reason in reasons:
        print(f"FAILED: {reason}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
