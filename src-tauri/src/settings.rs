//! The app's settings: where the store is, who the app acts as, the theme and recently
//! opened practices. They persist through tauri-plugin-store (`settings.json` in the app's
//! data folder); a PostgreSQL password never does. It is asked for once per session and
//! kept in memory only (see `docs/desktop.md`).

use serde::{Deserialize, Serialize};
use specta::Type;

use chronicle::ErrorCode;
use chronicle::api::{UserId, recent};

use crate::error::CommandError;

/// Light, dark, or whatever the system prefers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    /// Follow the system.
    #[default]
    System,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

/// What the app remembers between runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// `sqlite://PATH` or `postgres://USER@HOST/DB` (never with a password); `null` is the
    /// embedded store in the app's data folder.
    pub store_location: Option<String>,
    /// The user id the app acts as ("view as"); `null` until one is chosen.
    pub identity: Option<String>,
    /// Colour theme.
    pub theme: Theme,
    /// Practice ids, most recent first.
    pub recent_practices: Vec<String>,
}

impl Settings {
    /// Checks a settings value from the UI, naming the field that is wrong: the identity
    /// by the layer's user id rules, the recent practices by its recent-practices rule.
    pub fn validated(mut self) -> Result<Self, CommandError> {
        if let Some(identity) = &self.identity {
            if identity.trim().is_empty() {
                return Err(invalid_settings(
                    "/identity",
                    "must not be empty; use null to choose nobody",
                ));
            }
            if let Err(error) = UserId::parse_at("/identity", identity) {
                let violation = error.violations().remove(0);
                return Err(invalid_settings(&violation.path, violation.message));
            }
        }
        if let Some(location) = &self.store_location {
            let location = location.trim();
            if location.is_empty() {
                return Err(invalid_settings(
                    "/storeLocation",
                    "must not be empty; use null for the embedded store",
                ));
            }
            self.store_location = Some(location.to_string());
        }
        self.recent_practices = recent::tidy(self.recent_practices);
        Ok(self)
    }
}

fn invalid_settings(path: &str, message: impl Into<String>) -> CommandError {
    CommandError::at(ErrorCode::InvalidSettings, path, message)
}

/// Where settings persist. The app uses tauri-plugin-store; tests may use anything.
pub trait SettingsFile: Send + Sync {
    /// The saved settings, or defaults when there are none (or they are unreadable).
    fn load(&self) -> Settings;
    /// Persists the settings.
    fn save(&self, settings: &Settings) -> Result<(), String>;
}

const SETTINGS_KEY: &str = "settings";

impl<R: tauri::Runtime> SettingsFile for std::sync::Arc<tauri_plugin_store::Store<R>> {
    fn load(&self) -> Settings {
        self.get(SETTINGS_KEY)
            .and_then(|value| match serde_json::from_value::<Settings>(value) {
                Ok(settings) => settings.validated().ok(),
                Err(error) => {
                    tracing::warn!(%error, "ignoring unreadable settings");
                    None
                }
            })
            .unwrap_or_default()
    }

    fn save(&self, settings: &Settings) -> Result<(), String> {
        let value = serde_json::to_value(settings).map_err(|e| e.to_string())?;
        self.set(SETTINGS_KEY, value);
        tauri_plugin_store::Store::save(self.as_ref()).map_err(|e| e.to_string())
    }
}

/// A store URL split into what may be saved and the password, which may not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreUrl {
    /// The URL without a password.
    pub saved: String,
    /// The password it carried, if any.
    pub password: Option<String>,
}

