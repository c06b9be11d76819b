//! Word lists for realistic values: what a field's name says it holds.

pub(super) const FIRST_NAMES: &[&str] = &[
    "Ava", "Noah", "Mia", "Liam", "Zoe", "Ethan", "Isla", "Omar", "Priya", "Jonas", "Amara",
    "Lucas", "Sofia", "Mateo", "Hannah", "Kenji", "Leila", "Oscar", "Freya", "Tariq", "Elena",
    "Samuel", "Aisha", "Felix",
];

pub(super) const LAST_NAMES: &[&str] = &[
    "Patel", "Smith", "Nguyen", "Garcia", "Müller", "O'Brien", "Kowalski", "Haddad", "Okafor",
    "Lee", "Jensen", "Rossi", "Santos", "Cohen", "Kim", "Dubois", "Novak", "Ahmed", "Walsh",
    "Fischer",
];

pub(super) const ORGANISATION_SUFFIXES: &[&str] = &[
    "Dental",
    "Dental Care",
    "Family Dentistry",
    "Smile Studio",
    "Orthodontics",
    "Dental Clinic",
];

pub(super) const SENTENCES: &[&str] = &[
    "Prefers morning appointments.",
    "Asked to be called back after 5 pm.",
    "Sensitive to cold on the lower left molar.",
    "Nervous patient; allow extra time.",
    "Insurance details to be confirmed at the next visit.",
    "Requested a reminder the day before.",
    "Follow up on the X-ray results.",
    "Patient reports mild pain when chewing.",
    "Reschedule if the hygienist is unavailable.",
    "Bring the referral letter from the GP.",
    "Discussed whitening options; patient will think about it.",
    "Wheelchair access needed.",
];

pub(super) const TASK_TITLES: &[&str] = &[
    "Call patient about the lab results",
    "Confirm tomorrow's appointments",
    "Order more impression material",
    "Send the treatment plan estimate",
    "Chase the insurance pre-authorisation",
    "Update the recall list",
    "Check the autoclave log",
    "Book the follow-up cleaning",
];

pub(super) const TIMEZONES: &[&str] = &[
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Australia/Sydney",
    "Asia/Tokyo",
];

pub(super) const CITIES: &[&str] = &[
    "London",
    "Manchester",
    "Bristol",
    "Leeds",
    "Edinburgh",
    "Cardiff",
    "Belfast",
    "York",
];

pub(super) const STREETS: &[&str] = &[
    "High Street",
    "Station Road",
    "Church Lane",
    "Victoria Road",
    "Park Avenue",
    "Mill Lane",
    "Queen's Road",
    "Oak Lane",
];

pub(super) const COUNTRIES: &[&str] = &["GB", "IE", "DE", "FR", "NL", "US", "AU", "ES"];

pub(super) const POSTCODES: &[&str] = &[
    "SW1A 1AA", "M1 1AE", "BS1 4DJ", "LS1 5AB", "EH1 1YZ", "CF10 1EP", "BT1 5GS", "YO1 7HH",
];

pub(super) const TEMPLATES: &[&str] = &[
    "appointment_reminder",
    "appointment_confirmation",
    "recall_notice",
    "treatment_plan_ready",
    "payment_reminder",
    "welcome",
];

pub(super) const MODELS: &[&str] = &["chronicle-assistant-1", "scheduler-v2", "triage-small"];

pub(super) const WORDS: &[&str] = &[
    "alpha", "bright", "calm", "delta", "early", "fresh", "green", "harbour", "ivory", "jade",
    "kind", "lunar", "maple", "north", "oak", "pearl", "quiet", "river", "silver", "tidal",
];
