//! Who may reach the server, and what one caller may cost it (docs/security.md), through a
//! real server and client.

use std::time::Duration;

use chronicle::api::live::LiveLimits;
use serde_json::{Value, json};

use crate::support::{Backend, TestServer, answer, patient};

const P: &str = "prac-1";
const OWNER: &str = "owner-1";

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

async fn event_count(s: &TestServer) -> i64 {
    let (_, practices) = answer(s.get(OWNER, "/v1/practices")).await;
    practices["practices"][0]["eventCount"].as_i64().unwrap()
}

fn port(s: &TestServer) -> &str {
    s.base.rsplit(':').next().unwrap()
}

pub async fn another_host_or_a_foreign_page_is_refused(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.practice(P, OWNER).await;
    let before = event_count(&s).await;

    // DNS rebinding: the attacker's name, pointed at this machine.
    let rebound = format!("attacker.example:{}", port(&s));
    let (status, body) = answer(s.get(OWNER, "/v1/practices").header("host", &rebound)).await;
    assert_eq!((status, code(&body)), (421, "host_not_allowed"), "{body}");
    let (status, _) = answer(
        s.post(OWNER, "/v1/events/append", &patient(P, "rebound"))
            .header("host", &rebound),
    )
    .await;
    assert_eq!(status, 421);
    let (status, _) = answer(s.get(OWNER, "/").header("host", &rebound)).await;
    assert_eq!(status, 421, "not even the console");

    // A page on another site posting here, or opening a stream.
    let (status, body) = answer(
        s.post(OWNER, "/v1/events/append", &patient(P, "cross-site"))
            .header("origin", "http://attacker.example"),
    )
    .await;
    assert_eq!((status, code(&body)), (403, "origin_not_allowed"), "{body}");
    let stream = s
        .get(OWNER, &format!("/v1/practices/{P}/live"))
        .header("origin", "null")
        .send()
        .await
        .unwrap();
    assert_eq!(
        stream.status(),
        403,
        "a sandboxed page cannot stream either"
    );
    assert_eq!(event_count(&s).await, before, "nothing was written");

    // The console's own pages, by either loopback name.
    for host in [
        format!("127.0.0.1:{}", port(&s)),
        format!("localhost:{}", port(&s)),
    ] {
        let origin = format!("http://{host}");
        let (status, body) = answer(
            s.post(
                OWNER,
                "/v1/events/append",
                &patient(P, &format!("from-{host}")),
            )
            .header("host", &host)
            .header("origin", &origin),
        )
        .await;
        assert_eq!(status, 201, "{host}: {body}");
    }
    assert!(
        s.get(OWNER, "/healthz")
            .send()
            .await
            .unwrap()
            .headers()
            .get("access-control-allow-origin")
            .is_none(),
        "no CORS: no other origin may read an answer"
    );
}

