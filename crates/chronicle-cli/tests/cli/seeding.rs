//! Seeding test data over HTTP: dry runs of the append routes and generation from the
//! schemas.

use serde_json::{Value, json};

use crate::commands::{run, text};
use crate::support::{Backend, TestServer, answer, fresh_url, patient};

const P: &str = "prac-seed";
const OWNER: &str = "owner-1";

async fn head_seq(s: &TestServer, practice: &str) -> i64 {
    let (status, body) = answer(s.get(OWNER, &format!("/v1/practices/{practice}"))).await;
    assert_eq!(status, 200, "{body}");
    body["eventCount"].as_i64().unwrap()
}

pub async fn dry_run_routes_answer_the_would_be_events_and_write_nothing(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.practice(P, OWNER).await;
    let before = head_seq(&s, P).await;

    let (status, planned) =
        answer(s.post(OWNER, "/v1/events/append?dryRun=true", &patient(P, "pat-1"))).await;
    assert_eq!(
        status, 200,
        "a dry run stores nothing, so it is not 201: {planned}"
    );
    assert_eq!(planned["seq"], before + 1, "the planned seq: {planned}");
    assert_eq!(planned["version"], 1);
    assert_eq!(planned["actorId"], OWNER);
    assert_eq!(planned["hash"].as_str().unwrap().len(), 64);

    let batch = json!({"events": [patient(P, "pat-1"), patient(P, "pat-2")]});
    let (status, planned) =
        answer(s.post(OWNER, "/v1/events/append-batch?dryRun=true", &batch)).await;
    assert_eq!(status, 200, "{planned}");
    let seqs: Vec<&Value> = planned["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["seq"])
        .collect();
    assert_eq!(seqs, [&json!(before + 1), &json!(before + 2)]);
    assert_eq!(head_seq(&s, P).await, before, "nothing was written");

    let (status, refused) = answer(s.post(
        "viewer-1",
        "/v1/events/append?dryRun=true",
        &patient(P, "pat-3"),
    ))
    .await;
    assert_eq!(
        status, 403,
        "a viewer's dry run is refused like the append: {refused}"
    );
    assert_eq!(refused["error"]["code"], "forbidden");

    let mut invalid = patient(P, "pat-3");
    invalid["payload"]["email"] = json!("not-an-email");
    let (status, refused) = answer(s.post(OWNER, "/v1/events/append?dryRun=true", &invalid)).await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["path"] == "/payload/email"),
        "the violation names its field: {refused}"
    );

    let (status, refused) = answer(s.post(
        OWNER,
        "/v1/events/append?dryRun=maybe",
        &patient(P, "pat-3"),
    ))
    .await;
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["error"]["details"][0]["path"]
            .as_str()
            .unwrap()
            .contains("dryRun"),
        "a bad flag is named: {refused}"
    );
    assert_eq!(
        head_seq(&s, P).await,
        before,
        "no refused dry run wrote anything"
    );

    let (status, _) = answer(s.post(
        OWNER,
        "/v1/events/append?dryRun=false",
        &patient(P, "pat-3"),
    ))
    .await;
    assert_eq!(status, 201, "dryRun=false is an ordinary append");
    assert_eq!(head_seq(&s, P).await, before + 1);
}

