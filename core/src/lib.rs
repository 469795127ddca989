//! StreetPatrol's shared core: the library every phone runs.
//!
//! It records patrols and their GPS tracks in a local SQLite store that works fully offline.
//! Nothing here knows about FFI, HTTP servers or terminals; those live in `bindings/`, `server/`
//! and `cli/` and call into this crate.
//!
//! Modules, with arrows pointing one way (a module only uses those listed after it):
//! - `api`: the methods of [`Store`], one file per capability, each a thin facade over the
//!   storage functions of the modules below (identity, clock, transaction, commit); the
//!   reports gather facts and compute them in the model.
//! - [`render`]: SVG and PNG pictures of patrols, issues, coverage and trends, from data alone.
//! - [`report`]: supervisors' reports: chief assessment, stewards, merchant credit; exports.
//! - [`merchants`]: merchants as Automerge documents and their frontage-duty inspections.
//! - [`signboard`]: signed QR codes on signboards, scanning them, check-ins during patrols.
//! - [`coverage`]: how much of each assigned street a patrol (or a period) covered.
//! - [`matching`]: map matching of a patrol's fixes onto street segments (HMM / Viterbi).
//! - [`spatial`]: the R-tree of segments, kept in memory with the loaded network.
//! - [`streets`]: the street network (streets, segments, junctions), its import, export and storage.
//! - [`points`]: litter pickups and the points ledger (rules as versioned data, daily caps).
//! - [`issues`]: issues as Automerge documents, the workflow fold, the role table, the
//!   projection and what sync needs (heads, changes since, merge, change feed).
//! - [`photos`]: the content-addressed photo store, EXIF, thumbnails.
//! - [`docs`]: Automerge documents in SQLite (snapshot + `save_after` chunks), shared by kinds.
//! - [`hlc`]: the hybrid logical clock that orders events from phones with wrong clocks.
//! - [`patrol`]: recording a patrol (start, pause, resume, stop, fixes) and importing tracks.
//! - [`store`]: the SQLite opener, pragmas and schema migrations, encryption at rest
//!   (SQLCipher, keys from the platform's secret store), this device's identity.
//! - [`secrets`]: what the core asks of the platform's secret store (keys, the sync token), and
//!   a development-only file in its place; `sealed`: photo files sealed with their own key.
//! - [`track`]: GPS processing with no storage: filtering, metrics, simplification, the
//!   stationary detector, GPX / PLT parsing and GPX / GeoJSON writing.
//! - [`geodesy`]: distances on the sphere, a local metric projection, GCJ-02 datum conversion.
//! - [`text`]: names and texts people typed: checked at the door, neutralised for terminals and CSV.
//! - [`domain`]: the types of the glossary (roles, fixes, verdicts, ids). Depends on nothing else.

mod api;
pub mod closed_loop;
pub mod coverage;
pub mod docs;
pub mod error;
mod files;
pub mod hlc;
pub mod issues;
pub mod matching;
pub mod merchants;
pub mod observe;
pub mod patrol;
pub mod photos;
pub mod points;
#[cfg(feature = "reports")]
pub mod render;
#[cfg(feature = "reports")]
pub mod report;
mod sealed;
pub mod secrets;
pub mod signboard;
pub mod spatial;
pub mod store;
pub mod streets;
pub mod sync;
pub mod track;

pub use patrol_model::{clock, domain, geodesy, text};

pub use clock::{Clock, SystemClock};
pub use domain::*;
pub use error::{Error, Result};
pub use store::{Protection, Store, StoreConfig};
