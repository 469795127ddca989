//! Office passwords and signing in. A password is kept only as an Argon2id PHC string (salted,
//! memory-hard); it is never stored, logged or echoed in clear. After [`MAX_FAILURES`] wrong
//! passwords in a row the account is locked for [`LOCK_MS`]; a locked account does not even try
//! the password, so guessing stops. A name nobody has costs the same hashing as a real one.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use patrol_model::UserId;
use patrol_model::wire::UserRecord;

use super::{OfficeError, OfficeResult, OfficeUser, may_use_office};
use crate::storage::{OfficeLoginRow, Storage, Tx};

/// Shortest and longest password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 128;
/// Wrong passwords in a row before the account locks.
pub const MAX_FAILURES: u32 = 5;
/// How long a locked account waits.
pub const LOCK_MS: i64 = 15 * 60 * 1000;

/// Whether a password is acceptable, and why not.
pub fn check_password(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(format!(
            "a password needs at least {MIN_PASSWORD_CHARS} characters (this one has {n})"
        ));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(format!(
            "a password has at most {MAX_PASSWORD_CHARS} characters (this one has {n})"
        ));
    }
    if password.chars().any(char::is_control) {
        return Err("a password cannot contain control characters".into());
    }
    Ok(())
}

fn hash(password: &str) -> OfficeResult<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}").into())
}

fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Sets (or replaces) `user`'s office password; `admin` lets them read the audit log. Ends the
/// user's open sessions: a new password signs every browser out.
pub fn set_password(
    storage: &dyn Storage,
    user: &UserRecord,
    password: &str,
    admin: bool,
    now_ms: i64,
) -> OfficeResult<()> {
    may_use_office(user).map_err(OfficeError::NotAllowed)?;
    check_password(password).map_err(OfficeError::Invalid)?;
    let phc = hash(password)?;
    let mut tx = storage.write()?;
    tx.put_office_login(&OfficeLoginRow {
        user_id: user.id,
        password_hash: phc,
        is_admin: admin,
        set_at_ms: now_ms,
        failed_count: 0,
        locked_until_ms: None,
    })?;
    tx.delete_office_sessions_of(&user.id)?;
    tx.commit()?;
    Ok(())
}

/// The users a sign-in name may mean: a user id, else every office user with that name.
pub(crate) fn candidates(
    tx: &mut dyn Tx,
    name: &str,
) -> OfficeResult<Vec<(UserRecord, OfficeLoginRow)>> {
    let name = name.trim();
    let users: Vec<UserRecord> = match name.parse::<UserId>() {
        Ok(id) => tx.user(&id)?.into_iter().collect(),
        Err(_) => tx.users()?.into_iter().filter(|u| u.name == name).collect(),
    };
    let mut out = Vec::new();
    for u in users {
        if let Some(login) = tx.office_login(&u.id)? {
            out.push((u, login));
        }
    }
    Ok(out)
}

/// Checks a name and password in `tx` (which the caller commits, whatever the answer: failed
/// attempts and lock-outs are written). Returns the user on success.
pub fn sign_in(
    tx: &mut dyn Tx,
    name: &str,
    password: &str,
    now_ms: i64,
) -> OfficeResult<OfficeUser> {
    let found = candidates(tx, name)?;
    if found.is_empty() {
        // The same work as a real check, so the answer's timing says nothing about the name.
        verify(password, DUMMY_PHC);
        return Err(OfficeError::BadCredentials);
    }
    let mut locked_until = None;
    for (user, mut login) in found {
        if let Some(until) = login.locked_until_ms
            && until > now_ms
        {
            locked_until = Some(locked_until.map_or(until, |u: i64| u.max(until)));
            continue;
        }
        if verify(password, &login.password_hash) {
            if let Err(why) = may_use_office(&user) {
                return Err(OfficeError::NotAllowed(why));
            }
            login.failed_count = 0;
            login.locked_until_ms = None;
            tx.put_office_login(&login)?;
            return Ok(OfficeUser {
                user,
                is_admin: login.is_admin,
            });
        }
        login.failed_count = login.failed_count.saturating_add(1);
        if login.failed_count >= MAX_FAILURES {
            login.locked_until_ms = Some(now_ms.saturating_add(LOCK_MS));
            login.failed_count = 0;
            locked_until = login.locked_until_ms;
        }
        tx.put_office_login(&login)?;
    }
    match locked_until {
        Some(until_ms) => Err(OfficeError::Locked { until_ms }),
        None => Err(OfficeError::BadCredentials),
    }
}

/// The office user behind a user id, if they still may use the office.
pub fn office_user(tx: &mut dyn Tx, user: &UserId) -> OfficeResult<Option<OfficeUser>> {
    let (Some(record), Some(login)) = (tx.user(user)?, tx.office_login(user)?) else {
        return Ok(None);
    };
    if may_use_office(&record).is_err() {
        return Ok(None);
    }
    Ok(Some(OfficeUser {
        user: record,
        is_admin: login.is_admin,
    }))
}

/// An Argon2id hash of a password nobody has, verified against when the name is unknown.
const DUMMY_PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$2IzNE7fjc9Ib7UgcVL+fMeE5o8MjuDoYQ14NjXEr4lM";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(!h.contains("correct horse"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse batterx", &h));
        assert!(!verify("anything", "not a hash"));
    }

    #[test]
    fn the_dummy_hash_parses_so_unknown_names_cost_a_real_check() {
        assert!(PasswordHash::new(DUMMY_PHC).is_ok());
    }

    #[test]
    fn passwords_are_checked_for_length_and_control_characters() {
        assert!(check_password("short").is_err());
        assert!(check_password("long enough password").is_ok());
        assert!(check_password(&"x".repeat(129)).is_err());
        assert!(check_password("tab\there is bad!").is_err());
    }
}
