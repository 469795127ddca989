//! The reference rows the server publishes and devices store: the street network (a street with
//! its segments), assignments, signboards, the district's public key, issue categories. Their
//! form is part of the sync protocol (`docs/sync-protocol.md`).

use serde::{Deserialize, Serialize};

use crate::domain::Role;
use crate::error::{Error, Result};
use crate::streets::{Segment, Street};

/// One street with its segments: the unit the server publishes (`table = "street"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreetBundle {
    pub street: Street,
    /// Identity across re-imports (see the street table).
    pub key: String,
    pub segments: Vec<Segment>,
}

/// An assignment row (`table = "assignment"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssignmentRow {
    pub street_id: String,
    pub user_id: String,
    pub role: Role,
}

/// A signboard row (`table = "signboard"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignboardRow {
    pub id: String,
    pub street_id: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub payload: String,
}

/// The district's signboard public key (`table = "district_key"`), base64url.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistrictKeyRow {
    pub public_key: String,
}

/// The district's public address (`table = "site"`, id `district`): where residents reach the
/// signboard pages, so every device prints the same links.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteRow {
    pub public_url: String,
}

impl SiteRow {
    pub const TABLE: &'static str = "site";
    pub const ID: &'static str = "district";
}

/// An issue category the district publishes (`table = "category"`, id = its code).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryRow {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub due_hours: u32,
}

impl CategoryRow {
    /// A code of the catalog's form that is not a built-in one, clean names, a due time from an
    /// hour to a year.
    pub fn validate(&self) -> Result<()> {
        use crate::issues::catalog;
        let bad = |why: String| {
            Err(Error::InvalidConfig(format!(
                "category {:?}: {why}",
                self.code
            )))
        };
        if !catalog::valid_code(&self.code) || catalog::normalise_code(&self.code) != self.code {
            return bad("not a category code (lowercase letters, digits and _, at most 40)".into());
        }
        if catalog::Catalog::builtin().get(&self.code).is_some() {
            return bad("a built-in category".into());
        }
        for (what, name) in [("name_zh", &self.name_zh), ("name_en", &self.name_en)] {
            if let Err(e) = crate::text::check_name(what, name, crate::text::MAX_NAME_CHARS) {
                return bad(e.to_string());
            }
        }
        if !(1..=8_760).contains(&self.due_hours) {
            return bad("its due time must be 1 to 8,760 hours".into());
        }
        Ok(())
    }
}
