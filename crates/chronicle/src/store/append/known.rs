//! What this store last knew of each PostgreSQL practice it appended to: the head, and the
//! roles and stream versions it has read or written since, all as of that head. An unlocked
//! append whose keys are all known plans against this instead of reading the context, so a
//! single append is one round trip: the conditional write.
//!
//! Why it is safe: the practice's head moves with every change to its events and memberships
//! (the database keeps it at the last event, and memberships behind their events), so facts
//! read at one head are the facts at that head, whenever they were read. The write that
//! follows is conditional on the head (seq and hash) being where the knowledge is from,
//! exactly as after a fresh read; if another writer moved it, nothing is written, the
//! practice is forgotten, and the locked transaction decides. Knowledge is only ever added
//! from a read at the same head or from this store's own successful write.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::plan::AppendContext;
use crate::model::Role;

/// Bounds on what is kept: past them a practice (or every practice) is forgotten and read
/// again, so one caller appending to endless streams cannot grow the store's memory.
const MOST_PRACTICES: usize = 1_024;
const MOST_STREAMS: usize = 16_384;
const MOST_USERS: usize = 1_024;

/// One practice, as of `head_seq` / `head_hash`.
#[derive(Debug, Clone, Default)]
struct KnownPractice {
    head_seq: i64,
    head_hash: String,
    head_time: Option<DateTime<Utc>>,
    head_digest: Option<Vec<u8>>,
    /// Members known to have these roles (non-members are not kept: their appends are
    /// refused, which only the locked transaction answers).
    roles: HashMap<String, Role>,
    /// Streams whose current version is known; 0 for a stream known to have no events.
    versions: HashMap<(String, String), i64>,
}

impl KnownPractice {
    /// Takes the head of `context` as the head this knowledge is from.
    fn move_head(&mut self, context: &AppendContext) {
        self.head_seq = context.head_seq;
        self.head_hash.clone_from(&context.head_hash);
        self.head_time = context.head_time;
        self.head_digest.clone_from(&context.head_digest);
    }

    /// Records the versions `context` has for `streams` (absent there: no events yet).
    fn record_versions(&mut self, context: &AppendContext, streams: &[(&str, &str)]) {
        if self.versions.len() + streams.len() > MOST_STREAMS {
            self.versions.clear();
        }
        for (aggregate_type, aggregate_id) in streams {
            let key = (aggregate_type.to_string(), aggregate_id.to_string());
            let version = context.versions.get(&key).copied().unwrap_or(0);
            self.versions.insert(key, version);
        }
    }
}

/// The practices this store knows, by id.
#[derive(Debug, Default)]
pub(crate) struct KnownPractices {
    practices: Mutex<HashMap<String, KnownPractice>>,
}

impl KnownPractices {
    /// The context for `users` appending to `streams` of the practice, when every one of them
    /// is known; `None` sends the caller to read it.
    pub(super) fn context(
        &self,
        practice_id: &str,
        users: &[&str],
        streams: &[(&str, &str)],
    ) -> Option<AppendContext> {
        let practices = self.practices.lock().expect("known practices lock");
        let known = practices.get(practice_id)?;
        let mut context = AppendContext {
            head_seq: known.head_seq,
            head_hash: known.head_hash.clone(),
            head_time: known.head_time,
            head_digest: known.head_digest.clone(),
            ..AppendContext::default()
        };
        for user in users {
            context
                .roles
                .insert(user.to_string(), *known.roles.get(*user)?);
        }
        for (aggregate_type, aggregate_id) in streams {
            let key = (aggregate_type.to_string(), aggregate_id.to_string());
            let version = *known.versions.get(&key)?;
            if version > 0 {
                context.versions.insert(key, version);
            }
        }
        Some(context)
    }

