//! A payload from a JSON Schema alone, valid by construction: types, `const` and `enum`,
//! formats (date, date-time, time, email, uuid, uri, hostname, ipv4, ipv6), lengths, bounds
//! and `multipleOf`, `pattern` (strings drawn from the regular expression by `rand_regex`),
//! required and some optional properties, `minProperties`, `dependentRequired`, the
//! `required` lists of `if`/`then`/`else`, nested objects and arrays (`minItems`,
//! `maxItems`, `uniqueItems`), `anyOf`/`oneOf` (one branch) and `allOf` (merged).
//!
//! Where a property's name says what it holds, the value looks like it: first and last
//! names, emails, phone numbers, notes, titles, time zones, addresses, dates of birth,
//! dates near now, and ids of existing aggregates for names like `patientId` or
//! `relatedAppointmentId` ([`References`]). Such a value is used only when it satisfies the
//! property's schema; otherwise the schema alone decides.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Timelike, Utc};
use rand::seq::IndexedRandom;
use rand::{Rng, RngExt};
use serde_json::{Map, Number, Value};

use super::words::{
    CITIES, COUNTRIES, FIRST_NAMES, LAST_NAMES, MODELS, ORGANISATION_SUFFIXES, POSTCODES,
    SENTENCES, STREETS, TASK_TITLES, TEMPLATES, TIMEZONES, WORDS,
};

/// Nesting deeper than this is refused rather than followed (recursive schemas).
const MAX_DEPTH: usize = 16;
/// The most repetitions `rand_regex` draws for `*`, `+` and open `{n,}`.
const MAX_REPEAT: u32 = 16;
/// Draws from a pattern before giving up on meeting its length bounds too.
const PATTERN_TRIES: usize = 100;
/// Existing aggregates tried for a field that refers to one.
const REFERENCE_TRIES: usize = 8;
/// Draws of an array item before giving up on making it unique.
const UNIQUE_TRIES: usize = 50;
/// How likely an optional property is to be present.
const OPTIONAL_PRESENT: f64 = 0.5;
/// Arrays without `maxItems` get at most this many items more than `minItems`.
const EXTRA_ITEMS: u64 = 3;

/// Why a schema cannot be generated from, with the schema location (a JSON pointer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// Where in the schema: `/properties/phone`.
    pub path: String,
    /// What stands in the way.
    pub reason: String,
}

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = if self.path.is_empty() {
            "the schema's root"
        } else {
            &self.path
        };
        write!(f, "at {path}: {}", self.reason)
    }
}

type Generated<T> = std::result::Result<T, Unsupported>;

fn unsupported<T>(path: &str, reason: impl Into<String>) -> Generated<T> {
    Err(Unsupported {
        path: path.to_string(),
        reason: reason.into(),
    })
}

/// Ids of existing aggregates by aggregate type, for fields that refer to one. Sorted maps
/// keep generation deterministic.
#[derive(Debug, Default, Clone)]
pub struct References {
    by_type: BTreeMap<String, Vec<String>>,
    /// (type, id) pairs already in `by_type`.
    known: HashSet<(String, String)>,
}

impl References {
    /// Remembers an aggregate (once).
    pub fn add(&mut self, aggregate_type: &str, aggregate_id: &str) {
        let key = (aggregate_type.to_string(), aggregate_id.to_string());
        if self.known.insert(key) {
            self.by_type
                .entry(aggregate_type.to_string())
                .or_default()
                .push(aggregate_id.to_string());
        }
    }

    /// Whether the aggregate is known.
    pub fn contains(&self, aggregate_type: &str, aggregate_id: &str) -> bool {
        self.known
            .contains(&(aggregate_type.to_string(), aggregate_id.to_string()))
    }

    /// The aggregates of a type, in the order they were added.
    pub fn ids(&self, aggregate_type: &str) -> &[String] {
        self.by_type.get(aggregate_type).map_or(&[], Vec::as_slice)
    }

    /// One aggregate of the type, if there is any.
    fn pick<R: Rng + ?Sized>(&self, aggregate_type: &str, rng: &mut R) -> Option<&str> {
        self.ids(aggregate_type).choose(rng).map(String::as_str)
    }

    /// The aggregate type a field name refers to: `patientId`, `relatedPatientId`,
    /// `targetAppointmentId` and `ai_actionId` name one; `assigneeId` and `providerId` name a
    /// user. Only types with known aggregates count.
    fn referred_type(&self, field: &str) -> Option<&str> {
        let base = field
            .strip_suffix("Id")
            .or_else(|| field.strip_suffix("_id"))?;
        let mut base = base.to_ascii_lowercase();
        for prefix in [
            "related", "target", "parent", "linked", "previous", "source",
        ] {
            if let Some(rest) = base.strip_prefix(prefix)
                && !rest.is_empty()
            {
                base = rest.to_string();
            }
        }
        let base = base.replace('_', "");
        let person = [
            "user",
            "assignee",
            "provider",
            "owner",
            "author",
            "member",
            "staff",
            "clinician",
        ]
        .contains(&base.as_str());
        self.by_type
            .iter()
            .filter(|(_, ids)| !ids.is_empty())
            .map(|(name, _)| name.as_str())
            .find(|name| name.replace('_', "") == base || (person && *name == "user"))
    }
}

/// A regular expression compiled twice: to draw strings from, and to check candidates with.
struct Pattern {
    draw: rand_regex::Regex,
    check: regex::Regex,
}

/// Makes payloads from schemas; keeps the compiled patterns between payloads.
pub struct PayloadGenerator {
    now: DateTime<Utc>,
    patterns: HashMap<String, Option<Pattern>>,
}

impl std::fmt::Debug for PayloadGenerator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PayloadGenerator")
            .field("now", &self.now)
            .field("patterns", &self.patterns.len())
            .finish()
    }
}

