//! Errors cross the bridge in the layer's one wire form, [`WireError`]
//! (`{code, message, details}`), made from the engine's errors by the layer; the app adds
//! only its own few cases (`identity_required`, `invalid_settings`, `settings_unsaved`,
//! `store_not_empty`), whose codes are in the same [`chronicle::ErrorCode`] list.

pub use chronicle::api::WireError as CommandError;

/// Shorthand for command results.
pub type CommandResult<T> = Result<T, CommandError>;
