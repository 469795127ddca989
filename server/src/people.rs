//! People in the server's storage, inside the caller's transaction: a user made with their
//! one-time enrolment code and published to devices, and a chief or steward assigned to a street
//! (re-announcing the street's items so their devices receive them). The admin commands and the
//! approval of a steward application both write through these.

use anyhow::{Context, Result, bail};
use patrol_model::text::{MAX_NAME_CHARS, check_name};
use patrol_model::wire::{Scope, UserRecord};
use patrol_model::{DeviceId, Role, UserId};
use serde_json::json;

use crate::secrets::{hash_secret, normalise_code};
use crate::storage::{FeedScope, Tx};

/// How long an enrolment code stays valid unless the admin says otherwise: two weeks to get
/// the phone to the person.
pub const ENROL_CODE_VALID_DAYS: u32 = 14;
/// The longest an admin may make a code valid: a code is a key to the district's data.
pub const MAX_ENROL_CODE_VALID_DAYS: u32 = 90;
/// [`ENROL_CODE_VALID_DAYS`] in milliseconds.
pub const ENROL_CODE_TTL_MS: i64 = ENROL_CODE_VALID_DAYS as i64 * DAY_MS;
pub(crate) const DAY_MS: i64 = 24 * 3600 * 1000;

/// Adds `user` with the one-time `code` valid `valid_ms`, and publishes who they are (but a
/// resident's), inside the caller's transaction.
pub fn create_user(
    tx: &mut dyn Tx,
    user: &UserRecord,
    code: &str,
    now: i64,
    valid_ms: i64,
) -> Result<()> {
    check_name("a user's name", &user.name, MAX_NAME_CHARS)?;
    if let Scope::Subdistrict(s) = &user.scope
        && !tx
            .subdistricts()?
            .iter()
            .any(|(id, _, _)| *id == s.to_string())
    {
        bail!("subdistrict {s} does not exist");
    }
    tx.add_user(user, now)?;
    tx.add_enrol_code(
        &hash_secret(&normalise_code(code)),
        &user.id,
        now,
        now + valid_ms,
    )?;
    if user.role != Role::Public {
        tx.put_reference(
            "user",
            &user.id.to_string(),
            None,
            &json!({ "id": user.id, "name": user.name, "role": user.role }),
            false,
        )?;
        tx.feed_touch("ref:user", &user.id.to_string(), &FeedScope::default())?;
    }
    Ok(())
}

/// The QR payload a phone scans to enrol with `code` (at `server_url`, when given).
pub fn enrol_qr(code: &str, server_url: Option<&str>) -> String {
    match server_url {
        Some(url) => format!("streetpatrol:enrol?code={code}&server={url}"),
        None => format!("streetpatrol:enrol?code={code}"),
    }
}

/// [`assign`] inside the caller's transaction, the street given by id.
pub fn assign_in(
    tx: &mut dyn Tx,
    street_id: &str,
    user: &UserId,
    role: Role,
    assigned: bool,
) -> Result<()> {
    let street_id = street_id.to_owned();
    let u = tx.user(user)?.with_context(|| format!("no user {user}"))?;
    if u.role != role {
        bail!("{} is a {}, not a {role}", u.name, u.role);
    }
    tx.set_assignment(&street_id, user, role, assigned)?;
    let id = format!("{street_id}:{user}:{role}");
    let sub = tx.street_subdistrict(&street_id)?.flatten();
    tx.put_reference(
        "assignment",
        &id,
        Some(&street_id),
        &json!({ "street_id": street_id, "user_id": user, "role": role }),
        !assigned,
    )?;
    let scope = FeedScope {
        street_id: Some(street_id.clone()),
        subdistrict_id: sub,
        owner_id: None,
        audience: vec![user.to_string()],
    };
    tx.feed_touch("ref:assignment", &id, &scope)?;
    if assigned {
        for (kind, item) in tx.feed_items_of_street(&street_id)? {
            if let Some(row) = tx.feed_row(&kind, &item)? {
                tx.feed_touch(&kind, &item, &row.scope)?;
            }
        }
    }
    Ok(())
}

/// A device the server itself writes documents through on `user`'s behalf (the public desk, a
/// supervisor's office desk), added in `tx`: its Automerge actor is its id, and its token is one
/// nobody holds, so it never syncs. Returns the device and its actor id (hex).
pub fn add_server_device(
    tx: &mut dyn Tx,
    user: &UserId,
    name: &str,
    now_ms: i64,
) -> Result<(DeviceId, String)> {
    let device_id = DeviceId::new();
    let actor_id = hex::encode(device_id.0.as_bytes());
    let unusable = hash_secret(&crate::secrets::new_token());
    tx.add_device(&device_id, user, &actor_id, &unusable, Some(name), now_ms)?;
    Ok((device_id, actor_id))
}

/// The subdistrict (id) a person answers in: their scope's, else that of their first assigned
/// street that lies in one (a chief or steward scoped to their own streets).
pub fn subdistrict_of(tx: &mut dyn Tx, user: &UserRecord) -> Result<Option<String>> {
    if let Scope::Subdistrict(s) = &user.scope {
        return Ok(Some(s.to_string()));
    }
    for street in tx.streets_of_user(&user.id)? {
        if let Some(Some(s)) = tx.street_subdistrict(&street)? {
            return Ok(Some(s));
        }
    }
    Ok(None)
}