impl PayloadGenerator {
    /// The time dates are near.
    pub(super) fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// Dates "near now" are near `now`; pass a fixed time for repeatable payloads.
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            now,
            patterns: HashMap::new(),
        }
    }

    /// A payload satisfying `schema`, using `references` for fields that name an aggregate.
    pub fn payload<R: Rng + ?Sized>(
        &mut self,
        schema: &Value,
        references: &References,
        rng: &mut R,
    ) -> Result<Value, Unsupported> {
        self.value(schema, "", "", references, rng, 0)
    }

    fn value<R: Rng + ?Sized>(
        &mut self,
        schema: &Value,
        path: &str,
        name: &str,
        refs: &References,
        rng: &mut R,
        depth: usize,
    ) -> Generated<Value> {
        let schema = match schema {
            Value::Bool(true) => return Ok(Value::String(pick(WORDS, rng).to_string())),
            Value::Object(map) => map,
            _ => return unsupported(path, "a schema that accepts nothing"),
        };
        if depth > MAX_DEPTH {
            return unsupported(path, format!("nested deeper than {MAX_DEPTH} levels"));
        }
        if let Some(value) = schema.get("const") {
            return Ok(value.clone());
        }
        if let Some(options) = schema.get("enum") {
            return match options.as_array().and_then(|o| o.choose(rng)) {
                Some(value) => Ok(value.clone()),
                None => unsupported(path, "an empty enum"),
            };
        }
        for keyword in ["anyOf", "oneOf"] {
            if let Some(branches) = schema.get(keyword) {
                let Some(branch) = branches.as_array().and_then(|b| b.choose(rng)) else {
                    return unsupported(path, format!("an empty {keyword}"));
                };
                let mut rest = schema.clone();
                rest.remove(keyword);
                let merged = merge(rest, branch);
                return self.value(&Value::Object(merged), path, name, refs, rng, depth + 1);
            }
        }
        if let Some(parts) = schema.get("allOf").and_then(Value::as_array)
            && parts.iter().any(|p| !is_conditional(p))
        {
            // Fold the plain parts in; conditionals stay for the object step.
            let mut merged = schema.clone();
            let (plain, conditional): (Vec<&Value>, Vec<&Value>) =
                parts.iter().partition(|p| !is_conditional(p));
            merged.insert(
                "allOf".into(),
                Value::Array(conditional.into_iter().cloned().collect()),
            );
            for part in plain {
                merged = merge(merged, part);
            }
            return self.value(&Value::Object(merged), path, name, refs, rng, depth + 1);
        }
        match type_of(schema) {
            "object" => self.object(schema, path, refs, rng, depth),
            "array" => self.array(schema, path, name, refs, rng, depth),
            "string" => self.string(schema, path, name, refs, rng),
            "integer" => integer(schema, path, name, rng),
            "number" => number(schema, path, rng),
            "boolean" => Ok(Value::Bool(rng.random())),
            "null" => Ok(Value::Null),
            other => unsupported(path, format!("type {other:?}")),
        }
    }

    fn object<R: Rng + ?Sized>(
        &mut self,
        schema: &Map<String, Value>,
        path: &str,
        refs: &References,
        rng: &mut R,
        depth: usize,
    ) -> Generated<Value> {
        let empty = Map::new();
        let properties = schema
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let mut required: Vec<&str> = names(schema.get("required"));
        // A conditional's `then`/`else` may only add required properties: always giving them
        // satisfies it whichever way its `if` goes.
        for part in schema
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for branch in ["then", "else"] {
                required.extend(names(part.get(branch).and_then(|b| b.get("required"))));
            }
        }
        let mut chosen: Vec<&str> = Vec::new();
        for key in properties.keys() {
            if required.contains(&key.as_str()) || rng.random_bool(OPTIONAL_PRESENT) {
                chosen.push(key);
            }
        }
        for key in &required {
            if !chosen.contains(key) {
                chosen.push(key);
            }
        }
        let min_properties = count(schema, "minProperties").unwrap_or(0) as usize;
        for key in properties.keys() {
            if chosen.len() >= min_properties {
                break;
            }
            if !chosen.contains(&key.as_str()) {
                chosen.push(key);
            }
        }
        if let Some(dependent) = schema.get("dependentRequired").and_then(Value::as_object) {
            let mut index = 0;
            while index < chosen.len() {
                for also in names(dependent.get(chosen[index])) {
                    if !chosen.contains(&also) {
                        chosen.push(also);
                    }
                }
                index += 1;
            }
        }
        if let Some(max) = count(schema, "maxProperties") {
            let max = max as usize;
            if required.len() > max {
                return unsupported(path, "more required properties than maxProperties");
            }
            while chosen.len() > max {
                let drop = chosen.iter().rposition(|key| !required.contains(key));
                match drop {
                    Some(index) => {
                        chosen.remove(index);
                    }
                    None => break,
                }
            }
        }
        let mut out = Map::new();
        for key in chosen {
            let sub_path = format!("{path}/properties/{}", escape(key));
            let value = match properties.get(key) {
                Some(sub) => self.value(sub, &sub_path, key, refs, rng, depth + 1)?,
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => {
                        return unsupported(
                            path,
                            format!(
                                "{key:?} is required but additional properties are not allowed"
                            ),
                        );
                    }
                    Some(extra @ Value::Object(_)) => {
                        self.value(extra, &sub_path, key, refs, rng, depth + 1)?
                    }
                    _ => Value::String(pick(WORDS, rng).to_string()),
                },
            };
            out.insert(key.to_string(), value);
        }
        if out.len() < min_properties {
            return unsupported(path, "minProperties needs more properties than it defines");
        }
        self.point_at_one_aggregate(properties, &mut out, refs, rng);
        Ok(Value::Object(out))
    }

    /// `targetAggregateType` and `targetAggregateId` side by side name one existing
    /// aggregate, when the schemas of both fields allow it.
    fn point_at_one_aggregate<R: Rng + ?Sized>(
        &mut self,
        properties: &Map<String, Value>,
        out: &mut Map<String, Value>,
        refs: &References,
        rng: &mut R,
    ) {
        let pairs: Vec<(String, String)> = out
            .keys()
            .filter_map(|key| {
                let stem = key.strip_suffix("AggregateType")?;
                let id_key = format!("{stem}AggregateId");
                out.contains_key(&id_key).then(|| (key.clone(), id_key))
            })
            .collect();
        for (type_key, id_key) in pairs {
            let known: Vec<(&String, &Vec<String>)> = refs
                .by_type
                .iter()
                .filter(|(_, ids)| !ids.is_empty())
                .collect();
            let Some((aggregate_type, ids)) = known.choose(rng) else {
                return;
            };
            let Some(id) = ids.choose(rng) else {
                return;
            };
            let fits_both = [(&type_key, *aggregate_type), (&id_key, id)]
                .into_iter()
                .all(|(key, candidate)| {
                    properties
                        .get(key.as_str())
                        .and_then(Value::as_object)
                        .is_some_and(|s| type_of(s) == "string" && self.fits(s, candidate, true))
                });
            if fits_both {
                out.insert(type_key, Value::String(aggregate_type.to_string()));
                out.insert(id_key, Value::String(id.clone()));
            }
        }
    }

    fn array<R: Rng + ?Sized>(
        &mut self,
        schema: &Map<String, Value>,
        path: &str,
        name: &str,
        refs: &References,
        rng: &mut R,
        depth: usize,
    ) -> Generated<Value> {
        let min = count(schema, "minItems").unwrap_or(0);
        let max = count(schema, "maxItems").unwrap_or(min + EXTRA_ITEMS);
        if max < min {
            return unsupported(path, "maxItems is below minItems");
        }
        let length = rng.random_range(min..=max.min(min + EXTRA_ITEMS)) as usize;
        let prefix = schema
            .get("prefixItems")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        let items = schema.get("items");
        let unique = schema.get("uniqueItems") == Some(&Value::Bool(true));
        let singular = name.strip_suffix('s').unwrap_or(name);
        let mut out: Vec<Value> = Vec::with_capacity(length);
        for index in 0..length {
            let (item_schema, item_path) = match (prefix.get(index), items) {
                (Some(item), _) => (item, format!("{path}/prefixItems/{index}")),
                (None, Some(Value::Bool(false))) => break,
                (None, Some(item)) => (item, format!("{path}/items")),
                (None, None) => (&Value::Bool(true), format!("{path}/items")),
            };
            let mut tries = 0;
            loop {
                let item = self.value(item_schema, &item_path, singular, refs, rng, depth + 1)?;
                if !unique || !out.contains(&item) {
                    out.push(item);
                    break;
                }
                tries += 1;
                if tries >= UNIQUE_TRIES {
                    if (out.len() as u64) < min {
                        return unsupported(&item_path, "too few distinct items for uniqueItems");
                    }
                    return Ok(Value::Array(out));
                }
            }
        }
        if (out.len() as u64) < min {
            return unsupported(path, "items: false leaves fewer items than minItems");
        }
        Ok(Value::Array(out))
    }

    fn string<R: Rng + ?Sized>(
        &mut self,
        schema: &Map<String, Value>,
        path: &str,
        name: &str,
        refs: &References,
        rng: &mut R,
    ) -> Generated<Value> {
        let min = count(schema, "minLength").unwrap_or(0) as usize;
        let max = count(schema, "maxLength").map(|m| m as usize);
        if max.is_some_and(|max| max < min) {
            return unsupported(path, "maxLength is below minLength");
        }
        if let Some(aggregate_type) = refs.referred_type(name) {
            // A few draws, since a practice may hold ids that do not fit this field.
            for _ in 0..REFERENCE_TRIES {
                if let Some(id) = refs.pick(aggregate_type, rng)
                    && self.fits(schema, id, true)
                {
                    return Ok(Value::String(id.to_string()));
                }
            }
        }
        if let Some(candidate) = self.realistic(schema, name, rng)
            && self.fits(schema, &candidate, true)
        {
            return Ok(Value::String(candidate));
        }
        let format = schema.get("format").and_then(Value::as_str);
        let pattern = schema.get("pattern").and_then(Value::as_str);
        if let Some(format) = format
            && let Some(value) = self.formatted(format, name, rng)
        {
            // Made for the format: only the lengths and pattern are left to check.
            if self.fits(schema, &value, false) {
                return Ok(Value::String(value));
            }
            if pattern.is_none() {
                return unsupported(
                    path,
                    format!("format {format:?} together with length bounds it cannot meet"),
                );
            }
        }
        if let Some(pattern) = pattern {
            if self.pattern(pattern).is_none() {
                return unsupported(path, format!("pattern {pattern:?} cannot be drawn from"));
            }
            for _ in 0..PATTERN_TRIES {
                let drawn: String = {
                    let compiled = self.pattern(pattern).expect("compiled above");
                    rng.sample(&compiled.draw)
                };
                // The draw matches the pattern; the lengths and format are checked here.
                if self.fits(schema, &drawn, true) {
                    return Ok(Value::String(drawn));
                }
            }
            return unsupported(
                path,
                format!("no string drawn from pattern {pattern:?} met the schema's other bounds"),
            );
        }
        let text = self
            .realistic(schema, name, rng)
            .unwrap_or_else(|| pick(WORDS, rng).to_string());
        Ok(Value::String(fit_length(text, min, max, rng)))
    }

    /// The compiled pattern, or `None` when it is not a regular expression both crates read.
    fn pattern(&mut self, pattern: &str) -> Option<&Pattern> {
        self.patterns
            .entry(pattern.to_string())
            .or_insert_with(|| {
                let draw = drawable(pattern)?;
                let check = regex::Regex::new(pattern).ok()?;
                Some(Pattern { draw, check })
            })
            .as_ref()
    }

    /// Whether a candidate meets a string schema's lengths, pattern and (with
    /// `check_format`) format; formats this module does not check never fit.
    fn fits(&mut self, schema: &Map<String, Value>, candidate: &str, check_format: bool) -> bool {
        let length = candidate.chars().count();
        if count(schema, "minLength").is_some_and(|min| (length as u64) < min)
            || count(schema, "maxLength").is_some_and(|max| (length as u64) > max)
        {
            return false;
        }
        if let Some(Value::Array(options)) = schema.get("enum") {
            return options.iter().any(|o| o.as_str() == Some(candidate));
        }
        if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
            && !self
                .pattern(pattern)
                .is_some_and(|p| p.check.is_match(candidate))
        {
            return false;
        }
        if !check_format {
            return true;
        }
        match schema.get("format").and_then(Value::as_str) {
            Some("uuid") => uuid::Uuid::try_parse(candidate).is_ok() && candidate.len() == 36,
            Some("date") => NaiveDate::parse_from_str(candidate, "%Y-%m-%d").is_ok(),
            Some("date-time") => DateTime::parse_from_rfc3339(candidate).is_ok(),
            Some("email") => is_plain_email(candidate),
            Some(_) => false,
            None => true,
        }
    }

    /// What the field's name says it holds, if it says.
    fn realistic<R: Rng + ?Sized>(
        &self,
        schema: &Map<String, Value>,
        name: &str,
        rng: &mut R,
    ) -> Option<String> {
        let lower = name.to_ascii_lowercase();
        let has = |word: &str| lower.contains(word);
        let format = schema.get("format").and_then(Value::as_str);
        let text = if has("firstname") || has("givenname") || lower == "forename" {
            pick(FIRST_NAMES, rng).to_string()
        } else if has("lastname") || has("surname") || has("familyname") {
            pick(LAST_NAMES, rng).to_string()
        } else if has("displayname") || has("fullname") || has("patientname") {
            format!("{} {}", pick(FIRST_NAMES, rng), pick(LAST_NAMES, rng))
        } else if lower == "name" {
            format!(
                "{} {}",
                pick(LAST_NAMES, rng),
                pick(ORGANISATION_SUFFIXES, rng)
            )
        } else if has("email") || format == Some("email") {
            person_email(rng)
        } else if has("phone") || has("mobile") {
            format!("+44 7700 900{:03}", rng.random_range(0..1000))
        } else if has("timezone") || lower == "tz" {
            pick(TIMEZONES, rng).to_string()
        } else if lower == "userid" || lower == "username" {
            person_handle(rng)
        } else if has("city") || has("town") {
            pick(CITIES, rng).to_string()
        } else if has("line1") || has("street") {
            format!("{} {}", rng.random_range(1..200), pick(STREETS, rng))
        } else if has("postcode") || has("zip") || has("postalcode") {
            pick(POSTCODES, rng).to_string()
        } else if has("country") {
            pick(COUNTRIES, rng).to_string()
        } else if has("template") {
            pick(TEMPLATES, rng).to_string()
        } else if lower == "model" {
            pick(MODELS, rng).to_string()
        } else if lower == "title" || lower == "subject" || lower == "summary" {
            pick(TASK_TITLES, rng).to_string()
        } else if [
            "note",
            "comment",
            "description",
            "rationale",
            "body",
            "message",
            "reason",
            "text",
            "details",
        ]
        .iter()
        .any(|w| has(w))
        {
            pick(SENTENCES, rng).to_string()
        } else {
            return None;
        };
        Some(text)
    }

    /// A value of a format, or `None` for a format the validator does not check.
    fn formatted<R: Rng + ?Sized>(&self, format: &str, name: &str, rng: &mut R) -> Option<String> {
        let lower = name.to_ascii_lowercase();
        Some(match format {
            "uuid" => random_uuid(rng),
            "date" if lower.contains("birth") || lower == "dob" => {
                let start = NaiveDate::from_ymd_opt(1940, 1, 1).expect("a real day");
                let day = start + Duration::days(rng.random_range(0..(78 * 365)));
                day.format("%Y-%m-%d").to_string()
            }
            "date" => (self.near_now(&lower, rng)).format("%Y-%m-%d").to_string(),
            "date-time" => self
                .near_now(&lower, rng)
                .to_rfc3339_opts(SecondsFormat::Secs, true),
            "time" => {
                let at = self.near_now(&lower, rng);
                // RFC 3339 full-time: the offset is part of it.
                format!("{:02}:{:02}:00Z", at.hour(), at.minute())
            }
            "email" | "idn-email" => person_email(rng),
            "uri" | "url" | "iri" => format!("https://example.com/{}", pick(WORDS, rng)),
            "hostname" | "idn-hostname" => format!("{}.example.com", pick(WORDS, rng)),
            "ipv4" => format!("192.0.2.{}", rng.random_range(1..255)),
            "ipv6" => format!("2001:db8::{:x}", rng.random_range(1..0xffff)),
            _ => return None,
        })
    }

    /// A time within 30 days of now, in whole five minutes: ahead for names that say so
    /// (`dueAt`, `requestedStart`, `sendAfter`, `scheduledStart`), otherwise behind.
    fn near_now<R: Rng + ?Sized>(&self, lower_name: &str, rng: &mut R) -> DateTime<Utc> {
        let ahead = [
            "due",
            "start",
            "after",
            "scheduled",
            "until",
            "expires",
            "next",
        ]
        .iter()
        .any(|w| lower_name.contains(w));
        let minutes = rng.random_range(0..(30 * 24 * 12)) * 5;
        let at = if ahead {
            self.now + Duration::minutes(minutes)
        } else {
            self.now - Duration::minutes(minutes)
        };
        let rounded = at.minute() - at.minute() % 5;
        at.with_minute(rounded)
            .and_then(|t| t.with_second(0))
            .and_then(|t| t.with_nanosecond(0))
            .unwrap_or(at)
    }
}

