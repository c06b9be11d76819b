//! The event registry: one JSON Schema (draft 2020-12) per event type. The built-in files
//! under `registry/` are embedded at build time; an extra folder given at open time adds
//! types without a rebuild. Each schema is compiled once, when the registry loads.
//!
//! A registry file is an ordinary JSON Schema for the payload with two extra keywords,
//! `x-event-type` (must equal the file name without `.json`) and `x-aggregate-type`, and the
//! standard `title` and `description`, which the UI shows.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result, Violation};
use crate::rules::{MAX_TYPE_LEN, check_name};

const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";
const BUILTIN: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_registry.rs"));

/// What the registry knows about one event type.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventType {
    /// E.g. `appointment.status_changed`.
    pub event_type: String,
    /// The aggregate type every event of this type must carry.
    pub aggregate_type: String,
    /// Short human title.
    pub title: String,
    /// What the event means.
    pub description: String,
    /// The payload schema as written.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub schema: Value,
    /// Where it came from: `builtin:NAME.json` or a file path.
    pub source: String,
    /// When only the store appends events of this type, which of its operations does (after
    /// its own checks); an ordinary append of it is refused. `None`: anyone allowed may append.
    pub appended_by: Option<String>,
}

/// The event types only the store's own operations append, and which operation.
pub const STORE_APPENDED_TYPES: [(&str, &str); 2] = [
    (
        "projector.event_skipped",
        "the projector skip operation (POST …/projectors/{name}/skip), for the event a projector failed on",
    ),
    (
        "audit.export_created",
        "the store when someone exports (POST …/exports, chronicle export)",
    ),
];

/// Which store operation appends `event_type`, if only the store does.
pub fn appended_by(event_type: &str) -> Option<&'static str> {
    STORE_APPENDED_TYPES
        .iter()
        .find(|(name, _)| *name == event_type)
        .map(|(_, operation)| *operation)
}

struct Entry {
    info: EventType,
    validator: jsonschema::Validator,
}

