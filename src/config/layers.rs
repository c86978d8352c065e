//! Layering: flags and environment variables (parsed by clap into [`Settings`]) over the TOML
//! config file over the defaults (`Settings::or` fills in what is unset); [`super::Config`]
//! validates the result.

use super::ConfigError;
use crate::cli::Settings;
use std::path::Path;

/// The flags and environment in `settings`, over the config file it names (if any).
///
/// # Errors
/// When the file cannot be read or is not valid TOML of known keys.
pub fn layered(settings: Settings) -> Result<Settings, ConfigError> {
    match settings.config.clone() {
        Some(path) => Ok(settings.or(read_file(&path)?)),
        None => Ok(settings),
    }
}

fn read_file(path: &Path) -> Result<Settings, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
        path: path.into(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::ParseFile {
        path: path.into(),
        message: e.to_string(),
    })
}
