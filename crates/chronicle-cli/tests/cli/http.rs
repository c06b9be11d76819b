//! The HTTP API through a real server and a real client.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::support::{Backend, TestServer, answer, membership, patient, practice_created};

const P: &str = "prac-1";
const OWNER: &str = "owner-1";

fn assert_error_shape(body: &Value, code: &str) {
    let error = &body["error"];
    assert_eq!(error["code"], code, "error code in {body}");
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "a message in {body}"
    );
    assert!(
        error["details"].is_array(),
        "details is always a list: {body}"
    );
}

fn detail_paths(body: &Value) -> Vec<String> {
    body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap().to_string())
        .collect()
}

pub async fn seed_endpoints_answer_in_the_seeds_shapes(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.practice(P, OWNER).await;
    let (status, created) = answer(s.post(OWNER, "/v1/events/append", &patient(P, "pat-1"))).await;
    assert_eq!(status, 201, "{created}");
    for field in [
        "id",
        "practiceId",
        "aggregateType",
        "aggregateId",
        "eventType",
        "payload",
        "actorType",
        "actorId",
        "createdAt",
    ] {
        assert!(
            created.get(field).is_some(),
            "the seed's field {field} is in {created}"
        );
    }
    assert_eq!(
        created["actorId"], OWNER,
        "a human event's actor is the x-user-id"
    );
    let created_at = created["createdAt"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(created_at).is_ok() && created_at.ends_with('Z'),
        "ISO-8601 UTC: {created_at}"
    );
    let update = json!({"practiceId": P, "aggregateType": "patient", "aggregateId": "pat-1", "eventType": "patient.updated",
                        "payload": {"notes": "moved"}, "actorType": "human"});
    assert_eq!(
        answer(s.post(OWNER, "/v1/events/append", &update)).await.0,
        201
    );

    let (status, body) =
        answer(s.get(OWNER, &format!("/v1/events/aggregate/{P}/patient/pat-1"))).await;
    assert_eq!(status, 200);
    let types: Vec<_> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["patient.created", "patient.updated"],
        "chronological"
    );

    for i in 2..=5 {
        s.post(OWNER, "/v1/events/append", &patient(P, &format!("pat-{i}")))
            .send()
            .await
            .unwrap();
    }
    let (status, body) = answer(s.get(
        OWNER,
        &format!("/v1/events/type/{P}/patient.created?limit=3"),
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["events"].as_array().unwrap().len(), 3, "limit applies");
    let next = body["nextCursor"]
        .as_str()
        .expect("a cursor when more remain")
        .to_string();
    let (_, rest) = answer(s.get(
        OWNER,
        &format!("/v1/events/type/{P}/patient.created?limit=3&cursor={next}"),
    ))
    .await;
    assert_eq!(rest["events"].as_array().unwrap().len(), 2);
    let (_, all) = answer(s.get(OWNER, &format!("/v1/events/type/{P}/patient.created"))).await;
    assert_eq!(
        all["events"].as_array().unwrap().len(),
        5,
        "default limit 100 covers all five"
    );
}

pub async fn missing_user_header_is_401(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (status, body) = answer(
        s.client
            .post(format!("{}/v1/events/append", s.base))
            .json(&patient(P, "x")),
    )
    .await;
    assert_eq!(status, 401);
    assert_error_shape(&body, "unauthenticated");
    let (status, body) = answer(
        s.client
            .get(format!("{}/v1/practices", s.base))
            .header("x-user-id", "  "),
    )
    .await;
    assert_eq!(status, 401, "a blank user is no user: {body}");
}

