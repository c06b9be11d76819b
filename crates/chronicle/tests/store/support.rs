//! Opens a fresh store per test on either backend. PostgreSQL tests create a throwaway
//! database on the server named by `CHRONICLE_TEST_PG_URL` (scripts/test.sh starts one).
//! The backends and fresh URLs come from `chronicle-testing`, shared with the other suites.

use chronicle::{ActorType, NewEvent, Principal, Store, StoreOptions};
pub use chronicle_testing::{Backend, fresh_url, pg_admin_url};
use serde_json::{Value, json};
use sqlx::Connection;

pub struct TestStore {
    pub store: Store,
    pub url: String,
    pub backend: Backend,
    _dir: Option<tempfile::TempDir>,
}

impl TestStore {
    pub async fn new(backend: Backend) -> Self {
        Self::with_options(backend, StoreOptions::default()).await
    }

    pub async fn with_options(backend: Backend, options: StoreOptions) -> Self {
        let (url, dir) = fresh_url(backend).await;
        let store = Store::open_with(&url, options)
            .await
            .expect("fresh store opens");
        TestStore {
            store,
            url,
            backend,
            _dir: dir,
        }
    }

    /// Runs SQL on a separate raw connection, bypassing the engine.
    pub async fn raw(&self, sql: &str) -> Result<u64, String> {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match self.backend {
            Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(&self.url)
                    .await
                    .map_err(|e| e.to_string())?;
                sqlx::raw_sql(sql)
                    .execute(&mut conn)
                    .await
                    .map(|r| r.rows_affected())
                    .map_err(|e| e.to_string())
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&self.url)
                    .await
                    .map_err(|e| e.to_string())?;
                sqlx::raw_sql(sql)
                    .execute(&mut conn)
                    .await
                    .map(|r| r.rows_affected())
                    .map_err(|e| e.to_string())
            }
        }
    }

    /// Every event of the practice in seq order, read page by page as the system principal.
    pub async fn all_events(&self, practice: &str) -> Vec<chronicle::Event> {
        let mut events = Vec::new();
        let mut request = chronicle::PageRequest::first(1000);
        loop {
            let page = self
                .store
                .timeline(
                    &Principal::System,
                    practice,
                    &chronicle::TimelineFilter::default(),
                    chronicle::Direction::Forward,
                    &request,
                )
                .await
                .unwrap();
            events.extend(page.items);
            match page.next_cursor {
                Some(cursor) => request.cursor = Some(cursor),
                None => return events,
            }
        }
    }

    /// Creates a practice owned by `owner` with one member per other role.
    pub async fn practice_with_staff(&self, practice: &str, owner: &str) {
        let owner_p = Principal::user(owner);
        self.store
            .append(&owner_p, practice_created(practice, "Smile Dental"))
            .await
            .expect("create practice");
        for (user, role) in [
            ("admin-1", "admin"),
            ("desk-1", "frontdesk"),
            ("viewer-1", "viewer"),
        ] {
            self.store
                .append(&owner_p, membership(practice, user, role))
                .await
                .unwrap_or_else(|e| panic!("add {user} as {role}: {e}"));
        }
    }
}

pub fn practice_created(practice: &str, name: &str) -> NewEvent {
    NewEvent::new(
        practice,
        "practice",
        practice,
        "practice.created",
        json!({"name": name}),
        ActorType::Human,
    )
}

pub fn membership(practice: &str, user: &str, role: &str) -> NewEvent {
    NewEvent::new(
        practice,
        "membership",
        user,
        "membership.created",
        json!({"userId": user, "role": role}),
        ActorType::Human,
    )
}

pub fn patient(practice: &str, id: &str, first: &str) -> NewEvent {
    NewEvent::new(
        practice,
        "patient",
        id,
        "patient.created",
        json!({"firstName": first, "lastName": "Smith", "dateOfBirth": "1990-05-17"}),
        ActorType::Human,
    )
}

pub fn patient_updated(practice: &str, id: &str, payload: Value) -> NewEvent {
    NewEvent::new(
        practice,
        "patient",
        id,
        "patient.updated",
        payload,
        ActorType::Human,
    )
}

impl TestStore {
    /// A raw executor for a URL that has no store open on it (yet).
    pub fn raw_url(
        backend: Backend,
        url: &str,
    ) -> impl Fn(&str) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<u64, String>> + Send>>
    {
        let url = url.to_string();
        move |sql: &str| {
            let url = url.clone();
            let sql = sqlx::AssertSqlSafe(sql.to_string());
            Box::pin(async move {
                match backend {
                    Backend::Sqlite => {
                        let opts: sqlx::sqlite::SqliteConnectOptions = url
                            .parse::<sqlx::sqlite::SqliteConnectOptions>()
                            .map_err(|e| e.to_string())?
                            .create_if_missing(true);
                        let mut conn = sqlx::SqliteConnection::connect_with(&opts)
                            .await
                            .map_err(|e| e.to_string())?;
                        sqlx::raw_sql(sql)
                            .execute(&mut conn)
                            .await
                            .map(|r| r.rows_affected())
                            .map_err(|e| e.to_string())
                    }
                    Backend::Postgres => {
                        let mut conn = sqlx::PgConnection::connect(&url)
                            .await
                            .map_err(|e| e.to_string())?;
                        sqlx::raw_sql(sql)
                            .execute(&mut conn)
                            .await
                            .map(|r| r.rows_affected())
                            .map_err(|e| e.to_string())
                    }
                }
            })
        }
    }
}
