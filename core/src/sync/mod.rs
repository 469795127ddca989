//! Sync with the server: the wire protocol shared with the server, the fix batch format, the
//! local half of the protocol (no I/O), and the phone's HTTP client. See `docs/sync-protocol.md`.

pub mod blobs;
pub mod client;
pub mod docs;
pub mod engine;
pub mod records;
pub mod reference;

pub use patrol_model::{fixcodec, wire};

pub use client::{
    NetworkState, NoProgress, SyncPolicy, SyncProgress, SyncReport, SyncStage, block_on, enrol,
    sync,
};
pub use engine::{Account, Applied, SetAside};
