//! The OpenAPI document: the paths come from the router itself ([`super::bounded_routes`]
//! registers each handler with its annotation); [`complete`] then writes in what the engine
//! enforces (its field rules from [`chronicle::contract`], this store's registry and limits),
//! so the document says exactly what the server accepts.

use std::sync::Arc;

use axum::{Extension, Json};
use chronicle::Store;
use chronicle::contract::{
    body_field_schema, event_type_list_schema, field_schema, payload_schema, type_name_schema,
};
use chronicle::rules::MAX_FILTER_EVENT_TYPES;
use serde_json::{Map, Value, json};
use utoipa::OpenApi;

/// The document the router was built with.
#[derive(Clone)]
pub struct Document(pub Arc<Value>);

/// Chronicle's HTTP API: title, description and the schemas no operation names directly.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Chronicle API",
        description = "Append-only, multi-tenant event store. Every call except /healthz and /openapi.json \
                       needs the x-user-id header, which a trusted gateway sets. Errors are \
                       {\"error\": WireError}; WireError.code is one of ErrorCode.",
    ),
    components(schemas(
        chronicle::ErrorCode,
        chronicle::ActorType,
        chronicle::Direction,
        chronicle::Appended,
        chronicle::CheckpointMoved,
        chronicle::access::Capabilities,
    ))
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", responses((status = 200, description = "OpenAPI 3.1 document", body = Object)))]
pub async fn document(Extension(Document(document)): Extension<Document>) -> Json<Value> {
    Json(document.as_ref().clone())
}

/// The routes of [`super::streaming_routes`]: open as long as the client reads, so never
/// cut off by the request time limit.
const STREAMING_PATHS: [&str; 3] = [
    "/v1/practices/{practiceId}/live",
    "/v1/practices/{practiceId}/projectors/live",
    "/v1/practices/{practiceId}/exports",
];

/// The document as served: the routes' own entries completed with the engine's rules, the
/// payload schemas of `store`'s registry and its limits.
pub fn complete(routes: &utoipa::openapi::OpenApi, store: &Store) -> Value {
    let mut document = serde_json::to_value(routes).expect("the OpenAPI document serializes");
    let request_schemas = request_body_schemas(&document);
    if let Some(Value::Object(paths)) = document.get_mut("paths") {
        for (path, item) in paths.iter_mut() {
            let Value::Object(operations) = item else {
                continue;
            };
            let streams = STREAMING_PATHS.contains(&path.as_str());
            for (method, operation) in operations.iter_mut() {
                constrain_parameters(path, operation);
                add_edge_statuses(method, streams, operation);
            }
        }
    }
    let schemas = &mut document["components"]["schemas"];
    for name in &request_schemas {
        if let Some(Value::Object(schema)) = schemas.get_mut(name) {
            constrain_properties(schema);
        }
    }
    schemas["NewEvent"] = new_event_schema(&schemas["NewEvent"], store);
    schemas["BatchRequest"]["properties"]["events"]["minItems"] = json!(1);
    schemas["BatchRequest"]["properties"]["events"]["maxItems"] =
        json!(store.options().max_batch_events);
    // `null` is read as absent: every type.
    schemas["GenerateRequest"]["properties"]["eventTypes"]["type"] = json!(["array", "null"]);
    schemas["GenerateRequest"]["properties"]["eventTypes"]["items"] = json!({
        "enum": appendable_types(store),
    });
    schemas["GenerateRequest"]["properties"]["seed"]["maximum"] = json!(u64::MAX);
    schemas["GenerateRequest"]["properties"]["seed"]["format"] = json!("uint64");
    for (path, events) in [
        ("/v1/practices/{practiceId}/live", live_events()),
        (
            "/v1/practices/{practiceId}/projectors/live",
            projector_events(),
        ),
    ] {
        document["paths"][path]["get"]["responses"]["200"]["content"]["text/event-stream"]["schema"] =
            events;
    }
    document
}

/// Every component schema a request body names, directly or through another one.
fn request_body_schemas(document: &Value) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut pending: Vec<String> = Vec::new();
    let collect = |value: &Value, pending: &mut Vec<String>| {
        let text = value.to_string();
        for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            if let Some(name) = reference.split('"').next() {
                pending.push(name.to_string());
            }
        }
    };
    for item in document["paths"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.values())
    {
        for operation in item.as_object().into_iter().flat_map(|o| o.values()) {
            collect(&operation["requestBody"], &mut pending);
        }
    }
    while let Some(name) = pending.pop() {
        if names.contains(&name) {
            continue;
        }
        collect(&document["components"]["schemas"][&name], &mut pending);
        names.push(name);
    }
    names
}

/// Each parameter the engine checks gets the engine's rule; paging cursors say which position
/// they carry; event type lists are arrays written as one comma-separated string.
fn constrain_parameters(path: &str, operation: &mut Value) {
    let Some(Value::Array(parameters)) = operation.get_mut("parameters") else {
        return;
    };
    for parameter in parameters {
        let name = parameter["name"].as_str().unwrap_or_default().to_string();
        let schema = match name.as_str() {
            "cursor" => json!({ "type": "string", "format": cursor_format(path) }),
            "eventTypes" => {
                parameter["style"] = json!("form");
                parameter["explode"] = json!(false);
                event_type_list_schema()
            }
            "projector" => json!({ "enum": chronicle::projection::builtin_names() }),
            "Last-Event-ID" => json!({ "type": "string", "pattern": "^[0-9]+$(?!\\n)" }),
            "after" => json!({ "type": "integer", "format": "int64", "minimum": 0 }),
            _ => match field_schema(&name) {
                Some(schema) => schema,
                None => continue,
            },
        };
        parameter["schema"] = schema;
    }
}