/// The loaded, compiled set of event types.
pub struct Registry {
    entries: BTreeMap<String, Entry>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("types", &self.entries.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Registry {
    /// The built-in types only.
    pub fn builtin() -> Result<Self> {
        let mut registry = Registry {
            entries: BTreeMap::new(),
        };
        for (name, text) in BUILTIN {
            registry.add(name, text, format!("builtin:{name}"))?;
        }
        Ok(registry)
    }

    /// The built-in types plus every `*.json` file in `dir`. A type defined twice is an
    /// error naming both files.
    pub fn with_extra_dir(dir: &Path) -> Result<Self> {
        let mut registry = Self::builtin()?;
        let read = std::fs::read_dir(dir)
            .map_err(|e| Error::Registry(format!("cannot read folder {}: {e}", dir.display())))?;
        let mut paths: Vec<_> = read
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|ext| ext == "json"))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Error::Registry(format!("cannot read {}: {e}", path.display())))?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            registry.add(&name, &text, path.display().to_string())?;
        }
        Ok(registry)
    }

    fn add(&mut self, file_name: &str, text: &str, source: String) -> Result<()> {
        let fail = |reason: String| Error::Registry(format!("{source}: {reason}"));
        let schema: Value =
            serde_json::from_str(text).map_err(|e| fail(format!("not valid JSON: {e}")))?;
        let text_field = |key: &str| -> Result<String> {
            match schema.get(key) {
                Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
                _ => Err(fail(format!("needs a non-empty string \"{key}\""))),
            }
        };
        let event_type = text_field("x-event-type")?;
        let aggregate_type = text_field("x-aggregate-type")?;
        let title = text_field("title")?;
        let description = text_field("description")?;
        let mut problems = Vec::new();
        check_name("x-event-type", &event_type, MAX_TYPE_LEN, &mut problems);
        check_name(
            "x-aggregate-type",
            &aggregate_type,
            MAX_TYPE_LEN,
            &mut problems,
        );
        if let Some(p) = problems.first() {
            return Err(fail(format!("{} {}", p.path, p.message)));
        }
        if file_name != format!("{event_type}.json") {
            return Err(fail(format!(
                "file name must be {event_type}.json to match its x-event-type {event_type:?}"
            )));
        }
        match schema.get("$schema") {
            None => {}
            Some(Value::String(s)) if s == DRAFT_2020_12 => {}
            Some(other) => {
                return Err(fail(format!(
                    "$schema must be {DRAFT_2020_12:?}, found {other}"
                )));
            }
        }
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&schema)
            .map_err(|e| fail(format!("not a valid JSON Schema: {e}")))?;
        if let Some(existing) = self.entries.get(&event_type) {
            return Err(Error::Registry(format!(
                "event type {event_type:?} is defined twice: in {} and in {source}",
                existing.info.source
            )));
        }
        let info = EventType {
            event_type: event_type.clone(),
            aggregate_type,
            title,
            description,
            schema,
            appended_by: appended_by(&event_type).map(str::to_string),
            source,
        };
        self.entries.insert(event_type, Entry { info, validator });
        Ok(())
    }

    /// Every registered type, sorted by name.
    pub fn types(&self) -> impl Iterator<Item = &EventType> {
        self.entries.values().map(|e| &e.info)
    }

    /// One type, or an [`Error::UnknownEventType`] with the closest names.
    pub fn get(&self, event_type: &str) -> Result<&EventType> {
        self.entries
            .get(event_type)
            .map(|e| &e.info)
            .ok_or_else(|| Error::UnknownEventType {
                event_type: event_type.to_string(),
                suggestions: self.closest(event_type),
            })
    }

    /// Checks the event type exists, the aggregate type matches its registration, and
    /// the payload satisfies its schema (every violation, each with its pointer).
    pub fn validate(&self, event_type: &str, aggregate_type: &str, payload: &Value) -> Result<()> {
        let entry = self
            .entries
            .get(event_type)
            .ok_or_else(|| Error::UnknownEventType {
                event_type: event_type.to_string(),
                suggestions: self.closest(event_type),
            })?;
        if entry.info.aggregate_type != aggregate_type {
            return Err(Error::invalid(
                "/aggregateType",
                format!(
                    "{event_type} events belong to aggregate type {:?}, not {aggregate_type:?}",
                    entry.info.aggregate_type
                ),
            ));
        }
        let violations: Vec<Violation> = entry
            .validator
            .iter_errors(payload)
            .map(|e| Violation::new(e.instance_path().to_string(), e.to_string()))
            .collect();
        if violations.is_empty() {
            Ok(())
        } else {
            Err(Error::InvalidPayload {
                event_type: event_type.to_string(),
                violations,
            })
        }
    }

    /// Registered names most like `wanted`: same aggregate prefix or a small edit away.
    fn closest(&self, wanted: &str) -> Vec<String> {
        let wanted_lower = wanted.to_lowercase();
        let prefix = wanted_lower.split('.').next().unwrap_or_default();
        let mut scored: Vec<(f64, &String)> = self
            .entries
            .keys()
            .map(|name| {
                let mut score = strsim::jaro_winkler(&wanted_lower, name);
                if !prefix.is_empty() && name.split('.').next() == Some(prefix) {
                    score += 0.2;
                }
                (score, name)
            })
            .filter(|(score, _)| *score >= 0.8)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        scored
            .into_iter()
            .take(3)
            .map(|(_, name)| name.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builtin_registry_has_the_seed_and_dental_types() {
        let registry = Registry::builtin().unwrap();
        let names: Vec<_> = registry.types().map(|t| t.event_type.as_str()).collect();
        for wanted in [
            "practice.created",
            "practice.updated",
            "user.created",
            "membership.created",
            "membership.role_changed",
            "patient.created",
            "patient.updated",
            "appointment.requested",
            "appointment.status_changed",
            "message.queued",
            "task.created",
            "ai_action.proposed",
        ] {
            assert!(names.contains(&wanted), "{wanted} must be registered");
        }
    }

    #[test]
    fn unknown_type_suggests_close_names() {
        let registry = Registry::builtin().unwrap();
        let Err(Error::UnknownEventType { suggestions, .. }) = registry.get("patient.create")
        else {
            panic!("patient.create is not registered");
        };
        assert_eq!(
            suggestions.first().map(String::as_str),
            Some("patient.created")
        );
    }

    #[test]
    fn every_payload_violation_is_reported_with_its_pointer() {
        let registry = Registry::builtin().unwrap();
        let err = registry
            .validate(
                "patient.created",
                "patient",
                &json!({"firstName": "", "dateOfBirth": "31/12/1990", "email": "nope"}),
            )
            .unwrap_err();
        let Error::InvalidPayload { violations, .. } = err else {
            panic!("expected InvalidPayload")
        };
        let paths: Vec<_> = violations.iter().map(|v| v.path.as_str()).collect();
        for wanted in ["", "/firstName", "/dateOfBirth", "/email"] {
            assert!(
                paths.contains(&wanted),
                "missing violation at {wanted:?} in {paths:?}"
            );
        }
    }

    #[test]
    fn the_types_only_the_store_appends_are_registered_and_reserved_by_the_append() {
        let registry = Registry::builtin().unwrap();
        let mut marked: Vec<&str> = registry
            .types()
            .filter(|t| t.appended_by.is_some())
            .map(|t| t.event_type.as_str())
            .collect();
        let mut reserved: Vec<&str> = crate::store::OPERATION_EVENT_TYPES
            .iter()
            .map(|(name, _)| *name)
            .collect();
        marked.sort_unstable();
        reserved.sort_unstable();
        assert_eq!(
            marked, reserved,
            "the registry says which types the append refuses"
        );
        assert_eq!(marked.len(), STORE_APPENDED_TYPES.len());
    }
}
