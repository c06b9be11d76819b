//! Exit codes of the command line: 0 success, 1 refused by a rule, 2 usage or connection.

use chronicle::Error;

/// Success.
pub const OK: u8 = 0;
/// Refused by a rule: validation, access, conflict.
pub const REFUSED: u8 = 1;
/// Usage problems, unreadable input files, or a store that cannot be opened or reached.
pub const USAGE: u8 = 2;

/// The exit code for an engine error.
pub fn code_for(error: &Error) -> u8 {
    match error.root() {
        Error::Invalid { .. }
        | Error::UnknownEventType { .. }
        | Error::InvalidPayload { .. }
        | Error::PracticeNotFound { .. }
        | Error::Forbidden { .. }
        | Error::VersionConflict { .. }
        | Error::Conflict { .. } => REFUSED,
        _ => USAGE,
    }
}
