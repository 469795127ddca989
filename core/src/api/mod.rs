//! The phone store's public API: the methods of [`crate::Store`], one file per capability.
//!
//! Each method is a thin facade: it resolves this device's identity and role, reads `now` from
//! the store's clock, opens a transaction (or reads through the connection), calls the
//! capability's storage functions, commits and notifies observers. The SQL lives in the
//! capability modules, as functions over a connection or a transaction. The reports (feature
//! `reports`) gather facts from the store and compute them in the model.

mod closed_loop;
mod coverage;
mod device;
mod issues;
mod merchants;
mod observe;
mod patrols;
mod photos;
mod points;
#[cfg(feature = "reports")]
mod reports;
mod signboards;
mod streets;
mod sync;
