//! StreetPatrol's model: the glossary's types and every rule and computation over plain data.
//!
//! Nothing here stores, sends or waits: no SQLite, no HTTP, no async runtime (a test over
//! `cargo metadata` keeps it so). The phone store, the sync client, the district server and the
//! reports stand on it, so a coverage, a fold or a score is computed by the same code wherever
//! the data lives.
//!
//! Modules, with arrows pointing one way (a module only uses those listed after it):
//! - [`wire`], [`fixcodec`], [`reference`]: the sync protocol's messages, the compact fix batch
//!   format and the reference rows the server publishes.
//! - [`report`]: report periods, the district's rules, scores, and the reports (assessment,
//!   stewards, merchant credit, network coverage) computed from plain facts.
//! - [`coverage`]: which stretches of which segments a patrol walked (linear referencing).
//! - [`matching`]: map matching of fixes onto street segments (HMM / Viterbi).
//! - [`spatial`]: the R-tree of segments of a loaded network.
//! - [`signboard`]: signboard QR codes, signed and verified with the district's key.
//! - [`merchants`], [`issues`]: documents, the role table and the workflow fold.
//! - [`docs`]: fields and validation shared by every kind of document.
//! - [`streets`]: the street network, its files (OSM, GeoJSON), segments, topology and routes.
//! - [`track`]: GPS processing: filtering, metrics, the stationary detector, GPX / PLT.
//! - [`sim`] (feature `sim`): a GPS walk simulator for demos, tests and benchmarks.
//! - [`points`]: points rules as data and what a fact earns under them.
//! - [`photos`]: what a photo id is; the thumbnail size documents carry.
//! - [`rng`]: a seedable PRNG (SplitMix64) for jitter and simulation; not for secrets.
//! - [`hlc`]: the hybrid logical clock that orders events from phones with wrong clocks.
//! - [`geodesy`]: distances on the sphere, a local metric projection, GCJ-02 datum conversion.
//! - [`text`]: names and texts people typed: checked at the door, neutralised for terminals.
//! - [`clock`]: the time source, injected.
//! - [`domain`]: the types of the glossary (roles, fixes, verdicts, ids).
//! - [`error`]: what was wrong with the data handed in.

pub mod clock;
pub mod coverage;
pub mod docs;
pub mod domain;
pub mod error;
pub mod fixcodec;
pub mod geodesy;
pub mod hlc;
pub mod issues;
pub mod matching;
pub mod merchants;
pub mod photos;
pub mod points;
pub mod reference;
pub mod report;
pub mod rng;
pub mod signboard;
#[cfg(feature = "sim")]
pub mod sim;
pub mod spatial;
pub mod streets;
pub mod text;
pub mod track;
pub mod wire;

pub use clock::{Clock, SystemClock};
pub use domain::*;
pub use error::{Error, Result};
