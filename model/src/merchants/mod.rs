//! Merchants (商户) and their frontage-duty (门前三包) inspections as documents: the plain view,
//! the Automerge layout and its validation. No storage.

pub mod doc;
pub mod model;
pub mod validate;

pub use model::{Inspection, IssueLink, Merchant, MerchantFields};

/// Longest name, address, contact or note, in characters.
pub const MAX_TEXT_CHARS: usize = 500;