pub async fn generate_writes_counted_valid_events_and_refuses_by_field(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.practice(P, OWNER).await;
    let before = head_seq(&s, P).await;
    let path = format!("/v1/practices/{P}/generate");
    let (status, generated) = answer(s.post(
        OWNER,
        &path,
        &json!({"eventTypes": "patient.created,appointment.requested,appointment.status_changed", "count": 500, "seed": 9}),
    ))
    .await;
    assert_eq!(status, 201, "{generated}");
    assert_eq!(generated["written"], 500);
    assert_eq!(generated["seed"], 9);
    let counts = generated["counts"].as_array().unwrap();
    assert_eq!(
        counts
            .iter()
            .map(|c| c["count"].as_i64().unwrap())
            .sum::<i64>(),
        500,
        "{generated}"
    );
    assert!(
        counts
            .iter()
            .all(|c| c["eventType"].as_str().unwrap().starts_with("patient.")
                || c["eventType"].as_str().unwrap().starts_with("appointment.")),
        "only the asked types: {generated}"
    );
    assert_eq!(head_seq(&s, P).await, before + 500);
    let (_, report) = answer(s.get(OWNER, &format!("/v1/practices/{P}/verify"))).await;
    assert_eq!(report["firstBreak"], Value::Null, "{report}");
    assert_eq!(report["eventsChecked"], before + 500, "{report}");

    // Every appointment's first event is its opening one: the lifecycle holds.
    let (_, page) = answer(s.get(
        OWNER,
        &format!("/v1/practices/{P}/events?eventTypes=appointment.status_changed&limit=50"),
    ))
    .await;
    for event in page["items"].as_array().unwrap() {
        assert!(event["version"].as_i64().unwrap() > 1, "{event}");
    }

    let refusals = [
        (json!({"count": 0}), 400, "/count"),
        (json!({"count": 100_001}), 400, "/count"),
        (
            json!({"count": 5, "eventTypes": ["practice.created"]}),
            400,
            "/eventTypes/0",
        ),
        (json!({"count": 5, "colour": "red"}), 400, ""),
        (
            json!({"count": 5, "eventTypes": ["patient.create"]}),
            422,
            "",
        ),
    ];
    for (body, wanted, pointer) in refusals {
        let (status, refused) = answer(s.post(OWNER, &path, &body)).await;
        assert_eq!(status, wanted, "{body}: {refused}");
        if !pointer.is_empty() {
            assert_eq!(refused["error"]["details"][0]["path"], pointer, "{refused}");
        }
    }
    let (status, refused) = answer(s.post("viewer-1", &path, &json!({"count": 5}))).await;
    assert_eq!(status, 403, "a viewer may not generate: {refused}");
    let (status, _) = answer(s.post("stranger", &path, &json!({"count": 5}))).await;
    assert_eq!(status, 403, "a stranger learns nothing, as on append");
    assert_eq!(
        head_seq(&s, P).await,
        before + 500,
        "no refusal wrote anything"
    );

    // A practice without events is created first, its author the owner.
    let (status, generated) = answer(s.post(
        "newcomer",
        "/v1/practices/prac-fresh/generate",
        &json!({"count": 50, "seed": 1}),
    ))
    .await;
    assert_eq!(status, 201, "{generated}");
    let (_, practice) = answer(s.get("newcomer", "/v1/practices/prac-fresh")).await;
    assert_eq!(practice["role"], "owner", "{practice}");
    assert_eq!(
        practice["eventCount"], 51,
        "50 generated plus the author's membership"
    );
}

/// `(eventType, aggregateId, payload)` of every event `chronicle events` prints.
fn generated_content(url: &str) -> Vec<(Value, Value, Value)> {
    let listed = run(
        &[
            "events",
            "--db",
            url,
            "--practice",
            "p1",
            "--as",
            "alice",
            "--limit",
            "1000",
        ],
        "",
    );
    assert_eq!(listed.status.code(), Some(0), "{}", text(&listed.stderr));
    let page: Value = serde_json::from_str(&text(&listed.stdout)).unwrap();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["eventType"].clone(),
                e["aggregateId"].clone(),
                e["payload"].clone(),
            )
        })
        .collect()
}

pub async fn seed_with_a_practice_generates_from_the_schemas_and_repeats_for_a_seed(
    backend: Backend,
) {
    let args = |url: &str| -> Vec<String> {
        [
            "seed",
            "--db",
            url,
            "--practice",
            "p1",
            "--types",
            "patient.created,task.created,appointment.requested",
            "--count",
            "300",
            "--seed",
            "3",
            "--as",
            "alice",
        ]
        .map(String::from)
        .to_vec()
    };
    let (url, _dir) = fresh_url(backend).await;
    let seeded = run(
        &args(&url).iter().map(String::as_str).collect::<Vec<_>>(),
        "",
    );
    assert_eq!(seeded.status.code(), Some(0), "{}", text(&seeded.stderr));
    let out = text(&seeded.stdout);
    assert!(out.contains("wrote 300 events to practice p1"), "{out}");
    assert!(out.contains("task.created"), "counts per type: {out}");
    let first = generated_content(&url);
    assert_eq!(
        first.len(),
        301,
        "the practice's creation, its owner's membership, 299 more"
    );

    let (other, _other_dir) = fresh_url(Backend::Sqlite).await;
    let again = run(
        &args(&other).iter().map(String::as_str).collect::<Vec<_>>(),
        "",
    );
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert_eq!(
        generated_content(&other),
        first,
        "the same seed writes the same types, aggregates and payloads"
    );

    for (wrong, why) in [
        (
            vec!["seed", "--db", &url, "--practice", "p1", "--practices", "2"],
            "demo flags with --practice",
        ),
        (
            vec!["seed", "--db", &url, "--types", "patient.created"],
            "--types without --practice",
        ),
    ] {
        let refused = run(&wrong, "");
        assert_eq!(
            refused.status.code(),
            Some(2),
            "{why}: {}",
            text(&refused.stderr)
        );
    }
    let unknown = run(
        &[
            "seed",
            "--db",
            &url,
            "--practice",
            "p1",
            "--types",
            "patient.create",
            "--as",
            "alice",
        ],
        "",
    );
    assert_eq!(unknown.status.code(), Some(1), "refused by a rule");
    assert!(
        text(&unknown.stderr).contains("did you mean patient.created"),
        "{}",
        text(&unknown.stderr)
    );
}
