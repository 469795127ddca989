//! This device and the person using it.

use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::domain::{DeviceId, Role, SubdistrictId, UserId};
use crate::error::{Error, Result};

/// Who this store belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceIdentity {
    pub device_id: DeviceId,
    pub user_id: UserId,
    pub name: String,
    pub role: Role,
    pub subdistrict_id: Option<SubdistrictId>,
    /// The Automerge actor id (hex) this device's changes carry: the device id's 16 bytes,
    /// so it is unique per installation and the server can bind one to the other.
    pub actor_id: String,
}

/// Creates the user and this device, refused if the store already belongs to someone; `name`
/// is checked.
pub(crate) fn insert_identity(
    tx: &Transaction<'_>,
    name: &str,
    role: Role,
    subdistrict_id: Option<SubdistrictId>,
    now_ms: i64,
) -> Result<DeviceIdentity> {
    if let Some(existing) = load_identity(tx)? {
        return Err(Error::AlreadyInitialised {
            name: existing.name,
            role: existing.role.to_string(),
        });
    }
    let user_id = UserId::new();
    let device_id = DeviceId::new();
    let actor_id = hex(device_id.0.as_bytes());
    tx.execute(
        "INSERT INTO user (id, name, role, subdistrict_id, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![user_id.to_string(), name, role.as_str(), subdistrict_id.map(|s| s.to_string()), now_ms],
    )?;
    tx.execute(
        "INSERT INTO device (singleton, id, user_id, actor_id, created_at_ms) VALUES (1, ?1, ?2, ?3, ?4)",
        params![device_id.to_string(), user_id.to_string(), actor_id, now_ms],
    )?;
    Ok(DeviceIdentity {
        device_id,
        user_id,
        name: name.to_owned(),
        role,
        subdistrict_id,
        actor_id,
    })
}

/// A user's name as entered, trimmed and checked.
pub(crate) fn check_user_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > crate::text::MAX_NAME_CHARS {
        return Err(Error::InvalidConfig(
            "the user's name must be 1 to 100 characters".into(),
        ));
    }
    crate::text::check_name("the user's name", name, crate::text::MAX_NAME_CHARS)
        .map_err(|e| Error::InvalidConfig(e.to_string()))?;
    Ok(name)
}

/// This device's identity, or `None` before it is set up.
pub(crate) fn load_identity(conn: &rusqlite::Connection) -> Result<Option<DeviceIdentity>> {
    let row = conn
        .query_row(
            "SELECT d.id, u.id, u.name, u.role, u.subdistrict_id, d.actor_id
               FROM device d JOIN user u ON u.id = d.user_id",
            [],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, String>(5)?,
                ))
            },
        )
        .optional()?;
    let Some((device, user, name, role, subdistrict, actor_id)) = row else {
        return Ok(None);
    };
    Ok(Some(DeviceIdentity {
        device_id: device.parse()?,
        user_id: user.parse()?,
        name,
        role: role.parse()?,
        subdistrict_id: subdistrict.map(|s| s.parse()).transpose()?,
        actor_id,
    }))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Store, StoreConfig};

    #[test]
    fn init_once_then_refuse() {
        let mut s = Store::open_in_memory(StoreConfig::default()).unwrap();
        assert!(s.device().unwrap().is_none());
        assert!(matches!(s.require_device(), Err(Error::NotInitialised)));
        let id = s.init_device("王芳", Role::Chief, None).unwrap();
        assert_eq!(s.require_device().unwrap(), id);
        assert_eq!(id.actor_id.len(), 32);
        let again = s.init_device("李雷", Role::Steward, None).unwrap_err();
        assert!(matches!(again, Error::AlreadyInitialised { .. }), "{again}");
        assert!(s.init_device("  ", Role::Chief, None).is_err());
    }
}
