//! The OpenAPI document lists every route and carries the engine's rules. Schemathesis loads
//! and validates it in the contract test (scripts/contract-test.sh).

use crate::support::{Backend, TestServer, answer};

#[tokio::test]
async fn openapi_document_is_valid_and_lists_every_route() {
    let s = TestServer::start(Backend::Sqlite).await;
    let (status, document) = answer(s.client.get(format!("{}/openapi.json", s.base))).await;
    assert_eq!(status, 200);
    assert!(
        document["openapi"].as_str().unwrap().starts_with("3."),
        "an OpenAPI 3 document"
    );
    let routes = [
        ("post", "/v1/events/append"),
        ("post", "/v1/events/append-batch"),
        (
            "get",
            "/v1/events/aggregate/{practiceId}/{aggregateType}/{aggregateId}",
        ),
        ("get", "/v1/events/type/{practiceId}/{eventType}"),
        ("get", "/v1/practices"),
        ("get", "/v1/practices/{practiceId}"),
        (
            "get",
            "/v1/practices/{practiceId}/aggregates/{aggregateType}/{aggregateId}/events",
        ),
        (
            "get",
            "/v1/practices/{practiceId}/event-types/{eventType}/events",
        ),
        ("get", "/v1/projectors"),
        ("get", "/v1/practices/{practiceId}/events"),
        ("get", "/v1/practices/{practiceId}/events/{eventId}"),
        ("get", "/v1/practices/{practiceId}/aggregates"),
        ("get", "/v1/practices/{practiceId}/verify"),
        ("post", "/v1/practices/{practiceId}/generate"),
        ("get", "/v1/practices/{practiceId}/live"),
        ("get", "/v1/practices/{practiceId}/projectors"),
        ("get", "/v1/practices/{practiceId}/projectors/live"),
        (
            "post",
            "/v1/practices/{practiceId}/projectors/{projector}/reset",
        ),
        (
            "post",
            "/v1/practices/{practiceId}/projectors/{projector}/retry",
        ),
        (
            "post",
            "/v1/practices/{practiceId}/projectors/{projector}/skip",
        ),
        ("post", "/v1/practices/{practiceId}/exports"),
        ("get", "/v1/practices/{practiceId}/head"),
        ("post", "/v1/exports/check"),
        ("get", "/v1/directory/practices"),
        ("get", "/v1/practices/{practiceId}/aggregates/recent"),
        ("get", "/v1/practices/{practiceId}/activity"),
        ("get", "/v1/practices/{practiceId}/members"),
        ("get", "/v1/users"),
        ("get", "/v1/registry"),
        ("get", "/v1/registry/{eventType}"),
        ("get", "/healthz"),
        ("get", "/openapi.json"),
    ];
    for (method, path) in routes {
        assert!(
            document["paths"][path][method].is_object(),
            "{method} {path} is documented"
        );
    }
    assert_eq!(
        document["paths"].as_object().unwrap().len(),
        routes.len(),
        "no undocumented or stale paths"
    );
    for path in ["/v1/events/append", "/v1/events/append-batch"] {
        let parameters = document["paths"][path]["post"]["parameters"].to_string();
        assert!(
            parameters.contains("\"dryRun\""),
            "{path} documents ?dryRun: {parameters}"
        );
    }
    // Every $ref points at a defined schema.
    let text = document.to_string();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap();
        assert!(
            document["components"]["schemas"][name].is_object(),
            "schema {name} is defined"
        );
    }

    // Constraints come from the same query types the server parses, and agree with the engine.
    let parameter = |path: &str, name: &str| -> serde_json::Value {
        document["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{path} documents {name}"))["schema"]
            .clone()
    };
    for path in [
        "/v1/practices/{practiceId}/events",
        "/v1/practices/{practiceId}/aggregates",
        "/v1/practices/{practiceId}/aggregates/recent",
        "/v1/events/type/{practiceId}/{eventType}",
        "/v1/events/aggregate/{practiceId}/{aggregateType}/{aggregateId}",
    ] {
        let limit = parameter(path, "limit");
        assert_eq!(
            (limit["minimum"].as_f64(), limit["maximum"].as_f64()),
            (Some(1.0), Some(chronicle::cursor::MAX_LIMIT as f64)),
            "{path}: limit is documented as the engine enforces it: {limit}"
        );
    }
    assert_eq!(
        parameter("/v1/practices/{practiceId}/events", "afterSeq")["minimum"],
        0
    );
    assert_eq!(
        parameter("/v1/practices/{practiceId}/activity", "fromDay")["format"],
        "date"
    );

    // Ids, type names and identities carry the engine's rules.
    let practice_id = parameter("/v1/practices/{practiceId}/events", "practiceId");
    assert_eq!(practice_id, chronicle::contract::id_schema());
    let user = parameter("/v1/practices", "x-user-id");
    assert_eq!(user, chronicle::contract::user_id_schema());
    assert_eq!(
        parameter("/v1/practices/{practiceId}/events", "cursor")["format"],
        "chronicle-cursor-seq"
    );
    let event_types = parameter("/v1/practices/{practiceId}/events", "eventTypes");
    assert_eq!(event_types["type"], "array", "{event_types}");
    assert_eq!(event_types["maxItems"], 100);

    // The append body is one variant per type an append may carry, with its payload schema.
    let variants = document["components"]["schemas"]["NewEvent"]["oneOf"]
        .as_array()
        .expect("NewEvent is a oneOf of the registered types");
    let store_only: Vec<&str> = chronicle::registry::STORE_APPENDED_TYPES
        .iter()
        .map(|(name, _)| *name)
        .collect();
    let registry = chronicle::registry::Registry::builtin().unwrap();
    assert_eq!(variants.len(), registry.types().count() - store_only.len());
    let patient = variants
        .iter()
        .find(|v| v["properties"]["eventType"]["const"] == "patient.created")
        .expect("patient.created is a variant");
    assert_eq!(patient["properties"]["aggregateType"]["const"], "patient");
    assert_eq!(
        patient["properties"]["payload"]["required"],
        serde_json::json!(["firstName", "lastName", "dateOfBirth"])
    );
    assert!(
        patient["properties"]["payload"]["properties"]["firstName"]["pattern"].is_string(),
        "payload strings carry the control-character rule: {patient}"
    );
    for variant in variants {
        let name = variant["properties"]["eventType"]["const"]
            .as_str()
            .unwrap();
        assert!(
            !store_only.contains(&name),
            "{name} is appended by the store only"
        );
    }
    let batch = &document["components"]["schemas"]["BatchRequest"]["properties"]["events"];
    assert_eq!(
        (batch["minItems"].as_u64(), batch["maxItems"].as_u64()),
        (
            Some(1),
            Some(chronicle::rules::DEFAULT_MAX_BATCH_EVENTS as u64)
        )
    );

    // The live streams describe their events.
    let live = &document["paths"]["/v1/practices/{practiceId}/live"]["get"]["responses"]["200"]["content"]
        ["text/event-stream"]["schema"];
    assert_eq!(live["properties"]["event"]["const"], "event", "{live}");
    let projectors = &document["paths"]["/v1/practices/{practiceId}/projectors/live"]["get"]["responses"]
        ["200"]["content"]["text/event-stream"]["schema"]["oneOf"];
    let names: Vec<&str> = projectors
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["properties"]["event"]["const"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["status", "checkpointMoved"]);

    // Every operation documents what the layers around it may answer.
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            assert!(
                operation["responses"]["421"].is_object(),
                "{method} {path} documents 421"
            );
        }
    }
}