pub async fn malformed_identities_are_400_naming_the_header(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.practice(P, OWNER).await;
    let long = "u".repeat(256);
    for (user, why) in [
        ("al\tice", "control character U+0009"),
        (long.as_str(), "the limit is 255"),
    ] {
        let (status, body) = answer(
            s.client
                .get(format!("{}/v1/practices", s.base))
                .header("x-user-id", user),
        )
        .await;
        assert_eq!(status, 400, "{user:?}: {body}");
        assert_error_shape(&body, "invalid");
        assert_eq!(detail_paths(&body), ["/headers/x-user-id"]);
        assert!(
            body["error"]["details"][0]["message"]
                .as_str()
                .unwrap()
                .contains(why),
            "{body}"
        );
    }
    // A gateway that appends the header instead of replacing it must not let the client's
    // value through.
    let (status, body) = answer(
        s.client
            .post(format!("{}/v1/events/append", s.base))
            .header("x-user-id", "mallory")
            .header("x-user-id", OWNER)
            .json(&patient(P, "pat-two-ids")),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(detail_paths(&body), ["/headers/x-user-id"]);
    let (_, page) = answer(s.get(
        OWNER,
        &format!("/v1/practices/{P}/events?aggregateType=patient"),
    ))
    .await;
    assert!(
        page["items"].as_array().unwrap().is_empty(),
        "nothing was appended: {page}"
    );
}

pub async fn malformed_and_invalid_requests_are_400_naming_the_field(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.practice(P, OWNER).await;
    let raw = |body: &'static str| {
        s.client
            .post(format!("{}/v1/events/append", s.base))
            .header("x-user-id", OWNER)
            .header("content-type", "application/json")
            .body(body)
    };
    let (status, body) = answer(raw("{\"practiceId\": ")).await;
    assert_eq!(status, 400);
    assert_error_shape(&body, "invalid");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("malformed JSON"),
        "{body}"
    );
    let (status, body) = answer(raw("")).await;
    assert_eq!(status, 400, "empty body: {body}");

    let mut missing = patient(P, "x");
    missing.as_object_mut().unwrap().remove("aggregateType");
    let (status, body) = answer(s.post(OWNER, "/v1/events/append", &missing)).await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("aggregateType"),
        "names the missing field: {body}"
    );

    let mut unknown = patient(P, "x");
    unknown["colour"] = json!("blue");
    let (status, body) = answer(s.post(OWNER, "/v1/events/append", &unknown)).await;
    assert_eq!(status, 400, "unknown fields are refused: {body}");

    let mut bad_actor = patient(P, "x");
    bad_actor["actorType"] = json!("robot");
    let (status, body) = answer(s.post(OWNER, "/v1/events/append", &bad_actor)).await;
    assert_eq!(
        (status, detail_paths(&body)),
        (400, vec!["/actorType".to_string()]),
        "{body}"
    );

    let mut too_long = patient(P, "x");
    too_long["aggregateId"] = json!("a".repeat(256));
    let (status, body) = answer(s.post(OWNER, "/v1/events/append", &too_long)).await;
    assert_eq!(
        (status, detail_paths(&body)),
        (400, vec!["/aggregateId".to_string()]),
        "{body}"
    );

    for limit in ["abc", "0", "1001", "-1"] {
        let (status, body) = answer(s.get(
            OWNER,
            &format!("/v1/events/type/{P}/patient.created?limit={limit}"),
        ))
        .await;
        assert_eq!(status, 400, "limit={limit}: {body}");
        assert_eq!(
            detail_paths(&body),
            vec!["/limit".to_string()],
            "limit={limit}: {body}"
        );
    }
    let (status, body) = answer(s.get(
        OWNER,
        &format!("/v1/events/type/{P}/patient.created?cursor=%%%"),
    ))
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = answer(s.get(
        OWNER,
        &format!("/v1/practices/{P}/events?direction=sideways"),
    ))
    .await;
    assert_eq!(
        (status, detail_paths(&body)),
        (400, vec!["/direction".to_string()]),
        "{body}"
    );
    let (status, body) =
        answer(s.get(OWNER, &format!("/v1/practices/{P}/events?from=yesterday"))).await;
    assert_eq!(
        (status, detail_paths(&body)),
        (400, vec!["/from".to_string()]),
        "{body}"
    );
}