/// Splits the password out of a `postgres://` URL; other URLs pass through.
pub fn split_password(location: &str) -> Result<StoreUrl, CommandError> {
    if !(location.starts_with("postgres://") || location.starts_with("postgresql://")) {
        return Ok(StoreUrl {
            saved: location.to_string(),
            password: None,
        });
    }
    let mut url = url::Url::parse(location).map_err(|e| {
        invalid_settings(
            "/storeLocation",
            format!("is not a valid PostgreSQL URL ({e}); expected postgres://USER@HOST/DB"),
        )
    })?;
    let mut password = url.password().map(|p| {
        percent_encoding::percent_decode_str(p)
            .decode_utf8_lossy()
            .into_owned()
    });
    // Cannot fail for a URL with a host, which every postgres:// URL that parsed has.
    let _ = url.set_password(None);
    // `?password=` is a password too (libpq and sqlx accept it): it is never saved either.
    let is_password = |key: &str| key.eq_ignore_ascii_case("password");
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    if pairs.iter().any(|(key, _)| is_password(key)) {
        let mut kept = Vec::new();
        for (key, value) in pairs {
            if is_password(&key) {
                password.get_or_insert(value);
            } else {
                kept.push((key, value));
            }
        }
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    Ok(StoreUrl {
        saved: url.to_string(),
        password,
    })
}

/// Puts a session password back into a saved `postgres://` URL for opening.
pub fn with_password(saved: &str, password: Option<&str>) -> String {
    match (password, url::Url::parse(saved)) {
        (Some(password), Ok(mut url)) if url.scheme().starts_with("postgres") => {
            let _ = url.set_password(Some(password));
            url.to_string()
        }
        _ => saved.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_split_out_and_put_back() {
        let split = split_password("postgres://ann:s%40cret@db.example:5433/chron").unwrap();
        assert_eq!(split.saved, "postgres://ann@db.example:5433/chron");
        assert_eq!(split.password.as_deref(), Some("s@cret"));
        let reopened = with_password(&split.saved, split.password.as_deref());
        assert_eq!(reopened, "postgres://ann:s%40cret@db.example:5433/chron");
        let query =
            split_password("postgres://ann@db.example/chron?sslmode=require&password=s3cret")
                .unwrap();
        assert_eq!(
            (query.saved.as_str(), query.password.as_deref()),
            (
                "postgres://ann@db.example/chron?sslmode=require",
                Some("s3cret")
            ),
            "a password given as ?password= is split out too"
        );
        let only = split_password("postgres://ann@db.example/chron?Password=x").unwrap();
        assert_eq!(only.saved, "postgres://ann@db.example/chron");
        let sqlite = split_password("sqlite:///tmp/a.db").unwrap();
        assert_eq!(
            (sqlite.saved.as_str(), sqlite.password),
            ("sqlite:///tmp/a.db", None)
        );
    }

    #[test]
    fn a_malformed_postgres_url_names_the_field() {
        let error = split_password("postgres://[::1").unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidSettings);
        assert_eq!(error.details[0].path, "/storeLocation");
    }

    #[test]
    fn validation_names_the_field_and_tidies_the_rest() {
        let blank = Settings {
            identity: Some("  ".into()),
            ..Settings::default()
        };
        assert_eq!(blank.validated().unwrap_err().details[0].path, "/identity");
        for (bad, why) in [(" olivia", "whitespace"), ("oli\tvia", "U+0009")] {
            let refused = Settings {
                identity: Some(bad.into()),
                ..Settings::default()
            }
            .validated()
            .unwrap_err();
            assert_eq!(
                (refused.details[0].path.as_str(), refused.code),
                ("/identity", ErrorCode::InvalidSettings),
                "the identity obeys the same id rules as the x-user-id header"
            );
            assert!(refused.details[0].message.contains(why), "{refused}");
        }
        let tidy = Settings {
            identity: Some("olivia".into()),
            recent_practices: (0..15).map(|i| format!("p{}", i % 12)).collect(),
            ..Settings::default()
        }
        .validated()
        .unwrap();
        assert_eq!(tidy.identity.as_deref(), Some("olivia"));
        assert_eq!(tidy.recent_practices.len(), recent::MAX_RECENT_PRACTICES);
        assert_eq!(tidy.recent_practices[0], "p0");
    }
}
