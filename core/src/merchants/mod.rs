//! Merchants (商户) along the streets and their frontage duty (门前三包: sanitation, greening and
//! order in front of each shop).
//!
//! A merchant is an Automerge document like an issue ([`doc`], stored with the shared
//! [`crate::docs::persist`] in `merchant_doc` / `merchant_chunk`), because supervisors and chiefs
//! edit them on phones that are offline half the time: fields are registers, inspections and
//! issue links are appended, and two phones that inspected the same shop both keep their
//! inspection after a merge. A `merchant` projection row per document makes lists plain SQL.
//! The credit score and rating are computed by reports ([`crate::report::merchants`]).
//! [`validate`] holds the document's layout and limits, checked on upload and receipt.

pub use patrol_model::merchants::{MAX_TEXT_CHARS, doc, model, validate};

use serde::Serialize;

pub use model::{Inspection, IssueLink, Merchant, MerchantFields};

use crate::docs::DocTables;
use crate::domain::{Datum, DutyGrade, MerchantId, Role};
use crate::error::{Error, Result};
use crate::geodesy::{check_coordinates, gcj02_to_wgs84};
use crate::store::DeviceIdentity;

pub(crate) mod storage;

pub(crate) use storage::merge_merchant;

pub(crate) const MERCHANTS: DocTables = DocTables {
    docs: "merchant_doc",
    chunks: "merchant_chunk",
    what: "merchant",
};

/// What a supervisor or chief enters for a new merchant.
#[derive(Debug, Clone)]
pub struct NewMerchant {
    pub name: String,
    pub kind: Option<String>,
    pub address: Option<String>,
    pub contact: Option<String>,
    pub lat: f64,
    pub lon: f64,
    pub datum: Datum,
    /// The street (id or unambiguous name) of its frontage; matched from the location when
    /// `None` and the store has a street network.
    pub street: Option<String>,
}

/// Changes to a merchant's fields; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct MerchantEdit {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub address: Option<String>,
    pub contact: Option<String>,
    pub location: Option<(f64, f64)>,
    pub closed: Option<bool>,
}

/// A frontage-duty inspection as entered.
#[derive(Debug, Clone)]
pub struct NewInspection {
    pub sanitation: DutyGrade,
    pub greening: DutyGrade,
    pub order: DutyGrade,
    pub note: Option<String>,
    /// Photos already in the photo store (SHA-256).
    pub photos: Vec<String>,
}

/// A merchant as lists show it: the projection row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MerchantSummary {
    pub id: MerchantId,
    pub name: String,
    pub kind: Option<String>,
    pub street_id: Option<String>,
    pub segment_id: Option<String>,
    pub lat: f64,
    pub lon: f64,
    pub closed: bool,
    pub inspection_count: u32,
    pub last_inspected_ms: Option<i64>,
}

/// Which merchants to list.
#[derive(Debug, Clone, Default)]
pub struct MerchantQuery {
    pub street_id: Option<String>,
    pub segment_id: Option<String>,
    pub include_closed: bool,
}

/// What merging a merchant document from another device did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MerchantMergeOutcome {
    pub id: MerchantId,
    pub new: bool,
    pub changed: bool,
}

/// The street id and segment id of a merchant's frontage, each unknown when `None`.
pub(crate) type Frontage = (Option<String>, Option<String>);

/// `me`, if they may edit merchants (supervisors and chiefs).
pub(crate) fn require_editor(me: DeviceIdentity, action: &str) -> Result<DeviceIdentity> {
    if !matches!(me.role, Role::Supervisor | Role::Chief) {
        return Err(Error::InvalidInput(format!(
            "a {} may not {action}: supervisors and chiefs edit merchants",
            me.role
        )));
    }
    Ok(me)
}

/// A new merchant's location in WGS-84, checked.
pub(crate) fn location_of(new: &NewMerchant) -> Result<(f64, f64)> {
    let (lat, lon) = match new.datum {
        Datum::Wgs84 => (new.lat, new.lon),
        Datum::Gcj02 => gcj02_to_wgs84(new.lat, new.lon),
    };
    check_location(lat, lon)?;
    Ok((lat, lon))
}

/// Refuses a merchant location off the globe.
pub(crate) fn check_location(lat: f64, lon: f64) -> Result<()> {
    check_coordinates(lat, lon)
        .map_err(|why| Error::InvalidInput(format!("merchant location ({lat}, {lon}) {why}")))
}

/// The street and segment of a frontage when the store has no street network: the street as
/// given, no segment.
pub(crate) fn frontage_without_network(street: Option<&str>) -> Frontage {
    (
        street
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty()),
        None,
    )
}

/// A trimmed optional text, `None` when empty, refused when too long.
pub(crate) fn clean(text: Option<String>, what: &str) -> Result<Option<String>> {
    let t = text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    if t.as_ref()
        .is_some_and(|t| t.chars().count() > MAX_TEXT_CHARS)
    {
        return Err(Error::InvalidInput(format!(
            "the merchant's {what} may have at most {MAX_TEXT_CHARS} characters"
        )));
    }
    Ok(t)
}