pub async fn a_gateways_host_name_is_served_when_allowed(backend: Backend) {
    let s = TestServer::start_with(backend, |o| {
        o.allowed_hosts = vec!["chronicle.example.org".into()]
    })
    .await;
    s.practice(P, OWNER).await;
    let (status, body) = answer(
        s.post(OWNER, "/v1/events/append", &patient(P, "via-gateway"))
            .header("host", "chronicle.example.org")
            .header("origin", "https://chronicle.example.org"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, _) = answer(
        s.get(OWNER, "/v1/practices")
            .header("host", "other.example.org"),
    )
    .await;
    assert_eq!(status, 421);
}

pub async fn control_characters_in_a_payload_are_400_with_the_pointer(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.practice(P, OWNER).await;
    let mut event = patient(P, "nul");
    event["payload"]["lastName"] = json!("Le\u{0}e");
    let (status, body) = answer(s.post(OWNER, "/v1/events/append", &event)).await;
    assert_eq!((status, code(&body)), (400, "invalid"), "{body}");
    assert_eq!(body["error"]["details"][0]["path"], "/payload/lastName");
    assert!(
        body["error"]["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("U+0000"),
        "{body}"
    );
}

pub async fn live_streams_are_capped_per_user_and_in_total(backend: Backend) {
    let s = TestServer::start_with(backend, |o| {
        o.live_limits = LiveLimits {
            per_user: 2,
            total: 3,
        }
    })
    .await;
    s.practice(P, OWNER).await;
    let open = |user: &'static str, path: &'static str| {
        let request = s.get(user, &format!("/v1/practices/{P}/{path}"));
        async move { request.send().await.unwrap() }
    };
    let mut held = vec![
        open("viewer-1", "live").await,
        open("viewer-1", "projectors/live").await,
    ];
    assert!(held.iter().all(|r| r.status() == 200));
    let third = open("viewer-1", "live").await;
    assert_eq!(third.status(), 429, "a user's third stream");
    let body: Value = third.json().await.unwrap();
    assert_eq!(code(&body), "too_many_requests");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("as many as one user may"),
        "{body}"
    );
    held.push(open("admin-1", "live").await);
    assert_eq!(held[2].status(), 200, "another user still gets one");
    let fourth = open("desk-1", "live").await;
    assert_eq!(fourth.status(), 429, "the server's total");
    // Ordinary requests are not streams: they go on.
    let (status, _) = answer(s.get("desk-1", "/v1/practices")).await;
    assert_eq!(status, 200);
}

/// A hostile member floods the server: oversized batches, more streams than allowed, the
/// largest pages (that heavy pages end at their byte budget is the engine's test). Everyone else's ordinary append and read still succeed
/// (the server's own request timeout would have answered 503 otherwise).
pub async fn a_flood_by_one_caller_leaves_room_for_others(backend: Backend) {
    let s = TestServer::start_with(backend, |o| {
        o.max_batch_body_bytes = 256 * 1024;
        o.request_timeout = Duration::from_secs(20);
    })
    .await;
    s.practice(P, OWNER).await;
    // Something to page through.
    let batch =
        json!({"events": (0..300).map(|i| patient(P, &format!("p{i}"))).collect::<Vec<_>>()});
    let (status, body) = answer(s.post(OWNER, "/v1/events/append-batch", &batch)).await;
    assert_eq!(status, 201, "{body}");
    let flooder = "desk-1";
    let oversized =
        json!({"events": (0..2000).map(|i| patient(P, &format!("f{i}"))).collect::<Vec<_>>()});
    let mut flood = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let request = s.post(flooder, "/v1/events/append-batch", &oversized);
        flood.spawn(async move {
            request
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        });
    }
    let mut streams = Vec::new();
    for _ in 0..300 {
        if let Ok(response) = s
            .get(flooder, &format!("/v1/practices/{P}/live"))
            .send()
            .await
        {
            streams.push(response);
        }
    }
    for _ in 0..30 {
        let request = s.get(flooder, &format!("/v1/practices/{P}/events?limit=1000"));
        flood.spawn(async move {
            request
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        });
    }

    // Meanwhile, someone else's ordinary work.
    let (status, body) = answer(s.post(OWNER, "/v1/events/append", &patient(P, "ordinary"))).await;
    assert_eq!(status, 201, "an ordinary append during the flood: {body}");
    let (status, body) = answer(s.get(
        "viewer-1",
        &format!("/v1/practices/{P}/events?direction=backward&limit=5"),
    ))
    .await;
    assert_eq!(status, 200, "an ordinary read during the flood: {body}");
    assert_eq!(body["items"][0]["aggregateId"], "ordinary");

    let statuses: Vec<u16> = flood.join_all().await;
    assert!(
        statuses[..20].iter().all(|s| *s == 413),
        "oversized batches are refused at the door: {statuses:?}"
    );
    assert!(
        statuses[20..].iter().all(|s| *s == 200),
        "pages are answered: {statuses:?}"
    );
    let refused = streams.iter().filter(|r| r.status() == 429).count();
    assert_eq!(
        (streams.len() - refused, refused),
        (
            LiveLimits::default().per_user,
            300 - LiveLimits::default().per_user
        ),
        "one user holds at most their share of streams"
    );
}