/// The position a page's cursor carries (the value is opaque to clients: pass back a
/// `nextCursor`). Contract tests generate valid ones from these names.
fn cursor_format(path: &str) -> &'static str {
    match path {
        "/v1/practices/{practiceId}/events"
        | "/v1/events/type/{practiceId}/{eventType}"
        | "/v1/practices/{practiceId}/event-types/{eventType}/events" => "chronicle-cursor-seq",
        "/v1/events/aggregate/{practiceId}/{aggregateType}/{aggregateId}"
        | "/v1/practices/{practiceId}/aggregates/{aggregateType}/{aggregateId}/events" => {
            "chronicle-cursor-version"
        }
        "/v1/practices/{practiceId}/aggregates" => "chronicle-cursor-aggregate",
        "/v1/practices/{practiceId}/aggregates/recent" => "chronicle-cursor-recent",
        other => panic!("{other} takes a cursor: say which position it carries"),
    }
}

/// Properties the engine checks by name get the engine's rule (nullable ones stay nullable).
fn constrain_properties(schema: &mut Map<String, Value>) {
    let Some(Value::Object(properties)) = schema.get_mut("properties") else {
        return;
    };
    for (name, property) in properties.iter_mut() {
        let Some(mut rule) = body_field_schema(name) else {
            continue;
        };
        if property.get("type").is_none() {
            continue;
        }
        if property["type"]
            .as_array()
            .is_some_and(|t| t.contains(&json!("null")))
        {
            rule["type"] = json!([rule["type"].clone(), "null"]);
        }
        if let Some(description) = property.get("description") {
            rule["description"] = description.clone();
        }
        *property = rule;
    }
    if let Some(Value::Object(event_types)) = properties.get_mut("eventTypes")
        && event_types.get("type") == Some(&json!("array"))
    {
        event_types.insert("items".into(), type_name_schema());
        event_types.insert("maxItems".into(), json!(MAX_FILTER_EVENT_TYPES));
    }
}

/// One variant per type an ordinary append may carry: its event type, its aggregate type
/// and its payload schema with the engine's value rules.
fn new_event_schema(generic: &Value, store: &Store) -> Value {
    let variants: Vec<Value> = store
        .registry()
        .types()
        .filter(|entry| entry.appended_by.is_none())
        .map(|entry| {
            let mut variant = generic.clone();
            variant["title"] = json!(entry.event_type);
            variant["description"] = json!(entry.description);
            let properties = &mut variant["properties"];
            properties["eventType"] = json!({ "const": entry.event_type });
            properties["aggregateType"] = json!({ "const": entry.aggregate_type });
            properties["payload"] = payload_schema(&entry.schema);
            variant
        })
        .collect();
    json!({
        "description": "An event as a client asks to append it: one of the registered event types, \
                        each with its own aggregate type and payload schema (GET /v1/registry).",
        "oneOf": variants,
    })
}

fn appendable_types(store: &Store) -> Vec<String> {
    store
        .registry()
        .types()
        .filter(|entry| entry.appended_by.is_none())
        .map(|entry| entry.event_type.clone())
        .collect()
}

/// What the layers around every handler may answer: a request for another host (421), a
/// write or stream from a foreign page (403), and a request over the time limit (503).
fn add_edge_statuses(method: &str, streams: bool, operation: &mut Value) {
    let Some(Value::Object(responses)) = operation.get_mut("responses") else {
        return;
    };
    let error = |description: &str| {
        json!({
            "description": description,
            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } },
        })
    };
    responses
        .entry("421")
        .or_insert_with(|| error("The Host is not this server's (host_not_allowed)"));
    if method != "get" {
        responses.entry("403").or_insert_with(|| {
            error("Sent from another page's origin (origin_not_allowed), or not allowed")
        });
    }
    if !streams {
        responses
            .entry("503")
            .or_insert_with(|| error("Took longer than the server's request time limit (timeout)"));
    }
}

fn sse_event(name: &str, data: &str, id: Option<Value>) -> Value {
    let mut properties = json!({
        "event": { "const": name },
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": { "$ref": format!("#/components/schemas/{data}") },
        },
    });
    let mut required = vec!["event", "data"];
    if let Some(id) = id {
        properties["id"] = id;
        required.push("id");
    }
    json!({
        "type": "object",
        "title": name,
        "description": format!("`event: {name}`; its data is a {data} (JSON)"),
        "required": required,
        "properties": properties,
    })
}

/// One event of the practice's live stream.
fn live_events() -> Value {
    sse_event(
        "event",
        "Event",
        Some(json!({ "type": "string", "pattern": "^[0-9]+$", "description": "The event's seq" })),
    )
}

/// One event of the projectors' live status.
fn projector_events() -> Value {
    json!({
        "oneOf": [
            sse_event("status", "ProjectorStatusList", None),
            sse_event("checkpointMoved", "CheckpointMoved", None),
        ],
    })
}
