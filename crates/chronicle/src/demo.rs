//! Deterministic demo data for the dental registry: practices, users with every role,
//! patients, appointments moving through their statuses, messages, tasks and AI proposals,
//! from human, AI and system actors, spread over past days. The same seed always gives the
//! same events (ids, times, hashes), so demos and benchmarks are repeatable.

use chrono::{DateTime, Duration, Utc};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::error::Result;
use crate::model::{ActorType, NewEvent, Principal, Role};
use crate::store::Store;

/// How much demo data to make.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Number of practices.
    pub practices: usize,
    /// Events per practice (at least the practice's setup events are always written).
    pub events_per_practice: usize,
    /// Random seed; the same seed gives the same data.
    pub seed: u64,
    /// Events per append batch.
    pub batch_size: usize,
    /// The history ends at this time and starts `days` before it.
    pub end: DateTime<Utc>,
    /// Days of history.
    pub days: i64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            practices: 3,
            events_per_practice: 300,
            seed: 7,
            batch_size: 500,
            end: Utc::now(),
            days: 30,
        }
    }
}

/// The users every demo practice has, one per role, with fixed ids so "view as" is easy.
pub const DEMO_USERS: [(&str, Role, &str); 4] = [
    ("olivia.owner", Role::Owner, "Olivia Owner"),
    ("adam.admin", Role::Admin, "Adam Admin"),
    ("fran.frontdesk", Role::Frontdesk, "Fran Frontdesk"),
    ("victor.viewer", Role::Viewer, "Victor Viewer"),
];

const PRACTICE_NAMES: [&str; 8] = [
    "Bright Smile Dental",
    "Harbour View Dentistry",
    "Oak Lane Dental Care",
    "Riverside Family Dental",
    "Summit Orthodontics",
    "Maple Street Dental",
    "Seaside Dental Studio",
    "Northgate Dental Clinic",
];
const FIRST: [&str; 10] = [
    "Ava", "Noah", "Mia", "Liam", "Zoe", "Ethan", "Isla", "Omar", "Priya", "Jonas",
];
const LAST: [&str; 10] = [
    "Patel", "Smith", "Nguyen", "Garcia", "Müller", "O'Brien", "Kowalski", "Haddad", "Okafor",
    "Lee",
];
const REASONS: [&str; 6] = [
    "checkup",
    "cleaning",
    "filling",
    "crown",
    "emergency",
    "consultation",
];

/// Writes demo data through the system principal and returns the practice ids.
pub async fn seed(store: &Store, options: &DemoOptions) -> Result<Vec<String>> {
    seed_with_progress(store, options, |_| {}).await
}

/// [`seed`], calling `progress` with the number of events written after each batch.
pub async fn seed_with_progress(
    store: &Store,
    options: &DemoOptions,
    mut progress: impl FnMut(usize),
) -> Result<Vec<String>> {
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut practice_ids = Vec::new();
    let mut written = 0;
    for index in 0..options.practices {
        let practice_id = random_uuid(&mut rng);
        let mut events = practice_events(&mut rng, &practice_id, index, options)
            .into_iter()
            .peekable();
        while events.peek().is_some() {
            let batch: Vec<NewEvent> = events.by_ref().take(options.batch_size.max(1)).collect();
            written += batch.len();
            store.append_batch(&Principal::System, batch).await?;
            progress(written);
        }
        practice_ids.push(practice_id);
    }
    Ok(practice_ids)
}

/// How many events [`seed`] writes for these options.
pub fn total_events(options: &DemoOptions) -> usize {
    options.practices * events_per_practice(options)
}

/// Events written per practice: at least enough for its setup (practice, users, memberships).
fn events_per_practice(options: &DemoOptions) -> usize {
    options.events_per_practice.max(10)
}

fn random_uuid(rng: &mut ChaCha8Rng) -> String {
    uuid::Builder::from_random_bytes(rng.random())
        .into_uuid()
        .to_string()
}

