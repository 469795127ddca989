//! This device and the person using it ([`crate::store::DeviceIdentity`]).

use crate::domain::{Role, SubdistrictId};
use crate::error::{Error, Result};
use crate::store::{DeviceIdentity, Store, device};

impl Store {
    /// Sets the store up for its user: creates the user and this device. Fails if the store
    /// already belongs to someone.
    pub fn init_device(
        &mut self,
        name: &str,
        role: Role,
        subdistrict_id: Option<SubdistrictId>,
    ) -> Result<DeviceIdentity> {
        let name = device::check_user_name(name)?;
        let now = self.clock.now_ms();
        let tx = self.conn.transaction()?;
        let me = device::insert_identity(&tx, name, role, subdistrict_id, now)?;
        tx.commit()?;
        Ok(me)
    }

    /// This device's identity, or `None` before [`Store::init_device`].
    pub fn device(&self) -> Result<Option<DeviceIdentity>> {
        device::load_identity(&self.conn)
    }

    /// This device's identity, or [`Error::NotInitialised`].
    pub fn require_device(&self) -> Result<DeviceIdentity> {
        self.device()?.ok_or(Error::NotInitialised)
    }
}
