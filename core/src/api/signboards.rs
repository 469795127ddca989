//! Signboards, their signed codes and check-ins ([`crate::signboard`]).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::VerifyingKey;

use crate::domain::{PatrolId, Role, StreetId};
use crate::error::{Error, Result};
use crate::geodesy::check_coordinates;
use crate::signboard::{
    self, CheckIn, ScanOutcome, ScanPosition, Signboard, SignboardError, decode_code,
    decode_public_key,
};
use crate::store::Store;

impl Store {
    /// The district public keys this store trusts.
    pub fn district_public_keys(&self) -> Result<Vec<VerifyingKey>> {
        signboard::district_public_keys(&self.conn)
    }

    /// The district public key to hand to phones (base64url), making the district key if this
    /// store has none.
    pub fn district_public_key(&mut self) -> Result<String> {
        let keys = self.district_public_keys()?;
        let key = match keys.last() {
            Some(k) => *k,
            None => {
                signboard::district_signing_key(&self.conn, self.clock.now_ms())?.verifying_key()
            }
        };
        Ok(URL_SAFE_NO_PAD.encode(key.to_bytes()))
    }

    /// Trusts a district public key (base64url of 32 bytes), as a phone does after sync.
    pub fn trust_district_key(&mut self, public_key: &str) -> Result<()> {
        let bytes = decode_public_key(public_key)?;
        signboard::trust_district_key(&self.conn, &bytes, self.clock.now_ms())
    }

    /// Issues a new signboard for a street, at a position if known, with its signed code.
    pub fn issue_signboard(
        &mut self,
        street: StreetId,
        position: Option<(f64, f64)>,
    ) -> Result<Signboard> {
        self.street(street)?;
        if let Some((lat, lon)) = position {
            check_coordinates(lat, lon)
                .map_err(|why| Error::InvalidConfig(format!("signboard position {why}")))?;
        }
        let key = signboard::district_signing_key(&self.conn, self.clock.now_ms())?;
        let now = self.clock.now_ms();
        signboard::insert_signboard(&self.conn, &key, street, position, now)
    }

    /// The signboards of a street, oldest first.
    pub fn signboards_of(&self, street: StreetId) -> Result<Vec<Signboard>> {
        signboard::signboards_of(&self.conn, street)
    }

    /// Verifies a scanned code and, when this device's user is a chief or steward with an open
    /// patrol, records a check-in with `position` (or the patrol's latest kept fix).
    pub fn scan_signboard(
        &mut self,
        scanned: &str,
        position: Option<ScanPosition>,
    ) -> Result<ScanOutcome> {
        let keys = self.district_public_keys()?;
        let code = decode_code(scanned, &keys)?;
        let street = match self.street(code.street_id) {
            Ok(s) => s,
            Err(Error::Streets(crate::streets::StreetsError::UnknownStreet(_))) => {
                return Err(SignboardError::StreetNotInStore(code.street_id).into());
            }
            Err(e) => return Err(e),
        };
        if let Some(p) = position {
            check_coordinates(p.lat, p.lon).map_err(|why| Error::InvalidFix {
                field: "position",
                reason: why.into(),
            })?;
        }
        let mut outcome = ScanOutcome {
            signboard_id: code.signboard_id,
            street_id: code.street_id,
            street_name: street.name.clone(),
            check_in: None,
            note: None,
        };
        let me = match self.device()? {
            Some(me) if matches!(me.role, Role::Chief | Role::Steward) => me,
            Some(me) => {
                outcome.note = Some(format!(
                    "a {} scanning leads to reporting on this street; check-ins are for chiefs and stewards",
                    me.role
                ));
                return Ok(outcome);
            }
            None => {
                outcome.note = Some(
                    "no user on this device: scanning leads to reporting on this street".into(),
                );
                return Ok(outcome);
            }
        };
        let Some(patrol) = self.open_patrol()? else {
            outcome.note =
                Some("no patrol is open on this device; start one to record check-ins".into());
            return Ok(outcome);
        };
        let now = self.clock.now_ms();
        let check_in = signboard::record_check_in(
            &self.conn,
            patrol,
            &code,
            me.user_id.to_string(),
            position,
            now,
        )?;
        if check_in.fix_seq.is_none() && check_in.lat.is_none() {
            outcome.note =
                Some("recorded without a position: the patrol has no kept fix yet".into());
        }
        outcome.check_in = Some(check_in);
        Ok(outcome)
    }

    /// Check-ins recorded on a patrol, in order.
    pub fn check_ins(&self, patrol: PatrolId) -> Result<Vec<CheckIn>> {
        signboard::check_ins(&self.conn, patrol)
    }
}