/// A pattern to draw strings from. `rand_regex` draws no anchors, so a leading `^` and a
/// trailing `$` are dropped (a string drawn from the rest matches the whole pattern);
/// ASCII classes are tried first, so `\d` and `\w` give ASCII digits and letters as an
/// ECMA-262 pattern means them.
fn drawable(pattern: &str) -> Option<rand_regex::Regex> {
    use regex_syntax::hir::{Hir, HirKind, Look};
    let parse = |unicode: bool| {
        regex_syntax::ParserBuilder::new()
            .unicode(unicode)
            .build()
            .parse(pattern)
            .ok()
    };
    let hir = parse(false).or_else(|| parse(true))?;
    let is_anchor = |hir: &Hir, look: Look| matches!(hir.kind(), HirKind::Look(l) if *l == look);
    let hir = match hir.kind() {
        HirKind::Concat(parts) => {
            let mut parts = parts.to_vec();
            if parts.first().is_some_and(|p| is_anchor(p, Look::Start)) {
                parts.remove(0);
            }
            if parts.last().is_some_and(|p| is_anchor(p, Look::End)) {
                parts.pop();
            }
            Hir::concat(parts)
        }
        _ if is_anchor(&hir, Look::Start) || is_anchor(&hir, Look::End) => Hir::empty(),
        _ => hir,
    };
    rand_regex::Regex::with_hir(hir, MAX_REPEAT).ok()
}

