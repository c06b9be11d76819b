//! Every command through Tauri's mock runtime and the real IPC path (JSON in, JSON out), on a
//! real SQLite file (and PostgreSQL where `CHRONICLE_TEST_PG_URL` names a server): the
//! success shape and the `{code, message, details}` error shape of each.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chronicle_app::export::ExportProgress;
use chronicle_app::live::{
    CheckpointMovedEvent, EventsAppended, GenerateProgressEvent, LiveSink, StoreChanged,
};
use chronicle_app::settings::{Settings, SettingsFile};
use chronicle_app::state::{AppState, desktop_store_options};
use serde_json::{Value, json};
use tauri::Manager;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{
    INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder, mock_context, noop_assets,
};
use tauri::webview::InvokeRequest;

/// Settings kept in memory, so tests can read what would have been written.
#[derive(Default)]
struct MemorySettings(Arc<Mutex<Settings>>);

impl SettingsFile for MemorySettings {
    fn load(&self) -> Settings {
        self.0.lock().unwrap().clone()
    }
    fn save(&self, settings: &Settings) -> Result<(), String> {
        *self.0.lock().unwrap() = settings.clone();
        Ok(())
    }
}

/// Called with the export id on the first progress report of an export (see
/// `a_cancelled_export_leaves_no_file`).
type ExportHook = Box<dyn FnOnce(&str) + Send>;

/// Records the live updates the window would receive.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>, Mutex<Option<ExportHook>>);

impl LiveSink for Recorder {
    fn appended(&self, update: EventsAppended) {
        self.0.lock().unwrap().push(format!(
            "appended {} {}",
            update.0.practice_id, update.0.seq
        ));
    }
    fn checkpoint_moved(&self, update: CheckpointMovedEvent) {
        self.0.lock().unwrap().push(format!(
            "checkpoint {} {}",
            update.0.practice_id, update.0.projector_name
        ));
    }
    fn store_changed(&self, update: StoreChanged) {
        self.0
            .lock()
            .unwrap()
            .push(format!("store {} {}", update.backend, update.location));
    }
    fn export_progress(&self, update: ExportProgress) {
        self.0.lock().unwrap().push(format!(
            "export {} {} {}/{}",
            update.export_id, update.practice_id, update.written, update.total
        ));
        let hook = self.1.lock().unwrap().take();
        if let Some(hook) = hook {
            hook(&update.export_id);
        }
    }
    fn generate_progress(&self, update: GenerateProgressEvent) {
        self.0.lock().unwrap().push(format!(
            "generated {} {}/{}",
            update.0.practice_id, update.0.written, update.0.total
        ));
    }
}

struct TestApp {
    _app: tauri::App<MockRuntime>,
    webview: tauri::WebviewWindow<MockRuntime>,
    saved: Arc<Mutex<Settings>>,
    live: Arc<Recorder>,
    dir: tempfile::TempDir,
}

impl TestApp {
    /// An app whose embedded store is a fresh file, with `settings` already saved.
    fn start(settings: Settings) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let embedded = format!("sqlite://{}", dir.path().join("embedded.db").display());
        let saved = Arc::new(Mutex::new(settings));
        let live = Arc::new(Recorder::default());
        let builder = chronicle_app::specta_builder::<MockRuntime>();
        let app = mock_builder()
            .invoke_handler(builder.invoke_handler())
            .build(mock_context(noop_assets()))
            .unwrap();
        builder.mount_events(&app);
        let state = tauri::async_runtime::block_on(AppState::start(
            Box::new(MemorySettings(saved.clone())),
            live.clone(),
            desktop_store_options(),
            embedded,
        ))
        .expect("the app state starts");
        app.manage(state);
        let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .unwrap();
        Self {
            _app: app,
            webview,
            saved,
            live,
            dir,
        }
    }

    fn fresh() -> Self {
        Self::start(Settings::default())
    }

    /// Invokes `cmd` with `args` as the window would.
    fn call(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        invoke(&self.webview, cmd, args)
    }

    fn ok(&self, cmd: &str, args: Value) -> Value {
        self.call(cmd, args.clone())
            .unwrap_or_else(|e| panic!("{cmd} {args} failed: {e}"))
    }

    /// The error of a call that must fail, checked to have the one bridge shape.
    fn err(&self, cmd: &str, args: Value) -> Value {
        let error = self
            .call(cmd, args.clone())
            .expect_err(&format!("{cmd} {args} must fail"));
        assert!(
            error["code"].is_string(),
            "{cmd}: error has a code: {error}"
        );
        assert!(
            error["message"].is_string(),
            "{cmd}: error has a message: {error}"
        );
        assert!(
            error["details"].is_array(),
            "{cmd}: error has details: {error}"
        );
        error
    }

    fn view_as(&self, identity: &str) {
        let mut settings: Value = self.ok("settings_get", json!({}));
        settings["identity"] = json!(identity);
        self.ok(
            "settings_set",
            json!({"settings": settings, "storePassword": null}),
        );
    }

    fn seeded() -> (Self, Vec<String>) {
        let app = Self::fresh();
        let report = app.ok("seed_demo", json!({}));
        let practices: Vec<String> = serde_json::from_value(report["practiceIds"].clone()).unwrap();
        (app, practices)
    }

    /// Waits (bounded) until the projector runner has caught up with every practice.
    fn caught_up(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let status = self.ok("projector_status", json!({"query": {}}));
            let rows = status["projectors"].as_array().unwrap();
            if !rows.is_empty() && rows.iter().all(|r| r["lag"] == json!(0)) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "runner did not catch up: {status}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn recorded(&self, prefix: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self
                .live
                .0
                .lock()
                .unwrap()
                .iter()
                .any(|l| l.starts_with(prefix))
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

/// Invokes `cmd` with `args` in `webview`, as the window would.
fn invoke(
    webview: &tauri::WebviewWindow<MockRuntime>,
    cmd: &str,
    args: Value,
) -> Result<Value, Value> {
    get_ipc_response(
        webview,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|body| body.deserialize::<Value>().unwrap())
}

fn page(limit: i64) -> Value {
    json!({"cursor": null, "limit": limit})
}

/// A timeline query: the filter's fields plus direction and paging, as one argument.
fn timeline_query(filter: Value, direction: &str, limit: i64) -> Value {
    let mut query = filter;
    query["direction"] = json!(direction);
    query["limit"] = json!(limit);
    query
}

#[test]
fn first_run_offers_demo_data_and_reads_follow_the_identity() {
    let app = TestApp::fresh();
    let info = app.ok("store_info", json!({}));
    assert_eq!(info["backend"], "sqlite");
    assert_eq!(info["isEmpty"], true);
    assert!(info["location"].as_str().unwrap().ends_with("embedded.db"));
    assert_eq!(
        info["suggestedIdentities"],
        json!([]),
        "an empty store knows nobody"
    );

    let before = app.err("practices", json!({}));
    assert_eq!(before["code"], "identity_required");

    let report = app.ok("seed_demo", json!({}));
    assert_eq!(report["practiceIds"].as_array().unwrap().len(), 3);
    let info = app.ok("store_info", json!({}));
    assert_eq!(info["isEmpty"], false);
    assert!(
        info["suggestedIdentities"]
            .as_array()
            .unwrap()
            .contains(&json!("olivia.owner")),
        "the picker offers the store's members: {info}"
    );
    assert_eq!(app.err("seed_demo", json!({}))["code"], "store_not_empty");

    app.view_as("olivia.owner");
    let practices = app.ok("practices", json!({}))["practices"].clone();
    assert_eq!(practices.as_array().unwrap().len(), 3);
    assert!(
        practices
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["role"] == "owner" && p["capabilities"]["manageProjectors"] == true)
    );

    app.caught_up();
    let directory = app.ok("practice_directory", json!({}))["practices"].clone();
    assert_eq!(directory.as_array().unwrap().len(), 3);
    assert!(
        directory[0]["name"].as_str().unwrap().contains("Dent")
            || directory[0]["name"].as_str().unwrap().contains("Ortho")
    );

    let members = app.ok(
        "practice_members",
        json!({"practiceId": report["practiceIds"][0]}),
    )["members"]
        .clone();
    let olivia = members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["userId"] == "olivia.owner")
        .expect("olivia is a member");
    assert_eq!(olivia["role"], "owner");
    assert!(
        olivia["displayName"].is_string(),
        "named once caught up: {olivia}"
    );

    app.view_as("not-a-member");
    assert_eq!(app.ok("practices", json!({})), json!({"practices": []}));
    assert_eq!(
        app.ok("practice_directory", json!({})),
        json!({"practices": []})
    );
}

