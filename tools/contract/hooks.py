"""Schemathesis hooks for Chronicle's contract test (scripts/contract-test.sh).

The OpenAPI document states every rule of a single parameter or field. What it cannot state,
these hooks supply where Schemathesis runs them (its fuzzing and stateful phases), so that
schema-valid requests are valid requests:
- valid paging cursors for the position each cursor format names;
- real export files for POST /v1/exports/check (an intact one and a tampered one);
- `againstHash` beside a generated `againstSeq` (an anchor is a hash).
They never touch a value that breaks a documented rule, so negative cases stay negative.
"""

import base64
import json
import os
import random
from datetime import datetime, timezone

import schemathesis
from hypothesis import strategies as st


def _cursor(positions):
    def encode(position):
        text = json.dumps(position, separators=(",", ":"), ensure_ascii=False)
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    return positions.map(encode)


_names = st.text(
    alphabet=st.characters(codec="utf-8", categories=["L", "N", "Pd", "Pc", "Po"]),
    min_size=1,
    max_size=40,
)
_seqs = st.integers(min_value=-(2**63), max_value=2**63 - 1)
_times = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(9999, 1, 1), timezones=st.just(timezone.utc)
).map(lambda t: t.isoformat().replace("+00:00", "Z"))

schemathesis.openapi.format("chronicle-cursor-seq", _cursor(_seqs))
schemathesis.openapi.format("chronicle-cursor-version", _cursor(_seqs))
schemathesis.openapi.format("chronicle-cursor-aggregate", _cursor(st.tuples(_names, _names).map(list)))
schemathesis.openapi.format(
    "chronicle-cursor-recent", _cursor(st.tuples(_times, _names, _names).map(list))
)

_EXPORTS = [
    open(path, "rb").read()
    for path in os.environ.get("CHRONICLE_CONTRACT_EXPORTS", "").split(os.pathsep)
    if path
]


def _path(ctx):
    return ctx.operation.path if ctx.operation is not None else ""


@schemathesis.hook
def map_query(ctx, query):
    # An anchor is a hash: `againstSeq` alone is refused (400, as the operation says).
    if _path(ctx) == "/v1/practices/{practiceId}/verify" and isinstance(query, dict):
        if "againstSeq" in query and "againstHash" not in query:
            query["againstHash"] = "0" * 64
    return query


@schemathesis.hook
def map_body(ctx, body):
    if _path(ctx) == "/v1/exports/check" and isinstance(body, (str, bytes)) and _EXPORTS:
        return random.Random(len(body)).choice(_EXPORTS)
    return body