pub async fn schema_and_registry_refusals_are_422(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.practice(P, OWNER).await;
    let mut unknown = patient(P, "x");
    unknown["eventType"] = json!("patient.craeted");
    let (status, body) = answer(s.post(OWNER, "/v1/events/append", &unknown)).await;
    assert_eq!(status, 422);
    assert_error_shape(&body, "unknown_event_type");
    assert!(
        body["error"]["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("patient.created"),
        "suggests: {body}"
    );
    let mut invalid = patient(P, "x");
    invalid["payload"] = json!({"firstName": "", "email": "nope"});
    let (status, body) = answer(s.post(OWNER, "/v1/events/append", &invalid)).await;
    assert_eq!(status, 422);
    assert_error_shape(&body, "invalid_payload");
    let paths = detail_paths(&body);
    for wanted in ["/payload", "/payload/firstName", "/payload/email"] {
        assert!(paths.iter().any(|p| p == wanted), "{wanted} in {paths:?}");
    }
}

pub async fn access_refusals_are_403_and_identical_for_unknown_practices(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.practice(P, OWNER).await;
    let (status, existing) =
        answer(s.get("mallory", &format!("/v1/events/aggregate/{P}/practice/{P}"))).await;
    assert_eq!(status, 403);
    let (status, missing) =
        answer(s.get("mallory", "/v1/events/aggregate/nope/practice/nope")).await;
    assert_eq!(status, 403);
    assert_eq!(
        existing.to_string().replace(P, "ID"),
        missing.to_string().replace("nope", "ID"),
        "a non-member cannot tell an existing practice from a missing one"
    );
    let (status, body) = answer(s.post("viewer-1", "/v1/events/append", &patient(P, "x"))).await;
    assert_eq!(status, 403);
    assert_error_shape(&body, "forbidden");
    let (status, _) = answer(s.post(
        "desk-1",
        "/v1/events/append",
        &membership(P, "new", "viewer"),
    ))
    .await;
    assert_eq!(status, 403, "frontdesk cannot add members");
}

pub async fn conflicts_are_409_with_the_current_version(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.practice(P, OWNER).await;
    s.post(OWNER, "/v1/events/append", &patient(P, "pat-1"))
        .send()
        .await
        .unwrap();
    let mut stale = json!({"practiceId": P, "aggregateType": "patient", "aggregateId": "pat-1", "eventType": "patient.updated",
                           "payload": {"notes": "x"}, "actorType": "human", "expectedVersion": 0});
    let (status, body) = answer(s.post(OWNER, "/v1/events/append", &stale)).await;
    assert_eq!(status, 409);
    assert_error_shape(&body, "version_conflict");
    assert_eq!(body["error"]["details"][0]["path"], "/expectedVersion");
    assert_eq!(
        body["error"]["details"][0]["message"], "the current version is 1",
        "carries the current version: {body}"
    );
    stale["expectedVersion"] = json!(1);
    assert_eq!(
        answer(s.post(OWNER, "/v1/events/append", &stale)).await.0,
        201,
        "the right version succeeds"
    );

    let mut with_id = patient(P, "pat-9");
    with_id["id"] = json!("client-id-1");
    let (first_status, first) = answer(s.post(OWNER, "/v1/events/append", &with_id)).await;
    let (retry_status, retry) = answer(s.post(OWNER, "/v1/events/append", &with_id)).await;
    assert_eq!((first_status, retry_status), (201, 201), "a retry succeeds");
    assert_eq!(first, retry, "and returns the stored event");
    with_id["payload"]["firstName"] = json!("Other");
    let (status, body) = answer(s.post(OWNER, "/v1/events/append", &with_id)).await;
    assert_eq!(status, 409);
    assert_error_shape(&body, "conflict");
}

pub async fn bodies_over_the_limit_are_413(backend: Backend) {
    let s = TestServer::start_with(backend, |o| {
        o.max_event_body_bytes = 4096;
        o.max_batch_body_bytes = 8192;
    })
    .await;
    s.practice(P, OWNER).await;
    let mut big = patient(P, "x");
    big["payload"]["notes"] = json!("n".repeat(10_000));
    let (status, body) = answer(s.post(OWNER, "/v1/events/append", &big)).await;
    assert_eq!(status, 413);
    assert_error_shape(&body, "payload_too_large");
    let batch =
        json!({"events": (0..100).map(|i| patient(P, &format!("b{i}"))).collect::<Vec<_>>()});
    assert_eq!(
        answer(s.post(OWNER, "/v1/events/append-batch", &batch))
            .await
            .0,
        413
    );
}

pub async fn unknown_routes_and_methods_answer_in_the_error_shape(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (status, body) = answer(s.get(OWNER, "/v2/nothing")).await;
    assert_eq!(status, 404);
    assert_error_shape(&body, "not_found");
    let (status, body) = answer(
        s.client
            .delete(format!("{}/v1/events/append", s.base))
            .header("x-user-id", OWNER),
    )
    .await;
    assert_eq!(status, 405);
    assert_error_shape(&body, "method_not_allowed");
}

pub async fn batch_append_is_all_or_nothing(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.practice(P, OWNER).await;
    let mut events: Vec<Value> = (0..5).map(|i| patient(P, &format!("b{i}"))).collect();
    events[3]["payload"] = json!({"firstName": "NoRest"});
    let (status, body) =
        answer(s.post(OWNER, "/v1/events/append-batch", &json!({"events": events}))).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        detail_paths(&body)
            .iter()
            .all(|p| p.starts_with("/events/3/payload")),
        "names the event: {body}"
    );
    let (_, page) = answer(s.get(OWNER, &format!("/v1/events/type/{P}/patient.created"))).await;
    assert!(
        page["events"].as_array().unwrap().is_empty(),
        "nothing of the batch was written"
    );
    events[3] = patient(P, "b3");
    let (status, body) =
        answer(s.post(OWNER, "/v1/events/append-batch", &json!({"events": events}))).await;
    assert_eq!(status, 201);
    let seqs: Vec<i64> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, (6..=10).collect::<Vec<_>>(), "in order, gapless");
    let (status, body) =
        answer(s.post(OWNER, "/v1/events/append-batch", &json!({"events": []}))).await;
    assert_eq!(
        (status, detail_paths(&body)),
        (400, vec!["/events".to_string()])
    );
}

pub async fn timeline_aggregates_practices_and_event_by_id(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.practice(P, OWNER).await;
    let (_, created) = answer(s.post("desk-1", "/v1/events/append", &patient(P, "pat-1"))).await;
    let (status, page) =
        answer(s.get(OWNER, &format!("/v1/practices/{P}/events?actorId=desk-1"))).await;
    assert_eq!(status, 200);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let (_, page) = answer(s.get(OWNER, &format!("/v1/practices/{P}/events?eventTypes=membership.created,patient.created&direction=backward&limit=2"))).await;
    let seqs: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [6, 5], "newest first");
    let cursor = page["nextCursor"].as_str().unwrap();
    let (_, older) = answer(s.get(OWNER, &format!("/v1/practices/{P}/events?eventTypes=membership.created,patient.created&direction=backward&limit=2&cursor={cursor}"))).await;
    assert_eq!(older["items"][0]["seq"], 4);
    let (_, aggregates) = answer(s.get(
        OWNER,
        &format!("/v1/practices/{P}/aggregates?aggregateType=membership"),
    ))
    .await;
    assert_eq!(aggregates["items"].as_array().unwrap().len(), 4);
    let (_, practices) = answer(s.get("viewer-1", "/v1/practices")).await;
    assert_eq!(practices["practices"][0]["role"], "viewer");
    assert_eq!(
        practices["practices"][0]["capabilities"],
        json!({"read": true, "append": false, "manageMembers": false, "grantOwner": false, "manageProjectors": false, "actAsSystem": false, "export": true}),
        "what a viewer may do, from the engine's role table"
    );
    let (status, one) = answer(s.get("viewer-1", &format!("/v1/practices/{P}"))).await;
    assert_eq!((status, &one["role"]), (200, &json!("viewer")));
    let (_, history) = answer(s.get(
        OWNER,
        &format!("/v1/practices/{P}/aggregates/patient/pat-1/events?limit=10"),
    ))
    .await;
    assert_eq!(
        history["items"][0]["id"], created["id"],
        "the paged aggregate read: {history}"
    );
    let (_, by_type) = answer(s.get(
        OWNER,
        &format!("/v1/practices/{P}/event-types/patient.created/events"),
    ))
    .await;
    assert_eq!(
        (
            by_type["items"].as_array().unwrap().len(),
            &by_type["nextCursor"]
        ),
        (1, &Value::Null)
    );
    let id = created["id"].as_str().unwrap();
    let (status, one) = answer(s.get("viewer-1", &format!("/v1/practices/{P}/events/{id}"))).await;
    assert_eq!((status, &one), (200, &created));
    let (status, body) =
        answer(s.get("viewer-1", &format!("/v1/practices/{P}/events/no-such-id"))).await;
    assert_eq!(status, 404);
    assert_error_shape(&body, "not_found");
}

