//! Signed-in browsers. A session is a random token in an HttpOnly, SameSite=Strict cookie; the
//! server keeps its hash, when it was last used and when it ends. It ends after [`IDLE_MS`]
//! without a request, after [`MAX_AGE_MS`] in any case, on sign-out, and when the user's password
//! changes. Each session has its own CSRF token, which every form carries.

use super::{OfficeResult, OfficeUser, accounts};
use crate::secrets::{hash_secret, new_token};
use crate::storage::{OfficeSessionRow, Tx};

/// A session ends after this long without a request.
pub const IDLE_MS: i64 = 2 * 60 * 60 * 1000;
/// And after this long in any case (a working day).
pub const MAX_AGE_MS: i64 = 12 * 60 * 60 * 1000;
/// Requests closer together than this do not rewrite the session's last use.
const TOUCH_EVERY_MS: i64 = 60 * 1000;

/// A session just started: the cookie's value (shown once) and the form token.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
}

/// A session found by its cookie.
#[derive(Debug, Clone)]
pub struct Session {
    pub token_hash: String,
    pub csrf_token: String,
    pub user: OfficeUser,
}

/// Starts a session for `user`.
pub fn start(
    tx: &mut dyn Tx,
    user: &OfficeUser,
    address: Option<&str>,
    now_ms: i64,
) -> OfficeResult<NewSession> {
    let token = new_token();
    let csrf_token = new_token();
    tx.put_office_session(&OfficeSessionRow {
        token_hash: hash_secret(&token),
        user_id: user.user.id,
        csrf_token: csrf_token.clone(),
        created_at_ms: now_ms,
        last_seen_ms: now_ms,
        expires_at_ms: now_ms.saturating_add(MAX_AGE_MS),
        address: address.map(str::to_owned),
    })?;
    Ok(NewSession { token, csrf_token })
}

/// What a cookie's session is now, read without writing (pages answer from a read snapshot).
#[derive(Debug)]
pub enum Lookup {
    /// Live; `touch` when its last use should be written (at most once a minute).
    Live { session: Session, touch: bool },
    /// No session, or one that ended (idle, too old, its user no longer an office user):
    /// `Some(hash)` of a stored one to remove.
    Dead { stale: Option<String> },
}

/// The session a cookie holds, if it is live and its user may still use the office.
pub fn look_up(tx: &mut dyn Tx, token: &str, now_ms: i64) -> OfficeResult<Lookup> {
    let token_hash = hash_secret(token);
    let Some(row) = tx.office_session(&token_hash)? else {
        return Ok(Lookup::Dead { stale: None });
    };
    let idle = now_ms.saturating_sub(row.last_seen_ms) > IDLE_MS;
    if idle || now_ms >= row.expires_at_ms {
        return Ok(Lookup::Dead {
            stale: Some(token_hash),
        });
    }
    let Some(user) = accounts::office_user(tx, &row.user_id)? else {
        return Ok(Lookup::Dead {
            stale: Some(token_hash),
        });
    };
    let touch = now_ms.saturating_sub(row.last_seen_ms) >= TOUCH_EVERY_MS;
    Ok(Lookup::Live {
        session: Session {
            token_hash,
            csrf_token: row.csrf_token,
            user,
        },
        touch,
    })
}

/// Writes what a look-up found due: the session's last use, or its removal.
pub fn upkeep(tx: &mut dyn Tx, lookup: &Lookup, now_ms: i64) -> OfficeResult<()> {
    match lookup {
        Lookup::Live {
            session,
            touch: true,
        } => tx.touch_office_session(&session.token_hash, now_ms)?,
        Lookup::Dead { stale: Some(hash) } => tx.delete_office_session(hash)?,
        _ => {}
    }
    Ok(())
}

/// Ends a session.
pub fn end(tx: &mut dyn Tx, token_hash: &str) -> OfficeResult<()> {
    tx.delete_office_session(token_hash)?;
    Ok(())
}

/// Whether a form's token is this session's (compared in constant time).
pub fn csrf_matches(session: &Session, sent: &str) -> bool {
    let a = session.csrf_token.as_bytes();
    let b = sent.as_bytes();
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
