//! Automerge documents kept in SQLite, shared by every kind of document the store holds
//! (issues, merchants): [`persist`] stores a document as a compacted snapshot plus the
//! `save_after(heads)` chunks written since, in a pair of tables per kind; [`fields`] reads and
//! writes the scalar fields and HLC stamps documents are made of; [`validate`] checks a document
//! against its kind's layout and limits (the server on upload, a phone on receipt).

pub(crate) mod persist;

pub use patrol_model::docs::{fields, validate};

pub(crate) use persist::{DocTables, StoredDoc};