#[test]
fn timeline_aggregates_and_event_reads_page_by_cursor() {
    let (app, practices) = TestApp::seeded();
    let practice = &practices[0];
    app.view_as("victor.viewer");
    let first = app.ok(
        "timeline",
        json!({"practiceId": practice, "query": timeline_query(json!({}), "forward", 5)}),
    );
    let items = first["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    assert_eq!(items[0]["seq"], 1);
    let second = app.ok("timeline", json!({"practiceId": practice, "query": {"direction": "forward", "cursor": first["nextCursor"], "limit": 5}}));
    assert_eq!(second["items"][0]["seq"], 6);
    let newest = app.ok("timeline", json!({"practiceId": practice, "query": timeline_query(json!({"eventTypes": ["patient.created"]}), "backward", 3)}));
    assert!(
        newest["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["eventType"] == "patient.created")
    );

    let bad = app.err("timeline", json!({"practiceId": practice, "query": timeline_query(json!({"eventTypes": [""]}), "forward", 5)}));
    assert_eq!(bad["code"], "invalid");
    assert!(
        bad["details"][0]["path"]
            .as_str()
            .unwrap()
            .starts_with("/eventTypes"),
        "{bad}"
    );
    let bad_limit = app.err(
        "timeline",
        json!({"practiceId": practice, "query": timeline_query(json!({}), "forward", 5000)}),
    );
    assert_eq!(bad_limit["code"], "invalid");

    let aggregates = app.ok(
        "aggregates",
        json!({"practiceId": practice, "query": {"aggregateType": "patient", "limit": 10}}),
    );
    let aggregate = aggregates["items"][0].clone();
    assert_eq!(aggregate["aggregateType"], "patient");
    let history = app.ok("aggregate_events", json!({"practiceId": practice, "aggregateType": "patient", "aggregateId": aggregate["aggregateId"], "query": page(100)}));
    assert_eq!(
        history["items"].as_array().unwrap().len() as i64,
        aggregate["version"].as_i64().unwrap()
    );
    assert_eq!(history["items"][0]["version"], 1);

    let one = app.ok(
        "event",
        json!({"practiceId": practice, "eventId": items[2]["id"]}),
    );
    assert_eq!(one["seq"], 3);
    let missing = app.err(
        "event",
        json!({"practiceId": practice, "eventId": "no-such-event"}),
    );
    assert_eq!(missing["code"], "not_found");

    let by_type = app.ok(
        "events_by_type",
        json!({"practiceId": practice, "eventType": "patient.created", "query": page(2)}),
    );
    assert_eq!(by_type["items"].as_array().unwrap().len(), 2);
    assert!(by_type["nextCursor"].is_string());

    app.caught_up();
    let recent = app.ok(
        "recent_aggregates",
        json!({"practiceId": practice, "query": page(5)}),
    );
    let recent = recent["items"].as_array().unwrap();
    assert_eq!(recent.len(), 5);
    assert!(recent[0]["lastEventAt"].as_str() >= recent[4]["lastEventAt"].as_str());
    let days = app.ok(
        "daily_activity",
        json!({"practiceId": practice, "query": {}}),
    );
    let total: i64 = days["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["events"].as_i64().unwrap())
        .sum();
    let head = app.ok("practices", json!({}))["practices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| &p["practiceId"] == practice)
        .unwrap()["eventCount"]
        .as_i64()
        .unwrap();
    assert_eq!(total, head, "daily activity counts every event");
    let bad_day = app.err(
        "daily_activity",
        json!({"practiceId": practice, "query": {"fromDay": "yesterday"}}),
    );
    assert_eq!(bad_day["code"], "invalid");

    app.view_as("not-a-member");
    for (cmd, args) in [
        (
            "timeline",
            json!({"practiceId": practice, "query": timeline_query(json!({}), "forward", 5)}),
        ),
        (
            "aggregates",
            json!({"practiceId": practice, "query": page(5)}),
        ),
        (
            "recent_aggregates",
            json!({"practiceId": practice, "query": page(5)}),
        ),
        (
            "aggregate_events",
            json!({"practiceId": practice, "aggregateType": "patient", "aggregateId": aggregate["aggregateId"], "query": page(5)}),
        ),
        (
            "events_by_type",
            json!({"practiceId": practice, "eventType": "patient.created", "query": page(5)}),
        ),
        (
            "daily_activity",
            json!({"practiceId": practice, "query": {}}),
        ),
        (
            "projector_status",
            json!({"query": {"practiceId": practice}}),
        ),
        ("practice", json!({"practiceId": practice})),
        ("verify", json!({"practiceId": practice})),
        ("practice_members", json!({"practiceId": practice})),
        ("event", json!({"practiceId": practice, "eventId": "any"})),
    ] {
        assert_eq!(
            app.err(cmd, args)["code"],
            "practice_not_found",
            "{cmd} hides the practice from a non-member"
        );
    }
}

#[test]
fn appends_report_violations_conflicts_and_roles() {
    let (app, practices) = TestApp::seeded();
    let practice = &practices[0];
    app.view_as("fran.frontdesk");
    let patient = |id: &str, first: Value| {
        json!({"practiceId": practice, "aggregateType": "patient", "aggregateId": id, "eventType": "patient.created",
               "payload": {"firstName": first, "lastName": "Lovelace", "dateOfBirth": "1815-12-10"}, "actorType": "human", "expectedVersion": 0})
    };
    let written = app.ok(
        "append",
        json!({"event": patient("pat-app-1", json!("Ada"))}),
    );
    assert_eq!(written["version"], 1);
    assert_eq!(written["actorId"], "fran.frontdesk");
    let head = written["seq"].as_i64().unwrap();

    let conflict = app.err(
        "append",
        json!({"event": patient("pat-app-1", json!("Ada"))}),
    );
    assert_eq!(conflict["code"], "version_conflict");
    let invalid = app.err("append", json!({"event": patient("pat-app-2", json!(42))}));
    assert_eq!(invalid["code"], "invalid_payload");
    assert_eq!(invalid["details"][0]["path"], "/payload/firstName");

    let batch = app.ok("append_batch", json!({"batch": {"events": [patient("pat-app-3", json!("Grace")), patient("pat-app-4", json!("Alan"))]}}));
    assert_eq!(batch["events"].as_array().unwrap().len(), 2);
    assert_eq!(batch["events"][1]["seq"].as_i64().unwrap(), head + 2);
    let half_bad = app.err("append_batch", json!({"batch": {"events": [patient("pat-app-5", json!("Edsger")), patient("pat-app-6", json!(false))]}}));
    assert_eq!(half_bad["code"], "invalid_payload");
    assert_eq!(
        half_bad["details"][0]["path"],
        "/events/1/payload/firstName"
    );
    let after = app.ok(
        "timeline",
        json!({"practiceId": practice, "query": timeline_query(json!({}), "backward", 1)}),
    );
    assert_eq!(
        after["items"][0]["seq"].as_i64().unwrap(),
        head + 2,
        "nothing of the failed batch was written"
    );
    assert_eq!(
        app.err("append_batch", json!({"batch": {"events": []}}))["code"],
        "invalid"
    );

    let unknown = app.err("append", json!({"event": {"practiceId": practice, "aggregateType": "patient", "aggregateId": "x", "eventType": "patient.creatd", "payload": {}, "actorType": "human"}}));
    assert_eq!(unknown["code"], "unknown_event_type");
    assert!(
        unknown["message"]
            .as_str()
            .unwrap()
            .contains("patient.created"),
        "suggests the closest type: {unknown}"
    );

    app.view_as("victor.viewer");
    assert_eq!(
        app.err(
            "append",
            json!({"event": patient("pat-app-7", json!("Barbara"))})
        )["code"],
        "forbidden"
    );

    // Arguments that do not fit the command's types never reach it: Tauri refuses them.
    let malformed = app
        .call("append", json!({"event": {"practiceId": practice}}))
        .unwrap_err();
    assert!(
        malformed
            .as_str()
            .unwrap_or_default()
            .contains("aggregateType"),
        "{malformed}"
    );
}

#[test]
fn registry_lists_types_and_explains_unknown_ones() {
    let app = TestApp::fresh();
    let types = app.ok("registry_list", json!({}));
    let names: Vec<&str> = types["eventTypes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["eventType"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"patient.created") && names.contains(&"practice.created"));
    let one = app.ok("registry_schema", json!({"eventType": "patient.created"}));
    assert_eq!(one["aggregateType"], "patient");
    assert!(one["schema"]["properties"].is_object());
    let unknown = app.err("registry_schema", json!({"eventType": "patient.deleted"}));
    assert_eq!(
        (
            unknown["code"].as_str(),
            unknown["details"][0]["path"].as_str()
        ),
        (Some("not_found"), Some("/eventType")),
        "a lookup by name is not_found, as over HTTP (404): {unknown}"
    );
}

#[test]
fn projectors_report_status_and_only_owners_and_admins_operate_them() {
    let (app, practices) = TestApp::seeded();
    let practice = &practices[0];
    app.view_as("adam.admin");
    app.caught_up();
    let status = app.ok(
        "projector_status",
        json!({"query": {"practiceId": practice}}),
    );
    let rows = status["projectors"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    assert!(
        rows.iter()
            .all(|s| s["state"] == "caught_up" && s["retryable"] == false)
    );

    app.ok(
        "projector_reset",
        json!({"practiceId": practice, "projectorName": "aggregate_index"}),
    );
    assert!(app.recorded(&format!("checkpoint {practice} aggregate_index")));
    app.caught_up();
    let retry = app.err(
        "projector_retry",
        json!({"practiceId": practice, "projectorName": "aggregate_index"}),
    );
    assert_eq!(retry["code"], "conflict");
    let skip = app.err(
        "projector_skip",
        json!({"practiceId": practice, "projectorName": "aggregate_index",
               "request": {"eventId": "not-failed-on", "reason": "test"}}),
    );
    assert_eq!(
        skip["code"], "conflict",
        "only the event a failed projector is stuck on: {skip}"
    );
    let unknown = app.err(
        "projector_reset",
        json!({"practiceId": practice, "projectorName": "nope"}),
    );
    assert_eq!(unknown["code"], "unknown_projector");
    assert_eq!(unknown["details"][0]["path"], "/projectorName");
    assert_eq!(
        app.err(
            "projector_retry",
            json!({"practiceId": practice, "projectorName": "nope"})
        )["code"],
        "unknown_projector"
    );

    app.view_as("fran.frontdesk");
    let forbidden = app.err(
        "projector_reset",
        json!({"practiceId": practice, "projectorName": "daily_activity"}),
    );
    assert_eq!(forbidden["code"], "forbidden");
}

#[test]
fn live_updates_reach_the_window() {
    let (app, practices) = TestApp::seeded();
    assert!(
        app.recorded(&format!("appended {}", practices[0])),
        "seeding announces appends"
    );
    assert!(
        app.recorded("checkpoint "),
        "the runner announces checkpoint moves"
    );

    // Another process appending to the same SQLite file (another store handle stands in for
    // it): the window hears of it too.
    let url = format!("sqlite://{}", app.dir.path().join("embedded.db").display());
    let stored = tauri::async_runtime::block_on(async {
        let other = chronicle::Store::open(&url).await.unwrap();
        let event = chronicle::NewEvent::new(
            practices[0].as_str(),
            "patient",
            "from-another-process",
            "patient.created",
            json!({"firstName": "Otto", "lastName": "Process", "dateOfBirth": "1980-01-01"}),
            chronicle::ActorType::System,
        );
        other
            .append(&chronicle::Principal::System, event)
            .await
            .unwrap()
    });
    assert!(
        app.recorded(&format!("appended {} {}", practices[0], stored.seq)),
        "another process's append reaches the window"
    );
}

#[test]
fn settings_persist_and_a_store_that_cannot_open_leaves_the_old_one() {
    let app = TestApp::fresh();
    let settings = app.ok("settings_get", json!({}));
    assert_eq!(
        settings,
        json!({"storeLocation": null, "identity": null, "theme": "system", "recentPractices": []})
    );

    let mut next = settings.clone();
    next["theme"] = json!("dark");
    next["recentPractices"] = json!(["p-2", "p-1", "p-2"]);
    let saved = app.ok(
        "settings_set",
        json!({"settings": next, "storePassword": null}),
    );
    assert_eq!(saved["recentPractices"], json!(["p-2", "p-1"]));
    assert_eq!(
        app.saved.lock().unwrap().theme,
        chronicle_app::settings::Theme::Dark
    );

    let mut blank = saved.clone();
    blank["identity"] = json!("   ");
    let error = app.err(
        "settings_set",
        json!({"settings": blank, "storePassword": null}),
    );
    assert_eq!(
        (error["code"].as_str(), error["details"][0]["path"].as_str()),
        (Some("invalid_settings"), Some("/identity"))
    );
    let bad_theme = app
        .call(
            "settings_set",
            json!({"settings": {"theme": "purple"}, "storePassword": null}),
        )
        .unwrap_err();
    assert!(
        bad_theme.as_str().unwrap_or_default().contains("purple"),
        "{bad_theme}"
    );

    let before = app.ok("store_info", json!({}))["location"].clone();
    for location in [
        "postgres://nobody@127.0.0.1:1/none",
        "mysql://x/y",
        "sqlite:///proc/no/such/dir/x.db",
    ] {
        let mut moved = saved.clone();
        moved["storeLocation"] = json!(location);
        let error = app.err(
            "settings_set",
            json!({"settings": moved, "storePassword": null}),
        );
        assert!(
            ["unavailable", "invalid_url"].contains(&error["code"].as_str().unwrap()),
            "{location}: {error}"
        );
        assert_eq!(
            app.ok("store_info", json!({}))["location"],
            before,
            "the old store stays open"
        );
        assert_eq!(
            app.ok("settings_get", json!({}))["storeLocation"],
            Value::Null,
            "settings unchanged"
        );
    }

    let other = app.dir.path().join("other.db");
    let mut moved = saved.clone();
    moved["storeLocation"] = json!(format!("sqlite://{}", other.display()));
    app.ok(
        "settings_set",
        json!({"settings": moved, "storePassword": null}),
    );
    let info = app.ok("store_info", json!({}));
    assert!(info["location"].as_str().unwrap().ends_with("other.db"));
    assert!(app.recorded("store sqlite"));
    assert!(other.exists());
}

#[test]
fn a_postgres_password_is_used_but_never_saved() {
    let url = chronicle_testing::pg_admin_url();
    let app = TestApp::fresh();
    let mut parsed = url::Url::parse(&url).unwrap();
    parsed.set_password(Some("s3cret:with/odd@chars")).unwrap();
    let mut settings = app.ok("settings_get", json!({}));
    settings["storeLocation"] = json!(parsed.to_string());
    let saved = app.ok(
        "settings_set",
        json!({"settings": settings, "storePassword": null}),
    );
    let location = saved["storeLocation"].as_str().unwrap();
    assert!(
        !location.contains("s3cret"),
        "saved without the password: {location}"
    );
    let on_disk = serde_json::to_string(&*app.saved.lock().unwrap()).unwrap();
    assert!(!on_disk.contains("s3cret"), "{on_disk}");
    assert_eq!(app.ok("store_info", json!({}))["backend"], "postgres");

    // The same password given as a query parameter is a password too.
    let mut as_query = url::Url::parse(&url).unwrap();
    as_query.set_query(Some("application_name=chronicle&password=qu3ry-secret"));
    settings["storeLocation"] = json!(as_query.to_string());
    let saved = app.ok(
        "settings_set",
        json!({"settings": settings, "storePassword": null}),
    );
    let location = saved["storeLocation"].as_str().unwrap();
    assert!(
        !location.contains("qu3ry-secret") && location.contains("application_name=chronicle"),
        "saved without the password, with the other parameters: {location}"
    );
    let on_disk = serde_json::to_string(&*app.saved.lock().unwrap()).unwrap();
    assert!(!on_disk.contains("qu3ry-secret"), "{on_disk}");
    assert!(
        !app.ok("store_info", json!({}))["location"]
            .as_str()
            .unwrap()
            .contains("qu3ry-secret"),
        "nor shown"
    );
}

#[test]
fn a_saved_location_that_fails_at_start_opens_the_embedded_store_and_says_why() {
    let app = TestApp::start(Settings {
        store_location: Some("postgres://nobody@127.0.0.1:1/none".into()),
        ..Settings::default()
    });
    let info = app.ok("store_info", json!({}));
    assert_eq!(info["backend"], "sqlite");
    assert_eq!(info["startupError"]["code"], "unavailable");
    assert!(
        info["startupError"]["message"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1"),
        "{info}"
    );
}

/// The HTTP server over the same store file as `app`, answering `GET path` as `user`.
struct HttpEdge {
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl HttpEdge {
    fn start(app: &TestApp) -> Self {
        let url = format!("sqlite://{}", app.dir.path().join("embedded.db").display());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let base = tauri::async_runtime::block_on(async move {
            let store = chronicle::Store::open(&url).await.unwrap();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            let options = chronicle_cli::http::ApiOptions::for_store(&store);
            tauri::async_runtime::spawn(chronicle_cli::http::serve(
                listener,
                store,
                options,
                async move {
                    let _ = stopped.await;
                },
            ));
            base
        });
        Self {
            base,
            stop: Some(stop),
        }
    }

    /// The body of a 2xx answer, or the `error` object of any other.
    fn get(&self, user: &str, path: &str) -> Result<Value, Value> {
        let url = format!("{}{path}", self.base);
        let user = user.to_string();
        tauri::async_runtime::block_on(async move {
            let response = reqwest::Client::new()
                .get(url)
                .header("x-user-id", user)
                .send()
                .await
                .unwrap();
            let ok = response.status().is_success();
            let body: Value = response.json().await.unwrap();
            if ok {
                Ok(body)
            } else {
                Err(body["error"].clone())
            }
        })
    }
}

impl Drop for HttpEdge {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Figures computed from the clock at the moment of the call (lag in time, recent rate):
/// two calls a few milliseconds apart differ in them by design, so they are set aside.
fn without_clock_figures(mut status: Value) -> Value {
    for row in status["projectors"].as_array_mut().unwrap() {
        row["lagSeconds"] = Value::Null;
        row["eventsPerSecond"] = Value::Null;
    }
    status
}

#[test]
fn the_http_and_desktop_edges_answer_the_same_json_for_the_same_operation() {
    let (app, practices) = TestApp::seeded();
    let practice = &practices[0];
    app.view_as("olivia.owner");
    app.caught_up();
    let http = HttpEdge::start(&app);
    let same = |what: &str, desktop: Result<Value, Value>, over_http: Result<Value, Value>| {
        assert_eq!(
            desktop, over_http,
            "{what}: the desktop command and the HTTP route answer the same JSON"
        );
        let answer = desktop.unwrap_or_else(|error| error);
        assert!(
            answer.as_object().is_some_and(|o| !o.is_empty()),
            "{what}: a real answer, not an empty one: {answer}"
        );
    };

    assert!(
        app.call("practices", json!({}))
            .is_ok_and(|p| p["practices"].as_array().unwrap().len() == 3)
    );
    same(
        "practices",
        app.call("practices", json!({})),
        http.get("olivia.owner", "/v1/practices"),
    );
    same(
        "a timeline page",
        app.call(
            "timeline",
            json!({"practiceId": practice, "query": {"eventTypes": ["patient.created", "patient.updated"], "direction": "backward", "limit": 7}}),
        ),
        http.get(
            "olivia.owner",
            &format!("/v1/practices/{practice}/events?eventTypes=patient.created,patient.updated&direction=backward&limit=7"),
        ),
    );
    let page = app.ok(
        "aggregates",
        json!({"practiceId": practice, "query": {"aggregateType": "patient", "limit": 1}}),
    );
    let patient = page["items"][0]["aggregateId"]
        .as_str()
        .unwrap()
        .to_string();
    same(
        "an aggregate's events",
        app.call(
            "aggregate_events",
            json!({"practiceId": practice, "aggregateType": "patient", "aggregateId": patient, "query": {"limit": 50}}),
        ),
        http.get(
            "olivia.owner",
            &format!("/v1/practices/{practice}/aggregates/patient/{patient}/events?limit=50"),
        ),
    );
    same(
        "projector status",
        app.call(
            "projector_status",
            json!({"query": {"practiceId": practice}}),
        )
        .map(without_clock_figures),
        http.get(
            "olivia.owner",
            &format!("/v1/practices/{practice}/projectors"),
        )
        .map(without_clock_figures),
    );
    same(
        "every practice's projector status",
        app.call("projector_status", json!({"query": {}}))
            .map(without_clock_figures),
        http.get("olivia.owner", "/v1/projectors")
            .map(without_clock_figures),
    );

    // Errors: the same code, message and details.
    same(
        "an unknown projector",
        app.call(
            "projector_retry",
            json!({"practiceId": practice, "projectorName": "nope"}),
        ),
        // The same operation over HTTP is a POST; the error is the layer's either way.
        tauri::async_runtime::block_on(async {
            let response = reqwest::Client::new()
                .post(format!(
                    "{}/v1/practices/{practice}/projectors/nope/retry",
                    http.base
                ))
                .header("x-user-id", "olivia.owner")
                .send()
                .await
                .unwrap();
            let body: Value = response.json().await.unwrap();
            Err(body["error"].clone())
        }),
    );
    same(
        "a page size out of range",
        app.call(
            "timeline",
            json!({"practiceId": practice, "query": {"limit": 5000}}),
        ),
        http.get(
            "olivia.owner",
            &format!("/v1/practices/{practice}/events?limit=5000"),
        ),
    );
    // Auditors: the head, verify against it, and the check of one export file.
    let head = app.ok("chain_head", json!({"practiceId": practice}));
    same(
        "the chain head",
        Ok(head.clone()),
        http.get("olivia.owner", &format!("/v1/practices/{practice}/head")),
    );
    same(
        "verify against an anchor",
        app.call(
            "verify",
            json!({"practiceId": practice, "query": {"againstHash": head["hash"], "againstSeq": head["seq"]}}),
        ),
        http.get(
            "olivia.owner",
            &format!(
                "/v1/practices/{practice}/verify?againstHash={}&againstSeq={}",
                head["hash"].as_str().unwrap(),
                head["seq"]
            ),
        ),
    );
    let file = export_dir(&app).join("edges.ndjson");
    app.ok(
        "export_practice",
        json!({"practiceId": practice, "request": {"filter": {"eventTypes": ["patient.created"]}}, "path": file}),
    );
    let upload = std::fs::read(&file).unwrap();
    same(
        "the check of an export file",
        app.call("check_export_file", json!({"path": file})),
        tauri::async_runtime::block_on(async {
            let response = reqwest::Client::new()
                .post(format!("{}/v1/exports/check", http.base))
                .header("x-user-id", "olivia.owner")
                .body(upload)
                .send()
                .await
                .unwrap();
            assert!(
                response.status().is_success(),
                "the check endpoint: {}",
                response.status()
            );
            Ok(response.json::<Value>().await.unwrap())
        }),
    );
    app.view_as("mallory");
    same(
        "a practice the caller may not see",
        app.call("timeline", json!({"practiceId": practice, "query": {}})),
        http.get("mallory", &format!("/v1/practices/{practice}/events")),
    );
    let refused = app.call("practices", json!({})).unwrap();
    assert_eq!(
        refused,
        json!({"practices": []}),
        "a stranger sees nothing on either edge"
    );
}

#[test]
fn an_opened_practice_moves_to_the_front_of_the_recent_ones() {
    let app = TestApp::fresh();
    for practice in ["a", "b", "a", "c"] {
        app.ok("practice_opened", json!({"practiceId": practice}));
    }
    assert_eq!(
        app.ok("settings_get", json!({}))["recentPractices"],
        json!(["c", "a", "b"])
    );
    assert_eq!(
        app.saved.lock().unwrap().recent_practices,
        ["c", "a", "b"],
        "the rule's result is what is saved"
    );
}

#[test]
fn a_wrong_postgres_password_is_refused_clearly_and_the_old_store_stays_open() {
    let app = TestApp::fresh();
    let (url, password) =
        tauri::async_runtime::block_on(chronicle_testing::password_role_database());
    let before = app.ok("store_info", json!({}))["location"].clone();
    let mut settings = app.ok("settings_get", json!({}));
    settings["storeLocation"] = json!(url);
    let refused = app.err(
        "settings_set",
        json!({"settings": settings, "storePassword": "not-the-password"}),
    );
    assert_eq!(refused["code"], "unavailable", "{refused}");
    let message = refused["message"].as_str().unwrap();
    assert!(
        message.contains("password authentication failed") && !message.contains("not-the-password"),
        "says why, without the password: {message}"
    );
    assert_eq!(
        app.ok("store_info", json!({}))["location"],
        before,
        "the store it had stays open"
    );
    assert_eq!(
        app.ok("settings_get", json!({}))["storeLocation"],
        Value::Null
    );

    let opened = app.ok(
        "settings_set",
        json!({"settings": settings, "storePassword": password}),
    );
    assert_eq!(
        opened["storeLocation"],
        json!(url),
        "saved without the password"
    );
    assert_eq!(app.ok("store_info", json!({}))["backend"], "postgres");
    let on_disk = serde_json::to_string(&*app.saved.lock().unwrap()).unwrap();
    assert!(!on_disk.contains(&password), "{on_disk}");
}

/// A folder for export files inside the test's own folder.
fn export_dir(app: &TestApp) -> std::path::PathBuf {
    let dir = app.dir.path().join("exports");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The names in `dir`, sorted: what an export left behind.
fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// How many exports the practice records (`audit.export_created`), as its owner sees them.
fn recorded_exports(app: &TestApp, practice: &str) -> usize {
    let page = app.ok(
        "timeline",
        json!({"practiceId": practice, "query": {"eventTypes": ["audit.export_created"], "limit": 500}}),
    );
    page["items"].as_array().unwrap().len()
}

#[test]
fn an_export_written_by_the_app_verifies_offline_and_is_recorded() {
    let (app, practices) = TestApp::seeded();
    let practice = &practices[0];
    let dir = export_dir(&app);
    // Any member may export what they may read, a viewer included.
    app.view_as("victor.viewer");
    let head_before = app.ok("chain_head", json!({"practiceId": practice}));

    let ndjson = dir.join("whole.ndjson");
    let manifest = app.ok(
        "export_practice",
        json!({"practiceId": practice, "request": {"format": "ndjson"}, "path": ndjson}),
    );
    assert_eq!(manifest["practiceId"], json!(practice));
    assert_eq!(manifest["exportedBy"], "victor.viewer");
    assert_eq!(
        manifest["eventCount"], head_before["seq"],
        "an unfiltered export holds every event up to the head: {manifest}"
    );
    assert_eq!(manifest["headHash"], head_before["hash"]);
    assert_eq!(
        files_in(&dir),
        ["whole.ndjson"],
        "the file, and no partial one"
    );
    let total = manifest["eventCount"].as_i64().unwrap();
    assert!(
        app.recorded(&format!(
            "export {} {practice} {total}/{total}",
            manifest["exportId"].as_str().unwrap()
        )),
        "the window hears the export reach its total"
    );
    let check = app.ok("check_export_file", json!({"path": ndjson}));
    assert_eq!(check["intact"], true, "{check}");
    assert_eq!(check["format"], "ndjson");
    assert_eq!(check["eventsChecked"], total);
    assert_eq!(check["manifest"]["digest"], manifest["digest"]);
    assert_eq!(check["gaps"], json!([]));

    // A CSV of one event type: the manifest beside it, the gaps between its events listed.
    let csv = dir.join("patients.csv");
    let csv_manifest = app.ok(
        "export_practice",
        json!({"practiceId": practice, "request": {"format": "csv", "csvBom": true, "filter": {"eventTypes": ["patient.created"]}}, "path": csv}),
    );
    assert_eq!(
        files_in(&dir),
        ["patients.csv", "patients.csv.manifest.json", "whole.ndjson"]
    );
    let bytes = std::fs::read(&csv).unwrap();
    assert!(bytes.starts_with("\u{feff}seq,".as_bytes()), "BOM first");
    let check = app.ok("check_export_file", json!({"path": csv}));
    assert_eq!(check["intact"], true, "{check}");
    assert_eq!(check["eventsChecked"], csv_manifest["eventCount"]);
    assert!(
        !check["gaps"].as_array().unwrap().is_empty(),
        "a filtered export has gaps, listed, not errors: {check}"
    );

    // One aggregate, as JSON.
    let patient = app.ok(
        "aggregates",
        json!({"practiceId": practice, "query": {"aggregateType": "patient", "limit": 1}}),
    )["items"][0]
        .clone();
    let json_path = dir.join("patient.json");
    let aggregate_manifest = app.ok(
        "export_practice",
        json!({"practiceId": practice, "request": {"format": "json", "filter": {"aggregateType": "patient", "aggregateId": patient["aggregateId"]}}, "path": json_path}),
    );
    assert_eq!(aggregate_manifest["eventCount"], patient["version"]);
    let check = app.ok("check_export_file", json!({"path": json_path}));
    assert_eq!(
        (check["intact"].clone(), check["format"].clone()),
        (json!(true), json!("json")),
        "{check}"
    );

    // The HTML report is for reading and printing; the check says to use another format.
    let html = dir.join("report.html");
    let html_manifest = app.ok(
        "export_practice",
        json!({"practiceId": practice, "request": {"format": "html"}, "path": html}),
    );
    let report = std::fs::read_to_string(&html).unwrap();
    assert!(report.to_ascii_lowercase().starts_with("<!doctype html"));
    assert!(
        report.contains(html_manifest["digest"].as_str().unwrap()),
        "the report shows its digest"
    );
    let refused = app.err("check_export_file", json!({"path": html}));
    assert_eq!(
        (
            refused["code"].as_str(),
            refused["details"][0]["path"].as_str()
        ),
        (Some("invalid"), Some("/path")),
        "{refused}"
    );
    assert!(
        refused["message"].as_str().unwrap().contains("HTML"),
        "{refused}"
    );

    // Each export is itself an event of the practice, by its exporter.
    app.view_as("olivia.owner");
    assert_eq!(recorded_exports(&app, practice), 4);
    let head_after = app.ok("chain_head", json!({"practiceId": practice}));
    assert_eq!(
        head_after["seq"].as_i64().unwrap(),
        head_before["seq"].as_i64().unwrap() + 4,
        "the four exports moved the head: {head_after}"
    );

    // The live store still holds the chain up to the head the first export recorded.
    let anchored = app.ok(
        "verify",
        json!({"practiceId": practice, "query": {"againstHash": manifest["headHash"], "againstSeq": manifest["headSeq"]}}),
    );
    assert_eq!(anchored["anchor"]["held"], true, "{anchored}");
    assert!(anchored["firstBreak"].is_null());
    let plain = app.ok("verify", json!({"practiceId": practice}));
    assert!(plain["anchor"].is_null(), "no anchor asked, none answered");
    assert_eq!(plain["eventsChecked"], head_after["seq"]);
    let foreign = "ab".repeat(32);
    let not_held = app.ok(
        "verify",
        json!({"practiceId": practice, "query": {"againstHash": foreign}}),
    );
    assert_eq!(not_held["anchor"]["held"], false, "{not_held}");
    let bad_anchor = app.err(
        "verify",
        json!({"practiceId": practice, "query": {"againstHash": "not-a-hash"}}),
    );
    assert_eq!(
        (
            bad_anchor["code"].as_str(),
            bad_anchor["details"][0]["path"].as_str()
        ),
        (Some("invalid"), Some("/againstHash"))
    );
}

#[test]
fn export_errors_name_their_cause_record_nothing_and_leave_no_file() {
    let (app, practices) = TestApp::seeded();
    let practice = &practices[0];
    let dir = export_dir(&app);
    let target = dir.join("out.ndjson");
    let export = |practice_id: &str, path: Value| {
        app.err(
            "export_practice",
            json!({"practiceId": practice_id, "request": {"format": "ndjson"}, "path": path}),
        )
    };

    // No identity yet.
    assert_eq!(export(practice, json!(target))["code"], "identity_required");
    app.view_as("olivia.owner");
    let exports_before = recorded_exports(&app, practice);

    assert_eq!(
        export("no-such-practice", json!(target))["code"],
        "practice_not_found"
    );
    app.view_as("mallory");
    assert_eq!(
        export(practice, json!(target))["code"],
        "practice_not_found",
        "a non-member learns nothing, and gets no file"
    );
    for (cmd, args) in [
        ("chain_head", json!({"practiceId": practice})),
        (
            "verify",
            json!({"practiceId": practice, "query": {"againstHash": "ab".repeat(32)}}),
        ),
    ] {
        assert_eq!(
            app.err(cmd, args)["code"],
            "practice_not_found",
            "{cmd} hides the practice from a non-member"
        );
    }
    app.view_as("olivia.owner");
    for (path, why) in [
        (json!("relative.ndjson"), "absolute"),
        (json!(""), "absolute"),
        (json!(dir), "folder"),
        (
            json!(dir.join("missing").join("out.ndjson")),
            "does not exist",
        ),
    ] {
        let error = export(practice, path.clone());
        assert_eq!(
            (error["code"].as_str(), error["details"][0]["path"].as_str()),
            (Some("invalid"), Some("/path")),
            "{path}: {error}"
        );
        assert!(
            error["details"][0]["message"]
                .as_str()
                .unwrap()
                .contains(why),
            "{path}: says why: {error}"
        );
    }
    assert_eq!(
        files_in(&dir),
        Vec::<String>::new(),
        "no file, partial or whole"
    );
    assert_eq!(
        recorded_exports(&app, practice),
        exports_before,
        "a refused export is not recorded as one"
    );

    // Arguments that do not fit the request's type never reach the command.
    let unknown_format = app
        .call(
            "export_practice",
            json!({"practiceId": practice, "request": {"format": "xml"}, "path": target}),
        )
        .unwrap_err();
    assert!(
        unknown_format.as_str().unwrap_or_default().contains("xml"),
        "{unknown_format}"
    );

    // Cancelling what is not running: too late, and said so.
    let late = app.err("export_cancel", json!({"exportId": "no-such-export"}));
    assert_eq!(
        (late["code"].as_str(), late["details"][0]["path"].as_str()),
        (Some("not_found"), Some("/exportId"))
    );

    // Checking something that is not an export.
    let missing = app.err(
        "check_export_file",
        json!({"path": dir.join("nothing.ndjson")}),
    );
    assert_eq!(
        (
            missing["code"].as_str(),
            missing["details"][0]["path"].as_str()
        ),
        (Some("invalid"), Some("/path")),
        "{missing}"
    );
    let text = dir.join("notes.txt");
    std::fs::write(&text, "just some notes\n").unwrap();
    let not_export = app.err("check_export_file", json!({"path": text}));
    assert!(
        not_export["message"]
            .as_str()
            .unwrap()
            .contains("not a Chronicle export"),
        "{not_export}"
    );
    let csv_alone = dir.join("alone.csv");
    std::fs::write(&csv_alone, "seq,id\n1,x\n").unwrap();
    let no_manifest = app.err("check_export_file", json!({"path": csv_alone}));
    assert!(
        no_manifest["message"]
            .as_str()
            .unwrap()
            .contains("manifest.json"),
        "a CSV without its manifest says where the manifest belongs: {no_manifest}"
    );
}

#[test]
fn a_cancelled_export_leaves_no_file() {
    let (app, practices) = TestApp::seeded();
    let practice = &practices[0];
    let dir = export_dir(&app);
    let target = dir.join("cancelled.csv");
    app.view_as("olivia.owner");
    // The window cancels as soon as it hears of the export (through the command, as the
    // window does), before its first page is checked for a cancel.
    let webview = app.webview.clone();
    let (cancelled_tx, cancelled) = std::sync::mpsc::channel();
    *app.live.1.lock().unwrap() = Some(Box::new(move |export_id: &str| {
        // This runs on the runtime thread writing the export: hand its other tasks to
        // another thread while the cancel command runs.
        let answer = tokio::task::block_in_place(|| {
            invoke(&webview, "export_cancel", json!({"exportId": export_id}))
        });
        cancelled_tx.send(answer).unwrap();
    }));
    let error = app.err(
        "export_practice",
        json!({"practiceId": practice, "request": {"format": "csv"}, "path": target}),
    );
    assert_eq!(
        cancelled.recv_timeout(Duration::from_secs(10)).unwrap(),
        Ok(Value::Null),
        "the cancel reached a running export"
    );
    assert_eq!(error["code"], "conflict", "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("cancelled"),
        "{error}"
    );
    assert_eq!(
        files_in(&dir),
        Vec::<String>::new(),
        "neither the CSV, its manifest nor a partial file is left"
    );
    // Finished, it can no longer be cancelled.
    let export_id = app
        .live
        .0
        .lock()
        .unwrap()
        .iter()
        .find_map(|l| {
            l.strip_prefix("export ")
                .map(|r| r.split(' ').next().unwrap().to_string())
        })
        .unwrap();
    assert_eq!(
        app.err("export_cancel", json!({"exportId": export_id}))["code"],
        "not_found"
    );
}
#[test]
fn dry_runs_and_generation_answer_through_the_commands() {
    let (app, practices) = TestApp::seeded();
    let practice = &practices[0];
    app.view_as("fran.frontdesk");
    let head = || {
        app.ok(
            "timeline",
            json!({"practiceId": practice, "query": timeline_query(json!({}), "backward", 1)}),
        )["items"][0]["seq"]
            .as_i64()
            .unwrap()
    };
    let before = head();
    let patient = json!({"practiceId": practice, "aggregateType": "patient", "aggregateId": "pat-dry",
        "eventType": "patient.created", "payload": {"firstName": "Ada", "lastName": "Byron", "dateOfBirth": "1815-12-10"},
        "actorType": "human"});
    let planned = app.ok("append_dry_run", json!({"event": patient}));
    assert_eq!(planned["seq"].as_i64().unwrap(), before + 1, "{planned}");
    assert_eq!(planned["actorId"], "fran.frontdesk");
    let batch = app.ok(
        "append_batch_dry_run",
        json!({"batch": {"events": [patient, patient]}}),
    );
    assert_eq!(batch["events"][1]["version"], 2, "{batch}");
    assert_eq!(head(), before, "a dry run writes nothing");

    let generated = app.ok(
        "generate_events",
        json!({"practiceId": practice, "request": {"eventTypes": ["patient.created", "task.created"], "count": 300, "seed": 5}}),
    );
    assert_eq!(generated["written"], 300, "{generated}");
    assert_eq!(generated["seed"], 5);
    assert!(!generated["canceled"].as_bool().unwrap());
    let total: i64 = generated["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["count"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 300, "the counts add up: {generated}");
    assert_eq!(head(), before + 300);
    assert!(
        app.recorded(&format!("generated {practice} 300/300")),
        "the window heard the progress"
    );
    assert_eq!(
        app.ok("generate_cancel", json!({})),
        json!(false),
        "nothing to cancel once it finished"
    );

    app.view_as("victor.viewer");
    assert_eq!(
        app.err("append_dry_run", json!({"event": patient}))["code"],
        "forbidden",
        "a viewer's dry run is refused as the append would be"
    );
    assert_eq!(
        app.err(
            "generate_events",
            json!({"practiceId": practice, "request": {"count": 10}})
        )["code"],
        "forbidden"
    );
    assert_eq!(
        app.err(
            "generate_events",
            json!({"practiceId": practice, "request": {"count": 0}})
        )["details"][0]["path"],
        "/count"
    );
}

#[test]
fn a_running_generation_stops_before_its_next_batch_when_canceled() {
    let (app, practices) = TestApp::seeded();
    let practice = practices[0].clone();
    app.view_as("olivia.owner");
    let state = app._app.state::<AppState>();
    let request: chronicle::api::GenerateRequest = serde_json::from_value(
        json!({"eventTypes": ["patient.created"], "count": 100000, "seed": 3}),
    )
    .unwrap();
    let outcome = std::thread::scope(|scope| {
        let running = scope
            .spawn(|| tauri::async_runtime::block_on(state.generate_events(&practice, request)));
        assert!(
            app.recorded(&format!("generated {practice} ")),
            "the first batch's progress reached the window"
        );
        assert_eq!(
            app.ok("generate_cancel", json!({})),
            json!(true),
            "a generation was running to cancel"
        );
        running.join().unwrap()
    })
    .expect("a canceled generation still answers what it wrote");
    assert!(outcome.canceled, "{outcome:?}");
    assert!(
        outcome.written > 0 && outcome.written < 100_000,
        "it stopped early, keeping what it wrote: {outcome:?}"
    );
    assert_eq!(outcome.written % 2000, 0, "whole batches only: {outcome:?}");
}
