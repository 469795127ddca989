//! Noticing that a store changed, for hosts that keep a view of it on screen (the bindings'
//! observers: an issue list, the recording state).
//!
//! A [`ChangeStamp`] is cheap to read (no table is touched) and differs whenever the database's
//! content may have changed since the last reading, whichever connection wrote: this one (an
//! app's call), another one of the same app (a sync on its worker thread), or another process.
//! An observer reads the stamp and re-runs its query only when the stamp moved; equal stamps
//! mean nothing was written. The stamp may also move without a visible change (a write to an
//! unrelated table, a rolled-back transaction), so an observer compares its results too.
//!
//! [`crate::Store::own_changes`] is the part that counts this connection's writes alone, for checking
//! after a call whether it wrote anything (nanoseconds, no SQL).

use rusqlite::Connection;

use crate::error::Result;

/// A reading of how far the database's content has moved; compare two with `==`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeStamp {
    /// Rows this connection inserted, updated or deleted since it opened.
    own: u64,
    /// SQLite's `PRAGMA data_version`: moves when another connection commits.
    others: i64,
}

/// The stamp of the database `conn` is open on, as of now; see the module doc.
pub(crate) fn change_stamp(conn: &Connection) -> Result<ChangeStamp> {
    let others = conn.query_row("PRAGMA data_version", [], |r| r.get(0))?;
    Ok(ChangeStamp {
        own: own_changes(conn),
        others,
    })
}

/// Rows `conn` has inserted, updated or deleted since it opened (SQLite's `total_changes`).
pub(crate) fn own_changes(conn: &Connection) -> u64 {
    conn.total_changes()
}

#[cfg(test)]
mod tests {
    use crate::{Role, Store, StoreConfig};

    #[test]
    fn a_write_moves_the_stamp_and_a_read_does_not() {
        let mut store = Store::open_in_memory(StoreConfig::default()).unwrap();
        let before = store.change_stamp().unwrap();
        store.device().unwrap();
        store.list_patrols().unwrap();
        assert_eq!(store.change_stamp().unwrap(), before, "reads leave it");

        let writes = store.own_changes();
        store.init_device("王芳", Role::Chief, None).unwrap();
        assert!(store.own_changes() > writes, "the write is counted");
        assert_ne!(store.change_stamp().unwrap(), before, "a write moves it");
    }

    #[test]
    fn another_connections_commit_moves_the_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = Store::open(dir.path().join("p.db"), StoreConfig::default()).unwrap();
        app.init_device("王芳", Role::Chief, None).unwrap();
        let mut sync = app.open_another().unwrap();
        let before = app.change_stamp().unwrap();
        let own_before = app.own_changes();

        let id = sync.start_patrol(&[]).unwrap();
        assert_ne!(
            app.change_stamp().unwrap(),
            before,
            "the other connection's commit is seen"
        );
        assert_eq!(
            app.own_changes(),
            own_before,
            "and not counted as this connection's"
        );
        assert_eq!(app.open_patrol().unwrap(), Some(id));
    }
}
