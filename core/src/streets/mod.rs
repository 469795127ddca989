//! The street network in the phone store: imports (one transaction each), assignments, the
//! stored network version. The network itself, its files and its topology are
//! [`patrol_model::streets`].

pub(crate) mod store;

pub use patrol_model::streets::*;

pub(crate) use store::encode_geometry;
pub use store::{Assignment, STREET_PROGRESS_EVERY, StreetInfo};
