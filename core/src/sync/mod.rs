//! Sync with the server: the wire protocol shared with the server, the fix batch format, the
//! local half of the protocol (no I/O), and the phone's HTTP client. See `docs/sync-protocol.md`.

pub mod blobs;
pub mod client;
pub mod docs;
pub mod engine;
pub mod records;
pub mod reference;
pub mod transport;

pub use patrol_model::{fixcodec, wire};

pub use client::{
    NetworkState, NoProgress, ServerUrl, SyncPolicy, SyncProgress, SyncReport, SyncStage,
    check_server_url, enrol, sync,
};
pub use engine::{Account, Applied, SetAside};
#[cfg(feature = "native-http")]
pub use transport::native::NativeTransport;
pub use transport::{HttpMethod, HttpRequest, HttpResponse, HttpTransport, TransportError};
