//! Signboards (公示牌) and their signed QR codes: issuing one (on the store holding the district's
//! key), trusting the district's public key (every other phone), scanning a code (a check-in
//! when a chief or steward scans during an open patrol) and the check-ins of a patrol.

use patrol_core::signboard::{CheckIn, ScanOutcome, ScanPosition, Signboard};
use patrol_core::{CheckInId, PatrolId, SignboardId, StreetId};

use crate::error::PatrolError;
use crate::store::PatrolStore;
use crate::types::LatLon;

/// A signboard as stored, with its code.
#[uniffi::remote(Record)]
pub struct Signboard {
    pub id: SignboardId,
    pub street_id: StreetId,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// The signed code (`SP1.…`): what the app reads from the QR.
    pub payload: String,
    /// What the QR holds: the public report page, ending in the code.
    pub link: String,
    pub created_at_ms: i64,
}

/// A check-in: proof that a patrol passed a signboard.
#[uniffi::remote(Record)]
pub struct CheckIn {
    pub id: CheckInId,
    pub patrol_id: PatrolId,
    pub signboard_id: SignboardId,
    pub street_id: StreetId,
    pub user_id: String,
    pub at_ms: i64,
    /// The patrol's fix used as the position (its latest kept one) when the scan gave none.
    pub fix_seq: Option<i64>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub accuracy_m: Option<f64>,
    /// How far the position was from the signboard, when both are known.
    pub distance_to_signboard_m: Option<f64>,
}

/// What scanning a code led to.
#[uniffi::remote(Record)]
pub struct ScanOutcome {
    pub signboard_id: SignboardId,
    pub street_id: StreetId,
    pub street_name: Option<String>,
    /// Recorded when a chief or steward scans during an open patrol.
    pub check_in: Option<CheckIn>,
    /// Why no check-in was recorded, when none was (show it; a resident goes on to report).
    pub note: Option<String>,
}

/// The phone's position when it scanned (WGS-84).
#[uniffi::remote(Record)]
pub struct ScanPosition {
    pub lat: f64,
    pub lon: f64,
    #[uniffi(default = None)]
    pub accuracy_m: Option<f64>,
}

#[uniffi::export]
impl PatrolStore {
    /// Issues a new signboard for a street, at `position` if known, with its signed code. The
    /// store must hold the district's secret key: a store with no key makes one (it becomes the
    /// district's issuer, see `district_public_key`); one that only trusts a public key fails
    /// with `InvalidState`.
    #[uniffi::method(default(position = None))]
    pub fn issue_signboard(
        &self,
        street_id: StreetId,
        position: Option<LatLon>,
    ) -> Result<Signboard, PatrolError> {
        self.with_store(|s| s.issue_signboard(street_id, position.map(|p| (p.lat, p.lon))))
    }

    /// The signboards of a street, oldest first.
    pub fn signboards_of(&self, street_id: StreetId) -> Result<Vec<Signboard>, PatrolError> {
        self.with_store(|s| s.signboards_of(street_id))
    }

    /// The district public key (base64url) that phones verify codes with; a store with no key
    /// makes the district key first and so becomes the issuer.
    pub fn district_public_key(&self) -> Result<String, PatrolError> {
        self.with_store(|s| s.district_public_key())
    }

    /// Trusts a district public key (base64url of 32 bytes), as a phone does after enrolment.
    /// `InvalidInput` when it is not one.
    pub fn trust_district_key(&self, public_key: String) -> Result<(), PatrolError> {
        self.with_store(|s| s.trust_district_key(&public_key))
    }

    /// Verifies a scanned code (the link or the bare code) against the trusted keys and, when
    /// this device's user is a chief or steward with an open patrol, records a check-in at
    /// `position` (or the patrol's latest kept fix). A forged, damaged or mistyped code fails
    /// with `InvalidInput` and records nothing; a genuine code for a street this store lacks
    /// with `NotFound`; a store with no key to check against with `InvalidState`.
    #[uniffi::method(default(position = None))]
    pub fn scan_signboard(
        &self,
        scanned: String,
        position: Option<ScanPosition>,
    ) -> Result<ScanOutcome, PatrolError> {
        self.with_store(|s| s.scan_signboard(&scanned, position))
    }

    /// The check-ins recorded on a patrol, in order.
    pub fn check_ins(&self, patrol_id: PatrolId) -> Result<Vec<CheckIn>, PatrolError> {
        self.with_store(|s| s.check_ins(patrol_id))
    }
}
