//! What every kind of Automerge document (issues, merchants) shares: [`fields`] reads and writes
//! the scalar fields and HLC stamps documents are made of; [`validate`] checks a document against
//! its kind's layout and limits (the server on upload, a phone on receipt).

pub mod fields;
pub mod validate;
