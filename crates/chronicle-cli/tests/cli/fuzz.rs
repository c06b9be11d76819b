//! Thousands of malformed and hostile requests: the server never answers 5xx and never dies.

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::support::{Backend, TestServer, patient};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        Just(json!(u64::MAX)),
        ".{0,40}".prop_map(Value::String),
        Just(Value::String("\u{0}\u{7}\u{202e}💥".repeat(20))),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A valid event with one field replaced, removed or added.
fn mutated_event() -> impl Strategy<Value = Value> {
    let fields = prop::sample::select(vec![
        "id",
        "practiceId",
        "aggregateType",
        "aggregateId",
        "eventType",
        "payload",
        "actorType",
        "actorId",
        "expectedVersion",
        "createdAt",
        "extra",
    ]);
    (fields, json_value(), any::<bool>()).prop_map(|(field, value, remove)| {
        let mut event = patient("fz", "pat-1");
        if remove {
            event.as_object_mut().unwrap().remove(field);
        } else {
            event[field] = value;
        }
        event
    })
}

#[derive(Debug, Clone)]
enum Body {
    Json(Value),
    Bytes(Vec<u8>),
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        4 => mutated_event().prop_map(Body::Json),
        2 => json_value().prop_map(Body::Json),
        1 => mutated_event().prop_map(|e| Body::Json(json!({"events": [e.clone(), e]}))),
        2 => prop::collection::vec(any::<u8>(), 0..300).prop_map(Body::Bytes),
        1 => Just(Body::Bytes(b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[".repeat(20))),
    ]
}

fn user() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        3 => Just(Some(b"owner-fz".to_vec())),
        1 => Just(None),
        1 => prop::collection::vec(32u8..127, 0..300).prop_map(Some),
    ]
}

/// Every route, with hostile segments and query strings where it takes them.
fn path() -> impl Strategy<Value = String> {
    let segment = || "[a-zA-Z0-9%._~ -]{0,40}";
    let query = || "[a-zA-Z0-9%&=?._,:-]{0,60}";
    prop_oneof![
        4 => Just("/v1/events/append".to_string()),
        2 => Just("/v1/events/append-batch".to_string()),
        1 => "[a-zA-Z0-9%._~/-]{0,60}".prop_map(|p| format!("/v1/events/aggregate/fz/{p}")),
        1 => query().prop_map(|q| format!("/v1/events/type/fz/patient.created?limit={q}")),
        1 => query().prop_map(|q| format!("/v1/practices/fz/events?{q}")),
        1 => segment().prop_map(|p| format!("/v1/practices/{p}")),
        1 => segment().prop_map(|e| format!("/v1/practices/fz/events/{e}")),
        1 => query().prop_map(|q| format!("/v1/practices/fz/aggregates?{q}")),
        1 => (segment(), segment(), query()).prop_map(|(t, i, q)| format!("/v1/practices/fz/aggregates/{t}/{i}/events?{q}")),
        1 => (segment(), query()).prop_map(|(t, q)| format!("/v1/practices/fz/event-types/{t}/events?{q}")),
        1 => query().prop_map(|q| format!("/v1/practices/fz/aggregates/recent?{q}")),
        1 => query().prop_map(|q| format!("/v1/practices/fz/activity?{q}")),
        1 => segment().prop_map(|p| format!("/v1/practices/{p}/verify")),
        1 => segment().prop_map(|p| format!("/v1/practices/{p}/members")),
        1 => query().prop_map(|q| format!("/v1/projectors?{q}")),
        1 => segment().prop_map(|p| format!("/v1/practices/{p}/projectors")),
        1 => (segment(), prop::sample::select(vec!["reset", "retry"])).prop_map(|(n, a)| format!("/v1/practices/fz/projectors/{n}/{a}")),
        1 => segment().prop_map(|t| format!("/v1/registry/{t}")),
        1 => prop::sample::select(vec!["/v1/practices", "/v1/directory/practices", "/v1/users", "/v1/registry", "/healthz", "/openapi.json"]).prop_map(String::from),
    ]
}

pub fn hostile_requests_never_get_a_5xx(backend: Backend) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(async {
        let s = TestServer::start(backend).await;
        s.practice("fz", "owner-fz").await;
        s
    });
    let config = ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(path in path(), body in body(), user in user(), post in any::<bool>())| {
        let status = runtime.block_on(async {
            let url = format!("{}{}", server.base, path);
            let mut request = if post || path.contains("append") { server.client.post(&url) } else { server.client.get(&url) };
            if let Some(user) = &user {
                request = request.header("x-user-id", reqwest::header::HeaderValue::from_bytes(user).unwrap());
            }
            request = match &body {
                Body::Json(value) => request.json(value),
                Body::Bytes(bytes) => request.header("content-type", "application/json").body(bytes.clone()),
            };
            let response = request.send().await.expect("the server answers");
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            if !text.is_empty() && !path.contains("/live") {
                let parsed: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status} body is not JSON: {text}"));
                if status >= 400 {
                    assert!(parsed["error"]["code"].is_string(), "error shape: {text}");
                }
            }
            status
        });
        prop_assert!(status < 500, "{} {:?} answered {}", path, body, status);
    });
    let alive = runtime.block_on(async {
        server
            .client
            .get(format!("{}/healthz", server.base))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(alive, 200, "still serving after the barrage");
}

#[test]
fn hostile_requests_never_get_a_5xx_on_sqlite() {
    hostile_requests_never_get_a_5xx(Backend::Sqlite);
}

#[test]
fn hostile_requests_never_get_a_5xx_on_postgres() {
    hostile_requests_never_get_a_5xx(Backend::Postgres);
}
