//! The device's hybrid logical clock in SQLite (the `hlc_state` row), so stamps never go
//! backwards across restarts. The clock itself is [`patrol_model::hlc`].

use rusqlite::{Connection, OptionalExtension, params};

pub use patrol_model::hlc::*;

use crate::error::Result;

/// The clock as persisted in `conn` (or a fresh one).
pub fn load_clock(conn: &Connection, actor: &str) -> Result<HlcClock> {
    let row: Option<(i64, i64)> = conn
        .query_row(
            "SELECT wall_ms, counter FROM hlc_state WHERE singleton = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (wall_ms, counter) = row.unwrap_or((0, 0));
    Ok(HlcClock::resume(
        actor,
        wall_ms,
        counter.clamp(0, u32::MAX as i64) as u32,
    ))
}

/// Writes the clock's last stamp back; call in the transaction that stores what was stamped.
pub fn save_clock(conn: &Connection, clock: &HlcClock) -> Result<()> {
    let last = clock.last();
    conn.execute(
        "INSERT INTO hlc_state (singleton, wall_ms, counter) VALUES (1, ?1, ?2)
         ON CONFLICT (singleton) DO UPDATE SET wall_ms = excluded.wall_ms, counter = excluded.counter",
        params![last.wall_ms, last.counter],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_survives_a_restart() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE hlc_state (singleton INTEGER PRIMARY KEY, wall_ms INTEGER, counter INTEGER)",
        )
        .unwrap();
        let mut c = HlcClock::new("aa");
        c.tick(5_000);
        let last = c.tick(5_000);
        save_clock(&conn, &c).unwrap();
        let mut again = load_clock(&conn, "aa").unwrap();
        let next = again.tick(1_000); // the phone rebooted with a wrong clock
        assert!(next > last);
    }
}
