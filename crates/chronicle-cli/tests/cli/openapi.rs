//! The OpenAPI document is valid OpenAPI and lists every route.

use crate::support::{Backend, TestServer, answer};

#[tokio::test]
async fn openapi_document_is_valid_and_lists_every_route() {
    let s = TestServer::start(Backend::Sqlite).await;
    let (status, document) = answer(s.client.get(format!("{}/openapi.json", s.base))).await;
    assert_eq!(status, 200);
    let parsed: utoipa::openapi::OpenApi =
        serde_json::from_value(document.clone()).expect("the document parses as OpenAPI");
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
        parsed.paths.paths.len(),
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
}
