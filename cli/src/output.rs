//! What every command shares: opening the store, printing JSON or text, progress bars.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result, anyhow};
use indicatif::{ProgressBar, ProgressStyle};
use patrol_core::secrets::FileSecretStore;
use patrol_core::{Protection, Store, StoreConfig};
use serde::Serialize;

/// Opens (creating if needed) the store at `path` encrypted at rest, its keys and sync token
/// in `<path>.secrets` beside it: the command line's stand-in for a phone's secret store, for
/// development and demonstrations (whoever can read that file can read the store).
pub fn open_store(path: &Path) -> Result<Store> {
    let secrets = Arc::new(FileSecretStore::beside(path));
    let config = StoreConfig {
        protection: Protection::Encrypted(secrets),
        ..StoreConfig::default()
    };
    Store::open(path, config).with_context(|| format!("opening {}", path.display()))
}

pub struct Context {
    pub db: Option<PathBuf>,
    pub json: bool,
}

impl Context {
    pub fn db_path(&self) -> Result<&PathBuf> {
        self.db
            .as_ref()
            .ok_or_else(|| anyhow!("this command needs --db PATH (the local store file)"))
    }

    /// Opens the store at --db, encrypted (a plain one is encrypted in place).
    pub fn open(&self) -> Result<Store> {
        let path = self.db_path()?;
        open_store(path)
    }

    /// The street a `--street` means: an id known to the store, or a name only one of its
    /// streets has; refused otherwise (several: listing them; none, or no network yet: saying
    /// so), so a record never carries a name in place of an id.
    pub fn street_id(store: &Store, street: Option<String>) -> Result<Option<String>> {
        street
            .map(|s| Ok(store.resolve_street(&s)?.to_string()))
            .transpose()
    }

    /// Prints `value` as one JSON document.
    pub fn print_json<T: Serialize>(&self, value: &T) -> Result<()> {
        // As is: the JSON escapes control characters itself.
        std::println!("{}", serde_json::to_string_pretty(value)?);
        Ok(())
    }

    /// A progress bar on a terminal, nothing otherwise or with --json.
    pub fn progress(&self, total: u64, what: &str) -> ProgressBar {
        if self.json || !std::io::stderr().is_terminal() {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({per_sec}, {eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(what.to_owned());
        bar
    }
}

/// "1.23 km" or "850 m".
pub fn metres(m: f64) -> String {
    if m >= 1000.0 {
        format!("{:.2} km", m / 1000.0)
    } else {
        format!("{m:.0} m")
    }
}

/// "1 h 05 min", "12 min 30 s", "45 s".
pub fn duration(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, sec) => format!("{sec} s"),
        (0, min, sec) => format!("{min} min {sec:02} s"),
        (h, min, _) => format!("{h} h {min:02} min"),
    }
}