fn practice_events(
    rng: &mut ChaCha8Rng,
    practice_id: &str,
    index: usize,
    options: &DemoOptions,
) -> Vec<NewEvent> {
    let total = events_per_practice(options);
    let span = Duration::days(options.days.max(1));
    let begin = options.end - span;
    let step = span / (total as i32 + 1);
    let mut out: Vec<NewEvent> = Vec::with_capacity(total);
    let name = PRACTICE_NAMES[index % PRACTICE_NAMES.len()];
    let owner = DEMO_USERS[0].0;
    let new = |aggregate_type: &str,
               aggregate_id: &str,
               event_type: &str,
               payload: Value,
               actor: ActorType| {
        NewEvent::new(
            practice_id,
            aggregate_type,
            aggregate_id,
            event_type,
            payload,
            actor,
        )
    };
    out.push(
        new(
            "practice",
            practice_id,
            "practice.created",
            json!({"name": name, "timezone": "Europe/London", "phone": "+44 20 7946 0000"}),
            ActorType::Human,
        )
        .with_actor_id(owner),
    );
    for (user, role, display) in DEMO_USERS {
        out.push(new(
            "user",
            user,
            "user.created",
            json!({"email": format!("{user}@example.com"), "displayName": display}),
            ActorType::System,
        ));
        out.push(
            new(
                "membership",
                user,
                "membership.created",
                json!({"userId": user, "role": role.as_str()}),
                ActorType::Human,
            )
            .with_actor_id(owner),
        );
    }
    let staff = [DEMO_USERS[0].0, DEMO_USERS[1].0, DEMO_USERS[2].0];
    let mut patients: Vec<String> = Vec::new();
    let mut appointments: Vec<(String, &str)> = Vec::new();
    while out.len() < total {
        let human = staff[rng.random_range(0..staff.len())];
        let roll = rng.random_range(0..100);
        if patients.is_empty() || roll < 15 {
            let id = random_uuid(rng);
            let first = FIRST[rng.random_range(0..FIRST.len())];
            let last = LAST[rng.random_range(0..LAST.len())];
            let dob = format!(
                "{}-{:02}-{:02}",
                rng.random_range(1940..2020),
                rng.random_range(1..13),
                rng.random_range(1..29)
            );
            out.push(new("patient", &id, "patient.created",
                json!({"firstName": first, "lastName": last, "dateOfBirth": dob, "preferredContact": "sms",
                       "phone": format!("+44 7700 9{:05}", rng.random_range(0..100000))}), ActorType::Human).with_actor_id(human));
            patients.push(id);
        } else if roll < 20 {
            let patient = &patients[rng.random_range(0..patients.len())];
            out.push(
                new(
                    "patient",
                    patient,
                    "patient.updated",
                    json!({"email": format!("patient{}@example.com", rng.random_range(0..10000))}),
                    ActorType::Human,
                )
                .with_actor_id(human),
            );
        } else if roll < 45 || appointments.is_empty() {
            let id = random_uuid(rng);
            let patient = patients[rng.random_range(0..patients.len())].clone();
            let start = (begin + step * out.len() as i32 + Duration::days(rng.random_range(1..21)))
                .format("%Y-%m-%dT%H:00:00Z")
                .to_string();
            let (actor, channel) = if rng.random_range(0..4) == 0 {
                (ActorType::Ai, "ai_agent")
            } else {
                (ActorType::Human, "phone")
            };
            let mut event = new(
                "appointment",
                &id,
                "appointment.requested",
                json!({"patientId": patient, "reason": REASONS[rng.random_range(0..REASONS.len())],
                       "requestedStart": start, "durationMinutes": 30, "channel": channel}),
                actor,
            );
            event.actor_id = Some(if actor == ActorType::Ai {
                "scheduler-agent".into()
            } else {
                human.into()
            });
            out.push(event);
            appointments.push((id, "requested"));
        } else if roll < 75 {
            let slot = rng.random_range(0..appointments.len());
            let (id, status) = appointments[slot].clone();
            let next = match status {
                "requested" => {
                    ["penciled", "needs_manual_review", "canceled"][rng.random_range(0..3)]
                }
                "penciled" | "needs_manual_review" => {
                    ["confirmed", "rescheduled"][rng.random_range(0..2)]
                }
                "rescheduled" => "confirmed",
                "confirmed" => {
                    ["completed", "completed", "no_show", "canceled"][rng.random_range(0..4)]
                }
                _ => continue,
            };
            let start = (begin + step * out.len() as i32 + Duration::days(rng.random_range(1..14)))
                .format("%Y-%m-%dT%H:30:00Z")
                .to_string();
            let mut payload = json!({"status": next, "previousStatus": status});
            if matches!(next, "penciled" | "confirmed" | "rescheduled") {
                payload["scheduledStart"] = json!(start);
            }
            let actor = if next == "needs_manual_review" {
                ActorType::System
            } else {
                ActorType::Human
            };
            let mut event = new(
                "appointment",
                &id,
                "appointment.status_changed",
                payload,
                actor,
            );
            if actor == ActorType::Human {
                event.actor_id = Some(human.into());
            }
            out.push(event);
            appointments[slot].1 = next;
        } else if roll < 87 {
            let patient = patients[rng.random_range(0..patients.len())].clone();
            out.push(new("message", &random_uuid(rng), "message.queued",
                json!({"patientId": patient, "channel": "sms", "template": "appointment_reminder",
                       "body": "Reminder: your dental appointment is coming up. Reply C to confirm."}), ActorType::System));
        } else if roll < 94 {
            let priority = ["low", "normal", "high"][rng.random_range(0..3)];
            out.push(
                new(
                    "task",
                    &random_uuid(rng),
                    "task.created",
                    json!({"title": "Call patient about treatment plan", "priority": priority,
                       "assigneeId": staff[rng.random_range(0..staff.len())]}),
                    ActorType::Human,
                )
                .with_actor_id(human),
            );
        } else {
            let (target, _) = appointments[rng.random_range(0..appointments.len())].clone();
            let mut event = new(
                "ai_action",
                &random_uuid(rng),
                "ai_action.proposed",
                json!({"action": "send_reminder", "targetAggregateType": "appointment", "targetAggregateId": target,
                       "rationale": "Appointment within 48 hours and not yet confirmed.",
                       "confidence": (rng.random_range(50..100) as f64) / 100.0, "model": "scheduler-v2"}),
                ActorType::Ai,
            );
            event.actor_id = Some("scheduler-agent".into());
            out.push(event);
        }
    }
    // Times rise with seq, a jittered step apart, ending before `options.end`.
    let mut at = begin;
    for event in &mut out {
        at += Duration::milliseconds(rng.random_range(1..=step.num_milliseconds().max(1) * 2));
        event.created_at = Some(at.min(options.end));
        event.id = Some(random_uuid(rng));
    }
    out
}
