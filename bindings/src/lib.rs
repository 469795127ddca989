//! StreetPatrol's mobile bindings: a thin uniffi layer over `patrol-core` for the Android
//! (Kotlin) and iOS (Swift) apps.
//!
//! This crate only translates: types in, a call into the core, types out. Every behaviour is
//! tested in the core, in Rust; the tests here check the translation, and the Kotlin tests in
//! `tests/kotlin.rs` check the generated bindings on a JVM.
//!
//! - [`store`]: the `PatrolStore` object (open, device identity, lifecycle).
//! - Capabilities, each one `#[uniffi::export] impl PatrolStore` with its records:
//!   [`recording`], [`tracks`] (patrols and their GPS tracks); [`streets`], [`coverage`],
//!   [`signboards`] (the street network, what patrols covered, QR codes and check-ins);
//!   [`issues`], [`photos`], [`points`] (the closed loop, photos, litter pickups and points).
//! - [`types`], [`settings`]: the records and enums that cross the boundary.
//! - [`error`]: `PatrolError`, with the fields an app branches on, and the one conversion from
//!   the core's error.
//! - [`platform`]: what the host implements (clock, network state, progress listener);
//!   [`http`]: the host's HTTP stack, which carries the sync.
//! - [`worker`]: slow work on its own thread as a future the host awaits (Kotlin `suspend`),
//!   and the `CancelToken` a Swift host cancels it with.
//! - [`observers`]: `observe_issues` and `observe_recording`, listeners told of each change
//!   until their `TaskHandle` is dropped; [`watch`]: the machinery behind them.
//!
//! - [`sync`]: enrolment and sync with the district server.
//!
//! See the README's Mobile section.

uniffi::setup_scaffolding!();

pub mod coverage;
pub mod error;
pub mod http;
pub mod issues;
pub mod observers;
pub mod photos;
pub mod platform;
pub mod points;
pub mod recording;
pub mod secrets;
pub mod settings;
pub mod signboards;
pub mod store;
pub mod streets;
pub mod sync;
pub mod tracks;
pub mod types;
pub mod watch;
pub mod worker;

pub use error::PatrolError;
pub use store::PatrolStore;
