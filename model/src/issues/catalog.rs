//! The catalog of issue categories: what can be reported and how long each may stay open.
//!
//! Built-in categories cover the district's daily problems; a store can add its own (a new
//! campaign, a local nuisance) with [`crate::Store::add_issue_category`]. Documents carry the
//! category as its code, so a category this device does not know (made by a newer app) still
//! merges, lists and folds; it is due after [`FALLBACK_DUE_HOURS`].

use serde::Serialize;

use crate::error::{Error, Result};

/// How long an issue of an unknown category may stay open.
pub const FALLBACK_DUE_HOURS: u32 = 72;

/// One category: its code (lowercase snake_case, the wire and database form), names and due time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategorySpec {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// Hours from the start of a round (report or reopen) until the issue is overdue.
    pub due_hours: u32,
    pub builtin: bool,
}

/// (code, 中文, English, due hours) of the categories every device knows.
const BUILTIN: &[(&str, &str, &str, u32)] = &[
    ("litter", "暴露垃圾", "litter", 24),
    ("overflowing_bin", "垃圾桶满溢", "overflowing bin", 12),
    ("illegal_parking", "违章停车", "illegal parking", 4),
    (
        "street_vending",
        "占道经营",
        "street vending and occupation",
        8,
    ),
    (
        "illegal_advertising",
        "非法小广告",
        "illegal advertising",
        72,
    ),
    ("damaged_facility", "设施损坏", "damaged facility", 168),
    ("greening", "绿化问题", "greening", 168),
    (
        "frontage_duty_violation",
        "门前三包不落实",
        "frontage-duty violation",
        72,
    ),
    ("construction_waste", "渣土垃圾", "construction waste", 48),
    ("other", "其他", "other", FALLBACK_DUE_HOURS),
];

/// The categories a store knows: the built-in ones and those added to it.
#[derive(Debug, Clone)]
pub struct Catalog {
    specs: Vec<CategorySpec>,
}

impl Catalog {
    /// Only the built-in categories.
    pub fn builtin() -> Self {
        let specs = BUILTIN
            .iter()
            .map(|(code, zh, en, hours)| CategorySpec {
                code: (*code).into(),
                name_zh: (*zh).into(),
                name_en: (*en).into(),
                due_hours: *hours,
                builtin: true,
            })
            .collect();
        Self { specs }
    }

    /// Adds (or replaces the due time of) a custom category.
    pub fn with(mut self, spec: CategorySpec) -> Self {
        match self.specs.iter_mut().find(|s| s.code == spec.code) {
            Some(s) if !s.builtin => *s = spec,
            Some(_) => {}
            None => self.specs.push(spec),
        }
        self
    }

    pub fn all(&self) -> &[CategorySpec] {
        &self.specs
    }

    pub fn get(&self, code: &str) -> Option<&CategorySpec> {
        self.specs.iter().find(|s| s.code == code)
    }

    /// The category a user typed (`illegal-parking`, `Illegal_Parking` ...) as its code, or an
    /// error listing the codes.
    pub fn parse(&self, text: &str) -> Result<String> {
        let wanted = normalise_code(text);
        match self.get(&wanted) {
            Some(s) => Ok(s.code.clone()),
            None => Err(Error::InvalidInput(format!(
                "{text:?} is not an issue category; expected one of: {}",
                self.specs
                    .iter()
                    .map(|s| s.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Milliseconds an issue of `code` may stay open in one round.
    pub fn due_ms(&self, code: &str) -> i64 {
        let hours = self.get(code).map_or(FALLBACK_DUE_HOURS, |s| s.due_hours);
        i64::from(hours) * 3_600_000
    }
}

/// Lowercase snake_case, the form codes are stored in.
pub fn normalise_code(text: &str) -> String {
    text.trim().to_lowercase().replace(['-', ' '], "_")
}

/// Whether `code` is a well-formed category code (for custom categories).
pub fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 40
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_codes_are_snake_case_and_parse_loosely() {
        let c = Catalog::builtin();
        assert_eq!(c.all().len(), 10);
        assert!(c.all().iter().all(|s| valid_code(&s.code)));
        assert_eq!(c.parse("Illegal-Parking").unwrap(), "illegal_parking");
        let e = c.parse("graffiti").unwrap_err().to_string();
        assert!(e.contains("litter") && e.contains("graffiti"), "{e}");
        assert_eq!(c.due_ms("illegal_parking"), 4 * 3_600_000);
        assert_eq!(c.due_ms("from_a_newer_app"), 72 * 3_600_000);
    }
}
