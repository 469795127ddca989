//! The district's rules as reference data: the report rules (assessment, stewards, merchants),
//! the versions of the points rules, and the issue categories. Published here, they reach every
//! device of the staff on its next sync with their versions; the server scores points claims by
//! the same versions, and every report names the rules version it used.

use anyhow::{Context, Result, bail};
use patrol_model::PointsKind;
use patrol_model::points::PointsRule;
use patrol_model::reference::CategoryRow;
use patrol_model::report::ReportRules;
use serde::Serialize;

use crate::storage::{FeedScope, Storage, Tx};

/// What the district has published.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Published {
    /// The report rules' name and version, when published (else phones use the shipped ones).
    pub report_rules: Option<(String, u32)>,
    /// Every version of every points rule: the shipped ones and those published.
    pub points_rules: Vec<PointsRule>,
    pub categories: Vec<CategoryRow>,
}

/// Reference rows reach every device of the staff, whatever its scope.
fn publish(tx: &mut dyn Tx, table: &str, id: &str, body: &serde_json::Value) -> Result<()> {
    tx.put_reference(table, id, None, body, false)?;
    tx.feed_touch(&format!("ref:{table}"), id, &FeedScope::default())?;
    Ok(())
}

/// Publishes a report rules file: valid, and of a version above the one published.
pub fn publish_report_rules(storage: &dyn Storage, text: &str) -> Result<(String, u32)> {
    let rules = ReportRules::from_json(text)?;
    let mut tx = storage.write()?;
    if let Some((body, false)) = tx.reference("rules", ReportRules::REFERENCE_ID)? {
        let old = ReportRules::from_json(&body.to_string())
            .context("the report rules published before are not readable")?;
        if rules.version <= old.version {
            bail!(
                "rules {:?} version {} is published already; publish a version above it",
                old.name,
                old.version
            );
        }
    }
    publish(
        tx.as_mut(),
        "rules",
        ReportRules::REFERENCE_ID,
        &serde_json::to_value(&rules)?,
    )?;
    tx.commit()?;
    Ok((rules.name, rules.version))
}

/// Every version of a kind's points rule: shipped, then published.
fn versions(tx: &mut dyn Tx, kind: PointsKind) -> Result<Vec<PointsRule>> {
    let mut out = Vec::new();
    for v in 1..=crate::validate::MAX_RULE_VERSIONS {
        match crate::validate::points_rule(tx, kind.as_str(), v)? {
            Some(r) => out.push(r),
            None => break,
        }
    }
    Ok(out)
}

/// Publishes the next version of a kind's points rule, in force from `valid_from_ms` (not
/// before the version it follows).
pub fn publish_points_rule(
    storage: &dyn Storage,
    kind: PointsKind,
    points: i64,
    per_bag: i64,
    daily_cap: Option<i64>,
    valid_from_ms: i64,
    description: &str,
) -> Result<PointsRule> {
    let mut tx = storage.write()?;
    let before = versions(tx.as_mut(), kind)?;
    let last = before.last().context("no shipped version of the rule")?;
    if valid_from_ms < last.valid_from_ms {
        bail!(
            "{kind} version {} is in force from {} ms; a new version starts then or later",
            last.version,
            last.valid_from_ms
        );
    }
    let rule = PointsRule {
        id: kind.as_str().into(),
        version: last.version + 1,
        kind,
        points,
        per_bag,
        daily_cap,
        valid_from_ms,
        description: description.trim().into(),
    };
    rule.validate()?;
    publish(
        tx.as_mut(),
        "points_rule",
        &rule.reference_id(),
        &serde_json::to_value(&rule)?,
    )?;
    tx.commit()?;
    Ok(rule)
}

/// Publishes an issue category (or new names and due time for one published before).
pub fn publish_category(storage: &dyn Storage, category: &CategoryRow) -> Result<()> {
    category.validate()?;
    let mut tx = storage.write()?;
    publish(
        tx.as_mut(),
        "category",
        &category.code,
        &serde_json::to_value(category)?,
    )?;
    tx.commit()?;
    Ok(())
}

/// The district's catalog of issue categories: the built-in ones and those it published.
pub fn catalog(tx: &mut dyn Tx) -> Result<patrol_model::issues::Catalog> {
    let mut catalog = patrol_model::issues::Catalog::builtin();
    for (_, body) in tx.references("category")? {
        let row: CategoryRow = serde_json::from_value(body)?;
        catalog = catalog.with(patrol_model::issues::CategorySpec {
            code: row.code,
            name_zh: row.name_zh,
            name_en: row.name_en,
            due_hours: row.due_hours,
            builtin: false,
        });
    }
    Ok(catalog)
}

pub fn published(storage: &dyn Storage) -> Result<Published> {
    let mut tx = storage.read()?;
    let report_rules = match tx.reference("rules", ReportRules::REFERENCE_ID)? {
        Some((body, false)) => {
            let r = ReportRules::from_json(&body.to_string())?;
            Some((r.name, r.version))
        }
        _ => None,
    };
    let mut points_rules = Vec::new();
    for kind in PointsKind::ALL {
        points_rules.extend(versions(tx.as_mut(), *kind)?);
    }
    let categories = tx
        .references("category")?
        .into_iter()
        .map(|(_, body)| serde_json::from_value(body))
        .collect::<Result<Vec<CategoryRow>, _>>()?;
    Ok(Published {
        report_rules,
        points_rules,
        categories,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use patrol_model::points::default_points_rules;

    #[test]
    fn the_shipped_points_rules_are_version_one_of_each_kind() {
        let shipped = default_points_rules();
        assert_eq!(shipped.len(), PointsKind::ALL.len());
        assert!(
            shipped
                .iter()
                .all(|r| r.version == 1 && r.validate().is_ok())
        );
    }
}
