//! Noticing that the store changed ([`crate::observe`]).

use crate::error::Result;
use crate::observe::{self, ChangeStamp};
use crate::store::Store;

impl Store {
    /// The stamp as of now; see [`crate::observe`].
    pub fn change_stamp(&self) -> Result<ChangeStamp> {
        observe::change_stamp(&self.conn)
    }

    /// Rows this connection has inserted, updated or deleted since it opened (SQLite's
    /// `total_changes`). Grows by at least one with every call that wrote.
    pub fn own_changes(&self) -> u64 {
        observe::own_changes(&self.conn)
    }
}
