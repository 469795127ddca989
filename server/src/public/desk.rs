//! The public desk: the one user (role `public`) and device residents' reports are written by.
//! Residents have no accounts; the desk is how the server signs what they send, so their issues
//! go through the same document model and role table as everyone's and every phone can tell
//! them apart (role `public`, reporter named 居民). It is made on first use and never enrolls:
//! its token is random and thrown away, so no device can act as it.
//!
//! The key the pages' forms are signed with lives here too.

use patrol_model::wire::{Scope, UserRecord};
use patrol_model::{DeviceId, Role, UserId};
use serde::{Deserialize, Serialize};

use super::PublicResult;
use crate::policy::DeviceCtx;
use crate::storage::Tx;

/// How the desk's reports name their reporter.
pub const REPORTER_NAME: &str = "居民";
const DESK: &str = "public_desk";
const FORM_KEY: &str = "form_key";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct DeskIds {
    user_id: UserId,
    device_id: DeviceId,
    actor_id: String,
}

/// The desk as a device, made (in `tx`) the first time it is needed.
pub fn desk(tx: &mut dyn Tx, now_ms: i64) -> PublicResult<DeviceCtx> {
    let ids = match tx.site_setting(DESK)? {
        Some(bytes) => serde_json::from_slice::<DeskIds>(&bytes)
            .map_err(|e| anyhow::anyhow!("the public desk's record is damaged: {e}"))?,
        None => {
            let user = UserRecord {
                id: UserId::new(),
                name: REPORTER_NAME.into(),
                role: Role::Public,
                scope: Scope::Own,
            };
            tx.add_user(&user, now_ms)?;
            let (device_id, actor_id) =
                crate::people::add_server_device(tx, &user.id, "public desk", now_ms)?;
            let ids = DeskIds {
                user_id: user.id,
                device_id,
                actor_id,
            };
            tx.put_site_setting(
                DESK,
                &serde_json::to_vec(&ids).map_err(anyhow::Error::from)?,
            )?;
            ids
        }
    };
    let user = tx
        .user(&ids.user_id)?
        .ok_or_else(|| anyhow::anyhow!("the public desk's user is missing"))?;
    Ok(DeviceCtx {
        device_id: ids.device_id,
        user,
        actor_id: ids.actor_id,
        streets: Default::default(),
    })
}

/// Whether `user` is the public desk (which no device may enrol as).
pub fn is_desk(tx: &mut dyn Tx, user: &UserId) -> PublicResult<bool> {
    Ok(match tx.site_setting(DESK)? {
        Some(bytes) => serde_json::from_slice::<DeskIds>(&bytes).is_ok_and(|d| d.user_id == *user),
        None => false,
    })
}

/// The 32-byte key the server signs its forms with (made on first use).
pub fn form_key(tx: &mut dyn Tx) -> PublicResult<[u8; 32]> {
    if let Some(k) = tx.site_setting(FORM_KEY)?
        && let Ok(key) = <[u8; 32]>::try_from(k.as_slice())
    {
        return Ok(key);
    }
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    tx.put_site_setting(FORM_KEY, &key)?;
    Ok(key)
}