pub async fn registry_verify_and_health(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.practice(P, OWNER).await;
    let (status, registry) = answer(s.get(OWNER, "/v1/registry")).await;
    assert_eq!(status, 200);
    assert!(registry["eventTypes"].as_array().unwrap().len() >= 12);
    let (status, one) = answer(s.get(OWNER, "/v1/registry/appointment.status_changed")).await;
    assert_eq!(status, 200);
    assert_eq!(one["aggregateType"], "appointment");
    assert!(
        one["schema"]["properties"]["status"]["enum"]
            .as_array()
            .unwrap()
            .len()
            == 8
    );
    let (status, body) = answer(s.get(OWNER, "/v1/registry/appointment.status")).await;
    assert_eq!(status, 404);
    assert_error_shape(&body, "not_found");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("appointment.status_changed"),
        "suggests the closest names: {body}"
    );
    let (status, report) = answer(s.get(OWNER, &format!("/v1/practices/{P}/verify"))).await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            report["eventsChecked"].as_i64(),
            report["firstBreak"].is_null()
        ),
        (Some(5), true)
    );
    let (status, health) = answer(s.client.get(format!("{}/healthz", s.base))).await;
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));

    // Tampered behind the engine's back (the database's owner can): /verify names the event.
    let (_, third) = answer(s.get(
        OWNER,
        &format!(
            "/v1/practices/{P}/events?limit=1&cursor={}",
            chronicle::cursor::encode(&2i64)
        ),
    ))
    .await;
    let target = third["items"][0]["id"].as_str().unwrap().to_string();
    let tamper = if s.url.starts_with("sqlite") {
        format!(
            "DROP TRIGGER events_reject_update; UPDATE events SET actor_id = 'mallory' WHERE id = '{target}'"
        )
    } else {
        format!(
            "ALTER TABLE events DISABLE TRIGGER events_reject_update_delete; UPDATE events SET actor_id = 'mallory' WHERE id = '{target}'"
        )
    };
    raw_sql(&s.url, &tamper).await;
    let (status, report) = answer(s.get(OWNER, &format!("/v1/practices/{P}/verify"))).await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            report["firstBreak"]["seq"].as_i64(),
            report["firstBreak"]["eventId"].as_str()
        ),
        (Some(3), Some(target.as_str())),
        "the edited event is named: {report}"
    );
}

async fn raw_sql(url: &str, sql: &str) {
    use sqlx::Connection;
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    if url.starts_with("sqlite") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
    }
}

/// Reads SSE frames until `count` events arrive; returns (id, event JSON).
async fn read_events(response: reqwest::Response, count: usize) -> Vec<(i64, Value)> {
    let mut stream = response.bytes_stream();
    let mut buffer = String::new();
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while events.len() < count {
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("events arrive within 10 s")
            .expect("stream stays open")
            .expect("chunk");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            let id = frame
                .lines()
                .find_map(|l| l.strip_prefix("id:"))
                .map(|v| v.trim().parse().unwrap());
            let data = frame
                .lines()
                .find_map(|l| l.strip_prefix("data:"))
                .map(|v| serde_json::from_str(v.trim()).unwrap());
            if let (Some(id), Some(data)) = (id, data) {
                events.push((id, data));
            }
        }
    }
    events
}

