#!/usr/bin/env python3
"""Chronicle's hash chain, recomputed from the recipe in docs/engine.md ("Hash chain"),
independently of the Rust code: an auditor's reference verifier.

    hash = SHA-256(previous hash bytes || canonical bytes)   (hex)

where the first event of a practice chains from 32 zero bytes and the canonical bytes are the
RFC 8785 (JCS) form of {actorId, actorType, aggregateId, aggregateType, createdAt (RFC 3339,
microseconds, Z), eventType, id, payload, practiceId, seq, version} (chain form 1), plus
recordedBy, the principal that appended the event, for events that carry it (chain form 2).
Once a practice's events carry recordedBy, every later event must carry it.

Usage: verify_chain.py FILE
  FILE holds one practice's events in seq order: a JSON array, a page ({"items": [...]}), the
  seed's {"events": [...]}, or NDJSON. Each event carries its stored "hash".
Prints what it checked; exit 0 when the chain is intact, 1 at the first break, 2 on bad input.
Needs the rfc8785 package (pip install rfc8785==0.1.4).
"""

import hashlib
import json
import re
import sys

import rfc8785

HASHED_FIELDS = (
    "actorId", "actorType", "aggregateId", "aggregateType", "createdAt", "eventType", "id",
    "payload", "practiceId", "seq", "version",
)
ZERO_HASH = "0" * 64
TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$")


def hashed_timestamp(text):
    """The timestamp as it is hashed: always six fractional digits (APIs may print fewer)."""
    match = TIMESTAMP.match(text)
    if not match:
        raise ValueError(f"createdAt {text!r} is not an RFC 3339 UTC timestamp")
    whole, fraction = match.groups()
    return f"{whole}.{(fraction or '').ljust(6, '0')[:6]}Z"


def chain_hash(previous_hex, event):
    hashed = {field: event.get(field) for field in HASHED_FIELDS}
    if event.get("recordedBy") is not None:
        hashed["recordedBy"] = event["recordedBy"]
    hashed["createdAt"] = hashed_timestamp(event["createdAt"])
    canonical = rfc8785.dumps(hashed)
    return hashlib.sha256(bytes.fromhex(previous_hex) + canonical).hexdigest()


def read_events(text):
    text = text.strip()
    if not text:
        return []
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    if isinstance(document, dict):
        for key in ("items", "events"):
            if isinstance(document.get(key), list):
                return document[key]
        return [document]
    return document


def verify(events):
    """The first break as (seq, problem), or None when the chain is intact."""
    previous = ZERO_HASH
    expected_seq = events[0]["seq"] if events else 1
    if events and expected_seq != 1:
        # A slice of a chain: the first event's predecessor is not in the file; trust the
        # slice's first hash as its start and check everything after it.
        previous = None
    form_2_began = False
    for event in events:
        seq = event["seq"]
        if seq != expected_seq:
            return seq, f"expected seq {expected_seq}, found {seq}: events are missing or out of order"
        if event.get("recordedBy") is not None:
            form_2_began = True
        elif form_2_began:
            return seq, "recordedBy is missing after the chain moved to form 2"
        if previous is not None:
            computed = chain_hash(previous, event)
            if computed != event["hash"]:
                return seq, f"stored hash {event['hash']} but the recipe gives {computed}"
        previous = event["hash"]
        expected_seq += 1
    return None


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        with open(argv[1], encoding="utf-8") as handle:
            events = read_events(handle.read())
    except (OSError, ValueError) as error:
        print(f"verify_chain: cannot read {argv[1]}: {error}", file=sys.stderr)
        return 2
    try:
        broken = verify(events)
    except (KeyError, ValueError, TypeError) as error:
        print(f"verify_chain: malformed event: {error}", file=sys.stderr)
        return 2
    if broken:
        seq, problem = broken
        print(f"chain broken at seq {seq}: {problem}")
        return 1
    last = events[-1]["hash"] if events else ZERO_HASH
    print(f"{len(events)} events, chain intact, head {last}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
