//! The store's public entry points that only put other modules together: each gathers what it
//! needs from the store and hands it to the code that computes (mostly the model), so that
//! code stays free of the store.
//!
//! - `reports` (feature `reports`): the supervisors' reports, their exports and pictures.

#[cfg(feature = "reports")]
mod reports;