    /// Takes in a context read in one statement for these streams: added to what is known
    /// when read at the same head, or replacing it when the head has moved.
    pub(super) fn learn(&self, practice_id: &str, read: &AppendContext, streams: &[(&str, &str)]) {
        let mut practices = self.practices.lock().expect("known practices lock");
        let same_head = practices.get(practice_id).is_some_and(|known| {
            known.head_seq == read.head_seq && known.head_hash == read.head_hash
        });
        if !same_head {
            if practices.len() >= MOST_PRACTICES {
                practices.clear();
            }
            let mut fresh = KnownPractice::default();
            fresh.move_head(read);
            practices.insert(practice_id.to_string(), fresh);
        }
        let known = practices.get_mut(practice_id).expect("just inserted");
        if known.roles.len() + read.roles.len() > MOST_USERS {
            known.roles.clear();
        }
        known
            .roles
            .extend(read.roles.iter().map(|(user, role)| (user.clone(), *role)));
        known.record_versions(read, streams);
    }

    /// Moves what is known past this store's own write, which went from the head at
    /// `written_from` to the head `after` describes (the context its plans advanced). If
    /// another task moved the knowledge meanwhile, the practice is forgotten instead.
    pub(super) fn wrote(
        &self,
        practice_id: &str,
        written_from: (i64, &str),
        after: &AppendContext,
        streams: &[(&str, &str)],
    ) {
        let mut practices = self.practices.lock().expect("known practices lock");
        let Some(known) = practices.get_mut(practice_id) else {
            return;
        };
        if (known.head_seq, known.head_hash.as_str()) != written_from {
            practices.remove(practice_id);
            return;
        }
        known.move_head(after);
        known.record_versions(after, streams);
    }

    /// Forgets the practice: its head moved under this store.
    pub(super) fn forget(&self, practice_id: &str) {
        self.practices
            .lock()
            .expect("known practices lock")
            .remove(practice_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_at(seq: i64, versions: &[((&str, &str), i64)]) -> AppendContext {
        let mut context = AppendContext {
            head_seq: seq,
            head_hash: format!("{seq:064}"),
            ..AppendContext::default()
        };
        context.roles.insert("ann".into(), Role::Frontdesk);
        for ((t, i), v) in versions {
            context.versions.insert((t.to_string(), i.to_string()), *v);
        }
        context
    }

    #[test]
    fn only_what_was_read_or_written_at_the_same_head_is_known() {
        let known = KnownPractices::default();
        assert!(known.context("p", &["ann"], &[("patient", "a")]).is_none());

        known.learn(
            "p",
            &read_at(5, &[(("patient", "a"), 2)]),
            &[("patient", "a"), ("patient", "new")],
        );
        let context = known
            .context("p", &["ann"], &[("patient", "a"), ("patient", "new")])
            .unwrap();
        assert_eq!(context.head_seq, 5);
        assert_eq!(
            context.versions.get(&("patient".into(), "a".into())),
            Some(&2)
        );
        assert_eq!(
            context.versions.get(&("patient".into(), "new".into())),
            None,
            "known empty"
        );
        assert!(
            known.context("p", &["bob"], &[("patient", "a")]).is_none(),
            "bob was not read"
        );
        assert!(
            known.context("p", &["ann"], &[("patient", "b")]).is_none(),
            "b was not read"
        );

        // A read at a later head replaces everything known before it.
        known.learn(
            "p",
            &read_at(9, &[(("patient", "b"), 1)]),
            &[("patient", "b")],
        );
        assert!(known.context("p", &["ann"], &[("patient", "a")]).is_none());
        assert_eq!(
            known
                .context("p", &["ann"], &[("patient", "b")])
                .unwrap()
                .head_seq,
            9
        );

        // A write from the known head moves it; one from any other head forgets the practice.
        let after = read_at(10, &[(("patient", "b"), 2)]);
        known.wrote("p", (9, &format!("{:064}", 9)), &after, &[("patient", "b")]);
        let context = known.context("p", &["ann"], &[("patient", "b")]).unwrap();
        assert_eq!(
            (
                context.head_seq,
                context.versions[&("patient".into(), "b".into())]
            ),
            (10, 2)
        );
        known.wrote("p", (9, &format!("{:064}", 9)), &read_at(11, &[]), &[]);
        assert!(known.context("p", &["ann"], &[("patient", "b")]).is_none());
    }
}