pub async fn live_stream_delivers_new_events_and_resumes_after_last_event_id(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.practice(P, OWNER).await;
    let live = s
        .get("viewer-1", &format!("/v1/practices/{P}/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
    assert!(
        live.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    // The stream subscribed before it answered: its headers have arrived, nothing to wait for.
    let reader = tokio::spawn(read_events(live, 2));
    s.post(OWNER, "/v1/events/append", &patient(P, "live-1"))
        .send()
        .await
        .unwrap();
    s.post(OWNER, "/v1/events/append", &patient(P, "live-2"))
        .send()
        .await
        .unwrap();
    let got = reader.await.unwrap();
    assert_eq!(
        got.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        [6, 7],
        "only events appended after subscribing, ids are seqs"
    );
    assert_eq!(got[0].1["aggregateId"], "live-1");

    s.post(OWNER, "/v1/events/append", &patient(P, "missed"))
        .send()
        .await
        .unwrap();
    let resumed = s
        .get("viewer-1", &format!("/v1/practices/{P}/live"))
        .header("Last-Event-ID", "7")
        .send()
        .await
        .unwrap();
    let got = read_events(resumed, 1).await;
    assert_eq!(
        (got[0].0, got[0].1["aggregateId"].as_str()),
        (8, Some("missed")),
        "resumes right after the last id seen"
    );

    // Another process appending to the same database (another store handle stands in for it):
    // on PostgreSQL its NOTIFY wakes the tail, on SQLite the fallback look does.
    let tail = s
        .get("viewer-1", &format!("/v1/practices/{P}/live"))
        .header("Last-Event-ID", "8")
        .send()
        .await
        .unwrap();
    let reader = tokio::spawn(read_events(tail, 1));
    let other = chronicle::Store::open(&s.url).await.unwrap();
    let event: chronicle::NewEvent = serde_json::from_value(patient(P, "elsewhere")).unwrap();
    other
        .append(&chronicle::Principal::user(OWNER), event)
        .await
        .unwrap();
    let got = reader.await.unwrap();
    assert_eq!(
        (got[0].0, got[0].1["aggregateId"].as_str()),
        (9, Some("elsewhere")),
        "the tail shows another process's append"
    );

    let (status, _) = answer(s.get("mallory", &format!("/v1/practices/{P}/live"))).await;
    assert_eq!(status, 403, "non-members cannot listen");
    let (status, body) = answer(
        s.get("viewer-1", &format!("/v1/practices/{P}/live"))
            .header("Last-Event-ID", "seven"),
    )
    .await;
    assert_eq!(
        (status, detail_paths(&body)),
        (400, vec!["/headers/last-event-id".to_string()])
    );
    // A malformed `after` is refused even when Last-Event-ID would win.
    let (status, body) = answer(
        s.get("viewer-1", &format!("/v1/practices/{P}/live?after=-1"))
            .header("Last-Event-ID", "8"),
    )
    .await;
    assert_eq!(
        (status, detail_paths(&body)),
        (400, vec!["/after".to_string()])
    );
    // A seq beyond every i64 stands for "after every event": only new ones come.
    let beyond = s
        .get("viewer-1", &format!("/v1/practices/{P}/live"))
        .header("Last-Event-ID", "99999999999999999999999")
        .send()
        .await
        .unwrap();
    assert_eq!(beyond.status(), 200);
    let _ = practice_created;
}

pub async fn projector_status_reset_retry_and_live_updates(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.practice(P, OWNER).await;
    let (status, body) = answer(s.get("viewer-1", &format!("/v1/practices/{P}/projectors"))).await;
    assert_eq!(status, 200);
    let projectors = body["projectors"].as_array().unwrap();
    assert_eq!(projectors.len(), 4, "one per built-in projector");
    assert!(
        projectors
            .iter()
            .all(|p| p["lag"] == 5 && p["headSeq"] == 5),
        "nothing applied yet: {body}"
    );

    let live = s
        .get("viewer-1", &format!("/v1/practices/{P}/projectors/live"))
        .send()
        .await
        .unwrap();
    let mut frames = live.bytes_stream();
    let first = tokio::time::timeout(Duration::from_secs(10), frames.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&first).contains("\"lag\":5"),
        "the first status event shows the lag"
    );

    let store = chronicle::Store::open(&s.url).await.unwrap();
    let runner = chronicle::projection::Runner::new(
        store.clone(),
        chronicle::projection::builtin(),
        Default::default(),
    );
    runner.run_until_caught_up().await.unwrap();
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let aggregate_index_moved =
        format!("{{\"practiceId\":\"{P}\",\"projectorName\":\"aggregate_index\"}}");
    while !(seen.contains("\"lag\":0") && seen.contains(&aggregate_index_moved)) {
        let chunk = tokio::time::timeout_at(deadline, frames.next())
            .await
            .expect("a status update arrives")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }

    assert!(
        seen.contains("event: checkpointMoved"),
        "each moved checkpoint is named in a checkpointMoved event, also when another process moved it: {seen}"
    );
    let (status, all) = answer(s.get(OWNER, "/v1/projectors")).await;
    assert_eq!(status, 200);
    assert_eq!(
        all["projectors"].as_array().unwrap().len(),
        4,
        "every practice's projectors in one request: {all}"
    );
    let (status, body) = answer(s.get(OWNER, &format!("/v1/practices/{P}/projectors"))).await;
    assert_eq!(status, 200);
    let names = |list: &Value| -> Vec<(String, String)> {
        list["projectors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["practiceId"].to_string(), p["projectorName"].to_string()))
            .collect()
    };
    assert_eq!(
        names(&body),
        names(&all),
        "the caller's one practice is all of them"
    );
    assert!(
        body["projectors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["lag"] == 0 && p["state"] == "caught_up"),
        "{body}"
    );
    let path = format!("/v1/practices/{P}/projectors/aggregate_index/reset");
    let (status, body) = answer(s.post("viewer-1", &path, &json!({}))).await;
    assert_eq!(status, 403, "viewers cannot reset: {body}");
    let reset = s.post(OWNER, &path, &json!({})).send().await.unwrap();
    assert_eq!(reset.status(), 204);
    let (_, body) = answer(s.get(OWNER, &format!("/v1/practices/{P}/projectors"))).await;
    let index = body["projectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["projectorName"] == "aggregate_index")
        .unwrap()
        .clone();
    assert_eq!(index["lastSeq"], 0, "reset goes back to the first event");
    let (status, body) = answer(s.post(
        OWNER,
        &format!("/v1/practices/{P}/projectors/aggregate_index/retry"),
        &json!({}),
    ))
    .await;
    assert_eq!(status, 409, "nothing failed, nothing to retry: {body}");
    let (status, body) = answer(s.post(
        OWNER,
        &format!("/v1/practices/{P}/projectors/nope/reset"),
        &json!({}),
    ))
    .await;
    assert_eq!(status, 404);
    assert_error_shape(&body, "unknown_projector");
    assert_eq!(detail_paths(&body), ["/projectorName"]);
    let (status, _) = answer(s.get("mallory", &format!("/v1/practices/{P}/projectors"))).await;
    assert_eq!(status, 403);
}

pub async fn read_model_endpoints_answer_from_the_projections(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.practice(P, OWNER).await;
    for id in ["pat-1", "pat-2", "pat-3"] {
        let (status, body) = answer(s.post(OWNER, "/v1/events/append", &patient(P, id))).await;
        assert_eq!(status, 201, "{body}");
    }
    let store = chronicle::Store::open(&s.url).await.unwrap();
    chronicle::projection::Runner::new(store, chronicle::projection::builtin(), Default::default())
        .run_until_caught_up()
        .await
        .unwrap();

    let (status, body) = answer(s.get(OWNER, "/v1/directory/practices")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["practices"][0]["practiceId"], P);
    assert_eq!(body["practices"][0]["name"], "Smile Dental");
    let (_, body) = answer(s.get("stranger", "/v1/directory/practices")).await;
    assert_eq!(
        body["practices"],
        json!([]),
        "a non-member sees no practice"
    );

    let (status, body) = answer(s.get(
        OWNER,
        &format!("/v1/practices/{P}/aggregates/recent?aggregateType=patient&limit=2"),
    ))
    .await;
    assert_eq!(status, 200, "{body}");
    let aggregates = body["items"].as_array().unwrap();
    assert_eq!(aggregates.len(), 2);
    assert_eq!(aggregates[0]["aggregateId"], "pat-3", "most recent first");
    let cursor = body["nextCursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let (_, next) = answer(s.get(
        OWNER,
        &format!(
            "/v1/practices/{P}/aggregates/recent?aggregateType=patient&limit=2&cursor={cursor}"
        ),
    ))
    .await;
    assert_eq!(next["items"][0]["aggregateId"], "pat-1");

    let (status, body) = answer(s.get(OWNER, &format!("/v1/practices/{P}/activity"))).await;
    assert_eq!(status, 200, "{body}");
    let total: i64 = body["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["events"].as_i64().unwrap())
        .sum();
    let (_, practices) = answer(s.get(OWNER, "/v1/practices")).await;
    assert_eq!(
        total,
        practices["practices"][0]["eventCount"].as_i64().unwrap()
    );

    let (status, body) =
        answer(s.get(OWNER, &format!("/v1/practices/{P}/activity?fromDay=soon"))).await;
    assert_eq!(status, 400, "{body}");
    assert_error_shape(&body, "invalid");
    assert_eq!(detail_paths(&body), ["/fromDay"]);
    let (status, body) = answer(s.get(OWNER, &format!("/v1/practices/{P}/activity?day=1"))).await;
    assert_eq!(status, 400, "unknown parameters are refused: {body}");
    let (status, body) = answer(s.get(
        OWNER,
        &format!("/v1/practices/{P}/aggregates/recent?limit=0"),
    ))
    .await;
    assert_eq!(status, 400, "{body}");
    for (query, path) in [
        ("aggregateType=%20patient", "/aggregateType"),
        (
            "cursor=WyIyMDI2LTAxLTAxVDAwOjAwOjAwWiIsInBhdGllbnQiLCJcdTAwMDAiXQ",
            "/cursor",
        ),
    ] {
        let (status, body) = answer(s.get(
            OWNER,
            &format!("/v1/practices/{P}/aggregates/recent?{query}"),
        ))
        .await;
        assert_eq!(
            (status, detail_paths(&body)),
            (400, vec![path.to_string()]),
            "{query}"
        );
    }
    let (status, body) = answer(s.get(
        OWNER,
        &format!("/v1/practices/{P}/activity?fromDay=2026-1-05"),
    ))
    .await;
    assert_eq!(
        (status, detail_paths(&body)),
        (400, vec!["/fromDay".to_string()]),
        "{body}"
    );
    let (status, body) = answer(s.get(OWNER, &format!("/v1/practices/{P}/members"))).await;
    assert_eq!(status, 200, "{body}");
    let owner = body["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["userId"] == OWNER)
        .expect("the owner is a member");
    assert_eq!(owner["role"], "owner");
    let (status, body) = answer(s.get(OWNER, "/v1/users")).await;
    assert_eq!(status, 200, "{body}");
    let users = body["users"].as_array().unwrap();
    assert!(
        users.contains(&json!(OWNER)) && users.contains(&json!("viewer-1")),
        "{body}"
    );
    let (_, body) = answer(s.get("stranger", "/v1/users")).await;
    assert_eq!(body["users"], json!([]), "a non-member knows nobody");

    for path in [
        format!("/v1/practices/{P}/activity"),
        format!("/v1/practices/{P}/aggregates/recent"),
        format!("/v1/practices/{P}/members"),
    ] {
        let (status, body) = answer(s.get("stranger", &path)).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert_error_shape(&body, "practice_not_found");
    }
}

pub async fn the_web_console_is_served_beside_the_api(backend: Backend) {
    let console = tempfile::tempdir().unwrap();
    std::fs::write(
        console.path().join("index.html"),
        "<!doctype html><title>Chronicle</title>",
    )
    .unwrap();
    std::fs::create_dir(console.path().join("assets")).unwrap();
    std::fs::write(console.path().join("assets/app.js"), "console.log('hi')").unwrap();
    let dir = console.path().to_path_buf();
    let s = TestServer::start_with(backend, |options| options.ui_dir = Some(dir)).await;

    let index = s.client.get(format!("{}/", s.base)).send().await.unwrap();
    assert_eq!(index.status(), 200);
    let policy = index.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"),
        "{policy}"
    );
    assert!(
        index
            .text()
            .await
            .unwrap()
            .contains("<title>Chronicle</title>")
    );
    let script = s
        .client
        .get(format!("{}/assets/app.js", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    assert!(
        script.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    let deep = s
        .client
        .get(format!("{}/practices/p-1", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(deep.status(), 200, "unknown console paths get the app");

    let (status, body) = answer(s.get(OWNER, "/v1/no-such-route")).await;
    assert_eq!(status, 404, "API paths never fall through to the console");
    assert_error_shape(&body, "not_found");
    let (status, body) = answer(s.post(OWNER, "/", &json!({}))).await;
    assert_eq!(status, 404, "only GET and HEAD reach the console: {body}");
    let (status, body) = answer(s.get(OWNER, "/v1/practices")).await;
    assert_eq!(status, 200, "the API still answers: {body}");
}

/// Removal, the last-owner rule, `recordedBy` and the skip operation's refusals, over HTTP.
pub async fn removals_recorders_and_skips_answer_over_http(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.practice(P, OWNER).await;
    let removal = |user: &str| {
        json!({"practiceId": P, "aggregateType": "membership", "aggregateId": user,
               "eventType": "membership.removed", "payload": {"userId": user, "reason": "moved away"},
               "actorType": "human"})
    };
    let (status, body) = answer(s.post("admin-1", "/v1/events/append", &removal(OWNER))).await;
    assert_eq!(status, 403, "an admin may not remove an owner: {body}");
    let (status, body) = answer(s.post(OWNER, "/v1/events/append", &removal(OWNER))).await;
    assert_eq!(status, 409, "{body}");
    assert_error_shape(&body, "conflict");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("last owner"),
        "{body}"
    );

    let (status, removed) =
        answer(s.post("admin-1", "/v1/events/append", &removal("desk-1"))).await;
    assert_eq!(status, 201, "{removed}");
    assert_eq!(
        removed["recordedBy"], "admin-1",
        "who appended it: {removed}"
    );
    let (status, body) = answer(s.get("desk-1", &format!("/v1/practices/{P}/events"))).await;
    assert_eq!(status, 403, "a removed member reads nothing: {body}");
    let (status, body) = answer(s.post("desk-1", "/v1/events/append", &patient(P, "pat-1"))).await;
    assert_eq!(status, 403, "and writes nothing: {body}");

    let (status, members) = answer(s.get(OWNER, &format!("/v1/practices/{P}/members"))).await;
    assert_eq!(status, 200);
    assert_eq!(members["removed"][0]["userId"], "desk-1", "{members}");
    assert_eq!(members["removed"][0]["removedBy"], "admin-1");
    assert_eq!(members["removed"][0]["reason"], "moved away");
    let viewer = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["userId"] == "viewer-1")
        .unwrap();
    assert_eq!(viewer["changedBy"], OWNER, "{members}");

    // An admin speaking for the system stays on record; a client cannot choose recordedBy.
    let mut as_system = patient(P, "pat-2");
    as_system["actorType"] = json!("system");
    let (status, body) = answer(s.post("viewer-1", "/v1/events/append", &as_system)).await;
    assert_eq!(status, 403, "{body}");
    let (status, stored) = answer(s.post("admin-1", "/v1/events/append", &as_system)).await;
    assert_eq!(
        (status, stored["recordedBy"].as_str()),
        (201, Some("admin-1")),
        "{stored}"
    );
    let mut forged = patient(P, "pat-3");
    forged["recordedBy"] = json!(OWNER);
    let (status, body) = answer(s.post("admin-1", "/v1/events/append", &forged)).await;
    assert_eq!(status, 400, "recordedBy is the store's: {body}");
    let (status, body) = answer(s.get("@system", &format!("/v1/practices/{P}/events"))).await;
    assert_eq!(status, 400, "no one logs in as a recorder: {body}");

    // Skip: only the event a failed projector is stuck on, only owners and admins.
    let skip_path = format!("/v1/practices/{P}/projectors/aggregate_index/skip");
    let skip = json!({"eventId": stored["id"], "reason": "test"});
    let (status, body) = answer(s.post("viewer-1", &skip_path, &skip)).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = answer(s.post(OWNER, &skip_path, &skip)).await;
    assert_eq!(status, 409, "nothing failed, nothing to skip: {body}");
    assert_error_shape(&body, "conflict");
    let (status, body) = answer(s.post(OWNER, &skip_path, &json!({"eventId": "x"}))).await;
    assert_eq!(status, 400, "a reason is required: {body}");
    let (status, body) = answer(s.post(
        OWNER,
        &format!("/v1/practices/{P}/projectors/nope/skip"),
        &skip,
    ))
    .await;
    assert_eq!(status, 404, "{body}");
    assert_error_shape(&body, "unknown_projector");
    let mut direct = patient(P, "pat-4");
    direct["eventType"] = json!("projector.event_skipped");
    direct["aggregateType"] = json!("projector");
    direct["aggregateId"] = json!("aggregate_index");
    direct["payload"] =
        json!({"projectorName": "aggregate_index", "eventId": "x", "seq": 1, "reason": "hide"});
    let (status, body) = answer(s.post(OWNER, "/v1/events/append", &direct)).await;
    assert_eq!(
        status, 400,
        "only the skip operation appends a skip: {body}"
    );
    assert_eq!(detail_paths(&body), vec!["/eventType"]);

    let (status, report) = answer(s.get(OWNER, &format!("/v1/practices/{P}/verify"))).await;
    assert_eq!(status, 200);
    assert_eq!(report["firstBreak"], Value::Null, "{report}");
    assert_eq!(report["membershipProblems"], json!([]), "{report}");
}

/// Exports as downloads, the head, verification against it, and checking a file.
pub async fn exports_download_and_verify_over_http(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.practice(P, OWNER).await;
    for i in 0..30 {
        let (status, _) =
            answer(s.post(OWNER, "/v1/events/append", &patient(P, &format!("pat-{i}")))).await;
        assert_eq!(status, 201);
    }
    let (status, head) = answer(s.get("viewer-1", &format!("/v1/practices/{P}/head"))).await;
    assert_eq!(status, 200);
    assert_eq!(head["seq"], 35, "{head}");

    let response = s
        .post(
            "viewer-1",
            &format!("/v1/practices/{P}/exports"),
            &json!({"format": "ndjson"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "application/x-ndjson");
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"chronicle-prac-1-")
    );
    let export_id = headers["x-chronicle-export-id"]
        .to_str()
        .unwrap()
        .to_string();
    let body = response.text().await.unwrap();
    let first: Value = serde_json::from_str(body.lines().next().unwrap()).unwrap();
    assert_eq!(first["manifest"]["exportId"], export_id.as_str());
    assert_eq!(first["manifest"]["headHash"], head["hash"]);
    assert_eq!(
        first["manifest"]["exportedBy"], "viewer-1",
        "a viewer may export what they may read"
    );
    assert_eq!(body.lines().count(), 36, "the manifest and 35 events");

    // The file checks out offline, through the check endpoint.
    let checked = s
        .post_bytes("viewer-1", "/v1/exports/check", body.clone().into_bytes())
        .send()
        .await
        .unwrap();
    assert_eq!(checked.status(), 200);
    let report: Value = checked.json().await.unwrap();
    assert_eq!(report["intact"], true, "{report}");
    assert_eq!(report["eventsChecked"], 35);
    let tampered = body.replacen("\"firstName\":\"Ann\"", "\"firstName\":\"Eve\"", 1);
    let report: Value = s
        .post_bytes("viewer-1", "/v1/exports/check", tampered.into_bytes())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["intact"], false);
    assert!(report["firstBreak"]["seq"].as_i64().is_some(), "{report}");
    let (status, body) =
        answer(s.post_bytes("viewer-1", "/v1/exports/check", b"hello".to_vec())).await;
    assert_eq!(status, 400, "{body}");
    assert_error_shape(&body, "invalid");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("the uploaded file is not a Chronicle export"),
        "the server's temporary path stays private: {body}"
    );

    // CSV: the manifest travels in a header.
    let response = s
        .post(
            OWNER,
            &format!("/v1/practices/{P}/exports"),
            &json!({"format": "csv", "filter": {"eventTypes": ["patient.created"]}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let encoded = response.headers()["x-chronicle-manifest"]
        .to_str()
        .unwrap()
        .to_string();
    use base64::Engine as _;
    let manifest: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(encoded)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["eventCount"], 30);
    let csv = response.text().await.unwrap();
    assert!(csv.starts_with("seq,id,createdAt"));
    assert_eq!(csv.lines().count(), 31);

    // The recorded exports, and refusals.
    let (_, exports) = answer(s.get(
        OWNER,
        &format!("/v1/practices/{P}/event-types/audit.export_created/events"),
    ))
    .await;
    assert_eq!(exports["items"].as_array().unwrap().len(), 2, "{exports}");
    let (status, body) = answer(s.post(
        "stranger",
        &format!("/v1/practices/{P}/exports"),
        &json!({}),
    ))
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = answer(s.post(
        OWNER,
        &format!("/v1/practices/{P}/exports"),
        &json!({"format": "pdf"}),
    ))
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = answer(s.post(
        OWNER,
        &format!("/v1/practices/{P}/exports"),
        &json!({"filter": {"aggregateId": " pat-1"}}),
    ))
    .await;
    assert_eq!(
        (status, detail_paths(&body)),
        (400, vec!["/aggregateId".to_string()]),
        "{body}"
    );

    // Verify against the head written down before.
    let hash = head["hash"].as_str().unwrap();
    let (status, report) = answer(s.get(
        OWNER,
        &format!("/v1/practices/{P}/verify?againstHash={hash}&againstSeq=35"),
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(report["anchor"]["held"], true, "{report}");
    let (_, report) = answer(s.get(
        OWNER,
        &format!(
            "/v1/practices/{P}/verify?againstHash={}&againstSeq=35",
            "ab".repeat(32)
        ),
    ))
    .await;
    assert_eq!(report["anchor"]["held"], false, "{report}");
    let (status, body) =
        answer(s.get(OWNER, &format!("/v1/practices/{P}/verify?againstHash=xyz"))).await;
    assert_eq!(
        (status, detail_paths(&body)),
        (400, vec!["/againstHash".to_string()]),
        "{body}"
    );
    let (status, body) =
        answer(s.get(OWNER, &format!("/v1/practices/{P}/verify?againstSeq=3"))).await;
    assert_eq!(status, 400, "{body}");
}
