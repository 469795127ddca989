//! Issues as documents: the plain view of an issue, its categories, who may do what, the fold from
//! events to a state, the Automerge layout and its validation. No storage: the phone store keeps
//! these documents in SQLite, the server in its own tables.
//!
//! - [`model`]: the plain Rust view of an issue document (events, photos, comments).
//! - [`act`]: authoring an event after the fold's own check.
//! - [`catalog`]: the categories and their due times.
//! - [`roles`]: who may do what: one table, plus the state rules.
//! - [`workflow`]: the fold from events to status, round, assignees and conflicts.
//! - [`doc`]: the Automerge layout, reading and writing it.
//! - [`validate`]: the document's layout and limits, checked on upload (server) and receipt.

pub mod act;
pub mod catalog;
pub mod doc;
pub mod model;
pub mod roles;
pub mod validate;
pub mod workflow;

pub use catalog::{Catalog, CategorySpec};
pub use model::{
    Assignee, Comment, EventPayload, IssueDoc, IssueEvent, IssueLocation, PhotoRef, Reporter,
};
pub use workflow::{IssueState, IssueTransition, fold};

/// Radius within which open issues of the same category are offered as possible duplicates.
pub const DUPLICATE_RADIUS_M: f64 = 50.0;

/// Most possible duplicates offered for one issue.
pub const MAX_POSSIBLE_DUPLICATES: u32 = 20;

/// Longest description or comment, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;
