"""Chronicle's contract test: Schemathesis against `chronicle serve` on a seeded store.

Runs `st run --checks all` three times (as a practice's owner, as its viewer, and as whatever
identity the document lets Schemathesis generate), with the store's real practices and
projector names fed in so that appends reach 201 and 409. Any failure fails the test.

Usage: python tools/contract/run.py CHRONICLE_BINARY WORK_DIR
Environment: CHRONICLE_CONTRACT_EXAMPLES (examples per operation and phase, default 25) and
CHRONICLE_CONTRACT_SECONDS (time budget of each of the three runs, default 150).
"""

import json
import os
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
OWNER, VIEWER = "olivia.owner", "victor.viewer"
SEED = 20261130
# Rules between fields, which JSON Schema cannot state and the operations' descriptions do: a
# human event's actorId is the caller, a practice event's aggregateId is its practiceId, a
# membership event's aggregateId is its member; `againstSeq` comes with `againstHash`; the body
# of a check is an export file. On these operations (and only these) a schema-valid request may
# also be refused with 400; every other answer outside the documented ones still fails.
CROSS_FIELD_RULES = [
    ("/v1/events/append", "POST"),
    ("/v1/events/append-batch", "POST"),
    ("/v1/practices/{practiceId}/verify", "GET"),
    ("/v1/exports/check", "POST"),
]


def call(base, method, path, user, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("x-user-id", user)
    if data is not None:
        request.add_header("content-type", "application/json")
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()


def start_server(binary, store, work):
    log = open(os.path.join(work, "serve.log"), "w")
    server = subprocess.Popen(
        [binary, "serve", "--db", store, "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        line = server.stdout.readline()
        if not line:
            break
        for word in line.split():
            if word.startswith("http://127.0.0.1:"):
                return server, word.rstrip("/").rstrip(".")
    server.kill()
    sys.exit("contract: chronicle serve did not print its address; see " + log.name)


def write_config(work, practices, projectors, events, examples):
    lines = [
        f"seed = {SEED}",
        "",
        "[generation]",
        f"max-examples = {examples}",
        "deterministic = true",
        "",
        "[dictionaries.practices]",
        f"values = {json.dumps(practices)}",
        "",
        "[dictionaries.projectors]",
        f"values = {json.dumps(projectors)}",
        "",
        "[dictionaries.events]",
        f"values = {json.dumps(events)}",
        "",
        "[parameters]",
    ]
    for where in ["path.practiceId", "query.practiceId", "body.practiceId", "body.events[*].practiceId"]:
        lines.append(f'"{where}" = {{ dictionary = "practices", probability = 0.8 }}')
    lines.append('"path.projector" = { dictionary = "projectors", probability = 0.8 }')
    lines.append('"path.eventId" = { dictionary = "events", probability = 0.8 }')
    for path, method in CROSS_FIELD_RULES:
        lines += [
            "",
            "[[operations]]",
            f'include-path = "{path}"',
            f'include-method = "{method}"',
            'checks.positive_data_acceptance.expected-statuses = '
            '["2xx", "3xx", "400", "401", "403", "404", "409", "429"]',
        ]
    # A live stream never ends: its events are read until this quiet time passes.
    for path in ["/v1/practices/{practiceId}/live", "/v1/practices/{practiceId}/projectors/live"]:
        lines += ["", "[[operations]]", f'include-path = "{path}"', "request-timeout = 2"]
    path = os.path.join(work, "schemathesis.toml")
    with open(path, "w") as config:
        config.write("\n".join(lines) + "\n")
    return path


def main():
    binary, work = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    examples = int(os.environ.get("CHRONICLE_CONTRACT_EXAMPLES", "25"))
    seconds = int(os.environ.get("CHRONICLE_CONTRACT_SECONDS", "150"))
    os.makedirs(work, exist_ok=True)
    store = "sqlite://" + os.path.join(work, "contract.db")
    subprocess.run([binary, "seed", "--db", store, "--practices", "2", "--events", "200"],
                   check=True, stdout=subprocess.DEVNULL)
    server, base = start_server(binary, store, work)
    failed = []
    try:
        practices = [p["practiceId"] for p in json.loads(call(base, "GET", "/v1/practices", OWNER))["practices"]]
        status = json.loads(call(base, "GET", f"/v1/practices/{practices[0]}/projectors", OWNER))
        projectors = sorted({p["projectorName"] for p in status["projectors"]})
        export = call(base, "POST", f"/v1/practices/{practices[0]}/exports", OWNER, {"format": "ndjson"})
        intact = os.path.join(work, "intact.ndjson")
        tampered = os.path.join(work, "tampered.ndjson")
        with open(intact, "wb") as f:
            f.write(export)
        lines = export.split(b"\n")
        lines[3] = lines[3].replace(b'"actorType":"', b'"actorType":"x', 1)
        with open(tampered, "wb") as f:
            f.write(b"\n".join(lines))
        page = json.loads(call(base, "GET", f"/v1/practices/{practices[0]}/events?limit=5", OWNER))
        events = [e["id"] for e in page["items"]]
        config = write_config(work, practices, projectors, events, examples)
        env = dict(os.environ,
                   SCHEMATHESIS_HOOKS="hooks",
                   PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""),
                   CHRONICLE_CONTRACT_EXPORTS=os.pathsep.join([intact, tampered]))
        st = os.path.join(os.path.dirname(sys.executable), "st")
        for who, headers in [("owner", ["-H", f"x-user-id: {OWNER}"]),
                             ("viewer", ["-H", f"x-user-id: {VIEWER}"]),
                             ("generated identity", [])]:
            print(f"== contract: Schemathesis as {who}", flush=True)
            result = subprocess.run(
                [st, "--config-file", config, "--no-color", "run", base + "/openapi.json",
                 "--checks", "all",
                 "--seed", str(SEED), "--max-examples", str(examples), "--max-time", str(seconds),
                 # The server's own time limit is 30 s (then 503, as documented): a request may
                 # take that long (generating 100,000 events does, in a debug build).
                 "--request-timeout", "40", "--max-response-time", "30",
                 "--report", "junit", "--report-dir", os.path.join(work, who.replace(" ", "-")),
                 *headers],
                env=env, cwd=work,
            )
            if result.returncode != 0:
                failed.append(who)
    finally:
        server.terminate()
        server.wait(timeout=30)
    if failed:
        sys.exit(f"contract: Schemathesis found failures as {', '.join(failed)}")
    print("contract: ok")


if __name__ == "__main__":
    main()