fn pick<'a, R: Rng + ?Sized>(words: &[&'a str], rng: &mut R) -> &'a str {
    words.choose(rng).copied().unwrap_or("value")
}

/// A lowercase ASCII handle such as `ava.patel.4821`: a user id that reads like a person.
pub(super) fn person_handle<R: Rng + ?Sized>(rng: &mut R) -> String {
    let first = pick(FIRST_NAMES, rng).to_ascii_lowercase();
    let last: String = pick(LAST_NAMES, rng)
        .chars()
        .filter(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_ascii_lowercase();
    format!("{first}.{last}.{}", rng.random_range(1000..10_000))
}

fn person_email<R: Rng + ?Sized>(rng: &mut R) -> String {
    format!("{}@example.com", person_handle(rng))
}

fn is_plain_email(candidate: &str) -> bool {
    candidate.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !candidate.contains(char::is_whitespace)
    })
}

/// A version-4 UUID from the generator's own random bytes, so it repeats for a seed.
pub(super) fn random_uuid<R: Rng + ?Sized>(rng: &mut R) -> String {
    uuid::Builder::from_random_bytes(rng.random())
        .into_uuid()
        .to_string()
}

/// A version-7 UUID at `now` (in whole five minutes, as generated dates are, so a seed repeats
/// within them) plus `count` milliseconds, its random bits from the generator: ids made later
/// sort later, as the engine's own event ids do, so a store's indexes keyed by aggregate id
/// take new aggregates at one end instead of at random pages.
pub(super) fn time_ordered_uuid<R: Rng + ?Sized>(
    now: DateTime<Utc>,
    count: u64,
    rng: &mut R,
) -> String {
    let seconds = now.timestamp() - now.timestamp().rem_euclid(300);
    let millis = u64::try_from(seconds * 1000).unwrap_or_default() + count;
    uuid::Builder::from_unix_timestamp_millis(millis, &rng.random())
        .into_uuid()
        .to_string()
}

