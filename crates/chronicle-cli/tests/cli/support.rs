//! A real server on an ephemeral loopback port, on a fresh SQLite file or a fresh
//! PostgreSQL database (on the server named by CHRONICLE_TEST_PG_URL; scripts/test.sh starts it).
//! The backends and fresh URLs come from `chronicle-testing`, shared with the other suites.

use chronicle::Store;
use chronicle_cli::http::{self, ApiOptions};
pub use chronicle_testing::{Backend, fresh_url};
use serde_json::{Value, json};
use sqlx::Connection;

pub struct TestServer {
    pub base: String,
    pub url: String,
    pub client: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: Option<tempfile::TempDir>,
}

impl TestServer {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut ApiOptions)) -> Self {
        let (url, dir) = fresh_url(backend).await;
        let store = Store::open(&url).await.expect("open store");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mut options = ApiOptions::for_store(&store);
        adjust(&mut options);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server_store = store.clone();
        tokio::spawn(async move {
            http::serve(listener, server_store, options, async {
                let _ = stopped.await;
            })
            .await
            .expect("server runs");
        });
        TestServer {
            base,
            url,
            client: reqwest::Client::new(),
            stop: Some(stop),
            _dir: dir,
        }
    }

    pub fn get(&self, user: &str, path: &str) -> reqwest::RequestBuilder {
        self.client
            .get(format!("{}{path}", self.base))
            .header("x-user-id", user)
    }

    pub fn post(&self, user: &str, path: &str, body: &Value) -> reqwest::RequestBuilder {
        self.client
            .post(format!("{}{path}", self.base))
            .header("x-user-id", user)
            .json(body)
    }

    /// A POST of raw bytes (a file upload).
    pub fn post_bytes(&self, user: &str, path: &str, body: Vec<u8>) -> reqwest::RequestBuilder {
        self.client
            .post(format!("{}{path}", self.base))
            .header("x-user-id", user)
            .header("content-type", "application/octet-stream")
            .body(body)
    }

    /// A practice owned by `owner`, with admin-1, desk-1 and viewer-1.
    pub async fn practice(&self, practice: &str, owner: &str) {
        let created = self
            .post(owner, "/v1/events/append", &practice_created(practice))
            .send()
            .await
            .unwrap();
        assert_eq!(
            created.status(),
            201,
            "create practice: {}",
            created.text().await.unwrap()
        );
        for (user, role) in [
            ("admin-1", "admin"),
            ("desk-1", "frontdesk"),
            ("viewer-1", "viewer"),
        ] {
            let added = self
                .post(
                    owner,
                    "/v1/events/append",
                    &membership(practice, user, role),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(added.status(), 201);
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Status and JSON body.
pub async fn answer(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("server answers");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("status {status}: body is not JSON: {text:?}"));
    (status, body)
}

pub fn practice_created(practice: &str) -> Value {
    json!({"practiceId": practice, "aggregateType": "practice", "aggregateId": practice,
           "eventType": "practice.created", "payload": {"name": "Smile Dental"}, "actorType": "human"})
}

pub fn membership(practice: &str, user: &str, role: &str) -> Value {
    json!({"practiceId": practice, "aggregateType": "membership", "aggregateId": user,
           "eventType": "membership.created", "payload": {"userId": user, "role": role}, "actorType": "human"})
}

pub fn patient(practice: &str, id: &str) -> Value {
    json!({"practiceId": practice, "aggregateType": "patient", "aggregateId": id, "eventType": "patient.created",
           "payload": {"firstName": "Ann", "lastName": "Lee", "dateOfBirth": "1990-05-17"}, "actorType": "human"})
}

/// Per practice: (head seq, sum of aggregate_index event counts, sum of daily_activity
/// events, practice_directory event count). A projector that applied an event twice, or
/// skipped one, makes the sums differ from the head.
pub async fn projection_totals(url: &str) -> Vec<(String, i64, i64, i64, i64)> {
    const SQL: &str = "SELECT h.practice_id, h.seq, \
        (SELECT COALESCE(SUM(event_count), 0) FROM rm_aggregate_index a WHERE a.practice_id = h.practice_id), \
        (SELECT COALESCE(SUM(events), 0) FROM rm_daily_activity d WHERE d.practice_id = h.practice_id), \
        (SELECT COALESCE(MAX(event_count), 0) FROM rm_practice_directory p WHERE p.practice_id = h.practice_id) \
        FROM practice_heads h ORDER BY h.practice_id";
    if url.starts_with("sqlite") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_as(SQL).fetch_all(&mut conn).await.unwrap()
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        // PostgreSQL sums BIGINT into NUMERIC; cast back.
        let sql = SQL
            .replace("SUM(event_count), 0)", "SUM(event_count), 0)::bigint")
            .replace("SUM(events), 0)", "SUM(events), 0)::bigint");
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut conn)
            .await
            .unwrap()
    }
}
