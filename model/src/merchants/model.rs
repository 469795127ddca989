//! The plain Rust view of a merchant document: what [`super::doc`] reads and writes.

use serde::{Deserialize, Serialize};

use crate::domain::{DutyGrade, FrontageDuty, InspectionId, IssueId, MerchantId, Role, UserId};
use crate::hlc::HlcStamp;

/// The document layout version this code writes.
pub const MERCHANT_DOC_SCHEMA_VERSION: i64 = 1;

/// The fields of a merchant anyone with the right role may change (last writer wins per field:
/// these are rarely edited and a name typed twice is no conflict worth a person's time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct MerchantFields {
    pub name: String,
    /// What kind of shop (restaurant, grocery, repair ...).
    pub kind: Option<String>,
    pub address: Option<String>,
    pub contact: Option<String>,
    pub lat: f64,
    pub lon: f64,
    /// The street and segment its frontage lies along.
    pub street_id: Option<String>,
    pub segment_id: Option<String>,
    /// Closed down or moved away: kept for the record, left out of ratings.
    pub closed: bool,
}

/// One frontage-duty inspection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inspection {
    pub id: InspectionId,
    pub by: UserId,
    pub role: Role,
    pub at: HlcStamp,
    pub sanitation: DutyGrade,
    pub greening: DutyGrade,
    pub order: DutyGrade,
    pub note: Option<String>,
    /// Photos (SHA-256 of files in the photo store).
    pub photos: Vec<String>,
}

impl Inspection {
    pub fn grade(&self, duty: FrontageDuty) -> DutyGrade {
        match duty {
            FrontageDuty::Sanitation => self.sanitation,
            FrontageDuty::Greening => self.greening,
            FrontageDuty::Order => self.order,
        }
    }
}

/// Someone linked an issue to the merchant (`linked`) or said it is not theirs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssueLink {
    pub issue_id: IssueId,
    pub linked: bool,
    pub by: UserId,
    pub at: HlcStamp,
}

/// Everything a merchant document holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Merchant {
    pub id: MerchantId,
    #[serde(flatten)]
    pub fields: MerchantFields,
    pub created_by: UserId,
    pub created_at_ms: i64,
    /// In HLC order.
    pub inspections: Vec<Inspection>,
    /// Explicit links and unlinks in HLC order; the latest per issue stands.
    pub links: Vec<IssueLink>,
}

impl Merchant {
    /// The issues someone linked explicitly (and did not unlink later), and those unlinked.
    pub fn explicit_links(&self) -> (Vec<IssueId>, Vec<IssueId>) {
        let mut last: std::collections::BTreeMap<IssueId, bool> = Default::default();
        for l in &self.links {
            last.insert(l.issue_id, l.linked);
        }
        let linked = last.iter().filter(|(_, v)| **v).map(|(k, _)| *k).collect();
        let unlinked = last.iter().filter(|(_, v)| !**v).map(|(k, _)| *k).collect();
        (linked, unlinked)
    }
}