/// Pads with words to `min` characters, then cuts to `max`.
fn fit_length<R: Rng + ?Sized>(
    mut text: String,
    min: usize,
    max: Option<usize>,
    rng: &mut R,
) -> String {
    while text.chars().count() < min {
        text.push(' ');
        text.push_str(pick(WORDS, rng));
    }
    if let Some(max) = max
        && text.chars().count() > max
    {
        text = text.chars().take(max).collect();
    }
    text
}

fn is_conditional(part: &Value) -> bool {
    part.get("if").is_some()
}

/// The property names in a `required`-style list.
fn names(list: Option<&Value>) -> Vec<&str> {
    list.and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// A non-negative integer keyword (`minLength`, `maxItems`, …).
fn count(schema: &Map<String, Value>, keyword: &str) -> Option<u64> {
    schema.get(keyword).and_then(|v| {
        v.as_u64()
            .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
    })
}

/// The schema's type: `type` when given (the first that is not `null` in a list), else what
/// its keywords imply.
fn type_of(schema: &Map<String, Value>) -> &str {
    match schema.get("type") {
        Some(Value::String(name)) => name,
        Some(Value::Array(names)) => names
            .iter()
            .filter_map(Value::as_str)
            .find(|name| *name != "null")
            .or_else(|| names.first().and_then(Value::as_str))
            .unwrap_or("null"),
        _ => {
            let has = |keys: &[&str]| keys.iter().any(|k| schema.contains_key(*k));
            if has(&[
                "properties",
                "required",
                "additionalProperties",
                "minProperties",
            ]) {
                "object"
            } else if has(&["items", "prefixItems", "minItems", "maxItems"]) {
                "array"
            } else if has(&[
                "minimum",
                "maximum",
                "exclusiveMinimum",
                "exclusiveMaximum",
                "multipleOf",
            ]) {
                "number"
            } else {
                "string"
            }
        }
    }
}

/// Two schemas' keywords together: `required` lists joined, `properties` merged, any other
/// keyword of `extra` taking precedence.
fn merge(mut base: Map<String, Value>, extra: &Value) -> Map<String, Value> {
    let Some(extra) = extra.as_object() else {
        return base;
    };
    for (key, value) in extra {
        match (key.as_str(), base.get_mut(key), value) {
            ("required", Some(Value::Array(list)), Value::Array(more)) => {
                list.extend(more.iter().cloned());
            }
            ("properties", Some(Value::Object(props)), Value::Object(more)) => {
                for (name, schema) in more {
                    let combined = match props.remove(name) {
                        Some(Value::Object(existing)) => Value::Object(merge(existing, schema)),
                        _ => schema.clone(),
                    };
                    props.insert(name.clone(), combined);
                }
            }
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
    base
}

/// JSON pointer escaping of one property name.
fn escape(key: &str) -> Cow<'_, str> {
    if key.contains(['~', '/']) {
        Cow::Owned(key.replace('~', "~0").replace('/', "~1"))
    } else {
        Cow::Borrowed(key)
    }
}

/// The inclusive integer bounds a schema allows.
fn integer_bounds(schema: &Map<String, Value>, name: &str) -> (i64, i64) {
    let number = |key: &str| schema.get(key).and_then(Value::as_f64);
    let mut low = number("minimum").map(|m| m.ceil() as i64);
    if let Some(exclusive) = number("exclusiveMinimum") {
        let bound = exclusive.floor() as i64 + 1;
        low = Some(low.map_or(bound, |l| l.max(bound)));
    }
    let mut high = number("maximum").map(|m| m.floor() as i64);
    if let Some(exclusive) = number("exclusiveMaximum") {
        let bound = exclusive.ceil() as i64 - 1;
        high = Some(high.map_or(bound, |h| h.min(bound)));
    }
    let lower = name.to_ascii_lowercase();
    let (usual_low, usual_high) = if lower.contains("age") {
        (0, 100)
    } else if lower.contains("minute") || lower.contains("duration") {
        (5, 120)
    } else if lower.contains("year") {
        (1950, 2030)
    } else if lower.contains("count") || lower.contains("quantity") {
        (1, 10)
    } else {
        (0, 1000)
    };
    match (low, high) {
        (Some(l), Some(h)) => (l, h),
        (Some(l), None) => (l, l.saturating_add((usual_high - usual_low).max(10))),
        (None, Some(h)) => (h.saturating_sub((usual_high - usual_low).max(10)), h),
        (None, None) => (usual_low, usual_high),
    }
}

fn integer<R: Rng + ?Sized>(
    schema: &Map<String, Value>,
    path: &str,
    name: &str,
    rng: &mut R,
) -> Generated<Value> {
    let (low, high) = integer_bounds(schema, name);
    if low > high {
        return unsupported(path, "no integer lies between the bounds");
    }
    let step = match schema.get("multipleOf").and_then(Value::as_f64) {
        None => 1,
        Some(m) if m >= 1.0 && m.fract() == 0.0 => m as i64,
        Some(m) => return unsupported(path, format!("an integer multipleOf {m}")),
    };
    let first = low.div_euclid(step) + i64::from(low.rem_euclid(step) != 0);
    let last = high.div_euclid(step);
    if first > last {
        return unsupported(path, "no multiple of multipleOf lies between the bounds");
    }
    Ok(Value::from(rng.random_range(first..=last) * step))
}

fn number<R: Rng + ?Sized>(
    schema: &Map<String, Value>,
    path: &str,
    rng: &mut R,
) -> Generated<Value> {
    let bound = |key: &str| schema.get(key).and_then(Value::as_f64);
    if let Some(step) = bound("multipleOf") {
        if step >= 1.0 && step.fract() == 0.0 {
            return integer(schema, path, "", rng);
        }
        // k × step for a whole k in range; exact for binary fractions such as 0.5 or 0.25.
        let (low, high) = (
            bound("minimum")
                .or(bound("exclusiveMinimum"))
                .unwrap_or(0.0),
            bound("maximum")
                .or(bound("exclusiveMaximum"))
                .unwrap_or(1000.0),
        );
        let first = (low / step).ceil() as i64;
        let last = (high / step).floor() as i64;
        let inside = |x: f64| {
            bound("exclusiveMinimum").is_none_or(|m| x > m)
                && bound("exclusiveMaximum").is_none_or(|m| x < m)
        };
        if first <= last {
            for _ in 0..PATTERN_TRIES {
                let value = rng.random_range(first..=last) as f64 * step;
                if inside(value)
                    && let Some(number) = Number::from_f64(value)
                {
                    return Ok(Value::Number(number));
                }
            }
        }
        return unsupported(
            path,
            format!("no multiple of {step} lies between the bounds"),
        );
    }
    let low = bound("minimum")
        .or(bound("exclusiveMinimum"))
        .unwrap_or(0.0);
    let high = bound("maximum")
        .or(bound("exclusiveMaximum"))
        .unwrap_or(low + 1000.0);
    if low > high {
        return unsupported(path, "no number lies between the bounds");
    }
    let inside = |x: f64| {
        bound("minimum").is_none_or(|m| x >= m)
            && bound("maximum").is_none_or(|m| x <= m)
            && bound("exclusiveMinimum").is_none_or(|m| x > m)
            && bound("exclusiveMaximum").is_none_or(|m| x < m)
    };
    for _ in 0..PATTERN_TRIES {
        let raw = low + rng.random::<f64>() * (high - low);
        // Two decimals read like real data; keep full precision when rounding leaves the range.
        let value = [(raw * 100.0).round() / 100.0, raw]
            .into_iter()
            .find(|x| inside(*x));
        if let Some(value) = value.and_then(Number::from_f64) {
            return Ok(Value::Number(value));
        }
    }
    unsupported(path, "no number lies strictly between the bounds")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use serde_json::json;

    const PAYLOADS_PER_TYPE: usize = 10_000;

    fn fixed_now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    /// References as a practice would have them: UUID patients and appointments, user
    /// handles, and one id that is no UUID (it must never land in a `format: uuid` field).
    fn practice_references() -> References {
        let mut rng = ChaCha8Rng::seed_from_u64(99);
        let mut refs = References::default();
        for _ in 0..20 {
            refs.add("patient", &random_uuid(&mut rng));
            refs.add("appointment", &random_uuid(&mut rng));
            refs.add("user", &person_handle(&mut rng));
        }
        refs.add("patient", "pat-legacy-1");
        refs
    }

    /// Schemas that use what the built-in registry does not: patterns with escapes and
    /// Unicode classes, nesting, arrays of objects, every format, exclusive bounds,
    /// `multipleOf`, `const`, `anyOf`/`oneOf`, `dependentRequired`, conditionals.
    fn test_schemas() -> Vec<Value> {
        let envelope = |name: &str, body: Value| {
            let mut schema = json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "x-event-type": name,
                "x-aggregate-type": "fixture",
                "title": name,
                "description": "A test schema for the payload generator.",
            });
            for (key, value) in body.as_object().unwrap() {
                schema[key] = value.clone();
            }
            schema
        };
        vec![
            envelope(
                "fixture.patterns",
                json!({
                    "type": "object",
                    "properties": {
                        "code": {"type": "string", "pattern": "^[A-Z]{3}-\\d{4}$"},
                        "slug": {"type": "string", "pattern": "^[a-z][a-z0-9-]{2,10}$", "maxLength": 8},
                        "printable": {"type": "string", "minLength": 1, "maxLength": 20, "pattern": "^[^\\u0000-\\u001f\\u007f]+$"},
                        "phone": {"type": "string", "pattern": "^\\+?[0-9 ()-]{6,20}$"},
                        "email": {"type": "string", "format": "email", "pattern": "^[a-z]+@clinic\\.test$"},
                        "unanchored": {"type": "string", "pattern": "ab+c"},
                        "firstName": {"type": "string", "minLength": 5, "maxLength": 6}
                    },
                    "required": ["code", "slug", "printable", "phone", "email", "unanchored", "firstName"],
                    "additionalProperties": false
                }),
            ),
            envelope(
                "fixture.nested",
                json!({
                    "type": "object",
                    "properties": {
                        "visit": {
                            "type": "object",
                            "properties": {
                                "patientId": {"type": "string", "format": "uuid"},
                                "teeth": {
                                    "type": "array",
                                    "minItems": 2,
                                    "maxItems": 5,
                                    "uniqueItems": true,
                                    "items": {"type": "integer", "minimum": 11, "maximum": 48}
                                },
                                "procedures": {
                                    "type": "array",
                                    "minItems": 1,
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "code": {"enum": ["D0120", "D1110", "D2391"]},
                                            "fee": {"type": "number", "exclusiveMinimum": 0, "maximum": 500},
                                            "notes": {"type": "string", "maxLength": 30}
                                        },
                                        "required": ["code", "fee"],
                                        "additionalProperties": false
                                    }
                                },
                                "pair": {"type": "array", "prefixItems": [{"const": "x"}, {"type": "boolean"}], "items": false, "minItems": 2}
                            },
                            "required": ["patientId", "teeth", "procedures", "pair"],
                            "additionalProperties": false
                        },
                        "tags": {"type": "array", "items": {"type": "string", "minLength": 2, "maxLength": 4}, "maxItems": 2}
                    },
                    "required": ["visit"],
                    "minProperties": 2,
                    "additionalProperties": false
                }),
            ),
            envelope(
                "fixture.formats",
                json!({
                    "type": "object",
                    "properties": {
                        "day": {"type": "string", "format": "date"},
                        "dateOfBirth": {"type": "string", "format": "date"},
                        "at": {"type": "string", "format": "date-time"},
                        "time": {"type": "string", "format": "time"},
                        "contact": {"type": "string", "format": "email", "maxLength": 60},
                        "ref": {"type": "string", "format": "uuid"},
                        "site": {"type": "string", "format": "uri"},
                        "host": {"type": "string", "format": "hostname"},
                        "v4": {"type": "string", "format": "ipv4"},
                        "v6": {"type": "string", "format": "ipv6"},
                        "count": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10, "multipleOf": 3},
                        "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
                        "price": {"type": "number", "minimum": 1, "maximum": 2, "multipleOf": 0.5},
                        "kind": {"const": "fixture"},
                        "level": {"enum": [1, 2, 3]},
                        "maybe": {"type": ["string", "null"], "maxLength": 3},
                        "either": {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string", "format": "date"}]},
                        "exactlyOne": {"oneOf": [{"type": "boolean"}, {"type": "string", "minLength": 1}]},
                        "flag": {"type": "boolean"},
                        "nothing": {"type": "null"},
                        "billing": {"type": "string", "maxLength": 10},
                        "billingCode": {"type": "string", "pattern": "^B[0-9]{2}$"},
                        "status": {"enum": ["open", "closed"]}
                    },
                    "required": ["day", "at", "status"],
                    "dependentRequired": {"billing": ["billingCode"]},
                    "allOf": [
                        {"required": ["ref"]},
                        {
                            "if": {"properties": {"status": {"const": "closed"}}},
                            "then": {"required": ["time"]},
                            "else": {"required": ["contact"]}
                        }
                    ],
                    "additionalProperties": false
                }),
            ),
        ]
    }

    fn registry_with_test_schemas() -> (Registry, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        for schema in test_schemas() {
            let name = schema["x-event-type"].as_str().unwrap();
            std::fs::write(
                dir.path().join(format!("{name}.json")),
                serde_json::to_string_pretty(&schema).unwrap(),
            )
            .unwrap();
        }
        (Registry::with_extra_dir(dir.path()).unwrap(), dir)
    }

    /// The property: for every registered type, the built-in ones and the test schemas,
    /// every generated payload passes the engine's own validation.
    #[test]
    fn ten_thousand_payloads_per_type_all_pass_the_engines_validation() {
        let (registry, _dir) = registry_with_test_schemas();
        let refs = practice_references();
        let mut generator = PayloadGenerator::new(fixed_now());
        let mut rng = ChaCha8Rng::seed_from_u64(2026);
        let mut checked = 0;
        for event_type in registry.types() {
            for n in 0..PAYLOADS_PER_TYPE {
                let payload = generator
                    .payload(&event_type.schema, &refs, &mut rng)
                    .unwrap_or_else(|why| panic!("{}: {why}", event_type.event_type));
                if let Err(error) =
                    registry.validate(&event_type.event_type, &event_type.aggregate_type, &payload)
                {
                    panic!(
                        "payload {n} of {} breaks its schema: {error}\n{payload:#}",
                        event_type.event_type
                    );
                }
                checked += 1;
            }
        }
        assert!(
            checked >= 15 * PAYLOADS_PER_TYPE,
            "the 12 built-in types and 3 test schemas were all exercised: {checked}"
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_payloads() {
        let registry = Registry::builtin().unwrap();
        let refs = practice_references();
        let draw = |seed: u64| -> Vec<Value> {
            let mut generator = PayloadGenerator::new(fixed_now());
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            registry
                .types()
                .flat_map(|t| {
                    (0..20)
                        .map(|_| generator.payload(&t.schema, &refs, &mut rng).unwrap())
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        assert_eq!(draw(7), draw(7), "seed 7 twice");
        assert_ne!(draw(7), draw(8), "another seed, other payloads");
    }

    #[test]
    fn fresh_aggregate_ids_are_version_7_uuids_in_the_order_drawn() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let ids: Vec<String> = (1..=50)
            .map(|count| time_ordered_uuid(fixed_now(), count, &mut rng))
            .collect();
        for id in &ids {
            let parsed = uuid::Uuid::try_parse(id).unwrap();
            assert_eq!(parsed.get_version_num(), 7, "{id}");
        }
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "{ids:?}");
        let mut again = ChaCha8Rng::seed_from_u64(3);
        let within_five_minutes = fixed_now() + chrono::Duration::seconds(239);
        assert_eq!(
            time_ordered_uuid(within_five_minutes, 1, &mut again),
            ids[0],
            "the same within the five minutes"
        );
    }

    #[test]
    fn fields_get_values_that_look_like_what_their_names_say() {
        let registry = Registry::builtin().unwrap();
        let refs = practice_references();
        let mut generator = PayloadGenerator::new(fixed_now());
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let patient = &registry.get("patient.created").unwrap().schema;
        let mut seen_email = false;
        for _ in 0..200 {
            let payload = generator.payload(patient, &refs, &mut rng).unwrap();
            assert!(FIRST_NAMES.contains(&payload["firstName"].as_str().unwrap()));
            assert!(LAST_NAMES.contains(&payload["lastName"].as_str().unwrap()));
            let born =
                NaiveDate::parse_from_str(payload["dateOfBirth"].as_str().unwrap(), "%Y-%m-%d")
                    .unwrap();
            assert!(
                (1940..2019).contains(&chrono::Datelike::year(&born)),
                "a date of birth, not a date near now: {born}"
            );
            if let Some(email) = payload.get("email") {
                seen_email = true;
                assert!(email.as_str().unwrap().ends_with("@example.com"), "{email}");
            }
        }
        assert!(seen_email, "optional fields are sometimes present");

        let appointment = &registry.get("appointment.requested").unwrap().schema;
        for _ in 0..200 {
            let payload = generator.payload(appointment, &refs, &mut rng).unwrap();
            let patient_id = payload["patientId"].as_str().unwrap();
            assert!(
                refs.ids("patient").iter().any(|id| id == patient_id),
                "patientId refers to an existing patient: {patient_id}"
            );
            assert_ne!(
                patient_id, "pat-legacy-1",
                "a non-UUID id never fills a uuid field"
            );
            let start = DateTime::parse_from_rfc3339(payload["requestedStart"].as_str().unwrap())
                .unwrap()
                .with_timezone(&Utc);
            assert!(
                start >= fixed_now() && start <= fixed_now() + Duration::days(31),
                "a requested start is soon after now: {start}"
            );
        }
        let task = &registry.get("task.created").unwrap().schema;
        let mut related = 0;
        for _ in 0..200 {
            let payload = generator.payload(task, &refs, &mut rng).unwrap();
            if let Some(id) = payload.get("relatedAppointmentId") {
                related += 1;
                assert!(refs.ids("appointment").iter().any(|a| a == id));
            }
            if let Some(id) = payload.get("assigneeId") {
                assert!(
                    refs.ids("user").iter().any(|u| u == id),
                    "an assignee is a user: {id}"
                );
            }
        }
        assert!(
            related > 0,
            "relatedAppointmentId was generated and referred"
        );
    }

    #[test]
    fn without_references_an_id_field_still_gets_a_valid_value() {
        let registry = Registry::builtin().unwrap();
        let mut generator = PayloadGenerator::new(fixed_now());
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let schema = &registry.get("message.queued").unwrap().schema;
        let payload = generator
            .payload(schema, &References::default(), &mut rng)
            .unwrap();
        assert!(uuid::Uuid::try_parse(payload["patientId"].as_str().unwrap()).is_ok());
    }

    #[test]
    fn schemas_that_cannot_be_met_are_refused_naming_the_place() {
        let mut generator = PayloadGenerator::new(fixed_now());
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let refs = References::default();
        let cases = [
            (json!(false), "", "accepts nothing"),
            (
                json!({"properties": {"a": {"type": "string", "minLength": 5, "maxLength": 2}}, "required": ["a"]}),
                "/properties/a",
                "maxLength is below minLength",
            ),
            (
                json!({"properties": {"n": {"type": "integer", "minimum": 1, "maximum": 2, "multipleOf": 5}}, "required": ["n"]}),
                "/properties/n",
                "multipleOf",
            ),
            (
                json!({"properties": {"e": {"enum": []}}, "required": ["e"]}),
                "/properties/e",
                "empty enum",
            ),
            (
                json!({"properties": {}, "required": ["x"], "additionalProperties": false}),
                "",
                "\"x\" is required",
            ),
            (
                json!({"type": "string", "pattern": "(unclosed"}),
                "",
                "cannot be drawn from",
            ),
        ];
        for (schema, path, reason) in cases {
            let error = generator.payload(&schema, &refs, &mut rng).unwrap_err();
            assert_eq!(error.path, path, "{schema}: {error}");
            assert!(error.reason.contains(reason), "{schema}: {error}");
        }
    }
}
