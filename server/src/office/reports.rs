//! The reports on the office platform: the chief assessment (考核), the steward report and the
//! merchant credit report, each the one the phones compute, computed from the server's storage
//! by the same model code ([`crate::reports`]) and narrowed to what the user may see. A
//! subdistrict supervisor sees the people and streets of their subdistrict, ranks as the
//! district's.

use std::collections::HashSet;

use patrol_model::report::assessment::AssessmentReport;
use patrol_model::report::merchants::MerchantReport;
use patrol_model::report::period::Period;
use patrol_model::report::stewards::StewardReport;

use super::{OfficeResult, OfficeUser};
use crate::storage::Storage;

/// The subdistrict's name a report names people's subdistricts by, for a subdistrict user.
fn subdistrict_name(storage: &dyn Storage, user: &OfficeUser) -> OfficeResult<Option<String>> {
    let Some(id) = user.subdistrict() else {
        return Ok(None);
    };
    let mut tx = storage.read()?;
    Ok(Some(
        tx.subdistricts()?
            .into_iter()
            .find(|(sid, _, _)| *sid == id)
            .map(|(_, name, _)| name)
            .unwrap_or(id),
    ))
}

/// The assessment of `period` under the published rules, with only the chiefs `user` may see.
pub fn assessment(
    storage: &dyn Storage,
    user: &OfficeUser,
    period: &Period,
) -> OfficeResult<AssessmentReport> {
    let mut report = crate::reports::assessment_report(storage, period, None)?;
    if let Some(mine) = subdistrict_name(storage, user)? {
        report
            .chiefs
            .retain(|c| c.person.subdistrict.as_deref() == Some(mine.as_str()));
    }
    Ok(report)
}

/// The street ids of the user's subdistrict (`None`: the whole district).
fn street_ids(storage: &dyn Storage, user: &OfficeUser) -> OfficeResult<Option<HashSet<String>>> {
    let Some(id) = user.subdistrict() else {
        return Ok(None);
    };
    let mut tx = storage.read()?;
    Ok(Some(
        tx.street_names(Some(&id), usize::MAX)?
            .into_iter()
            .map(|(sid, _)| sid)
            .collect(),
    ))
}

/// The steward report of `period` under the published rules, narrowed to the user's reach.
pub fn stewards(
    storage: &dyn Storage,
    user: &OfficeUser,
    period: &Period,
) -> OfficeResult<StewardReport> {
    let mut report = crate::reports::steward_report(storage, period, None)?;
    if let (Some(name), Some(streets)) =
        (subdistrict_name(storage, user)?, street_ids(storage, user)?)
    {
        report
            .stewards
            .retain(|s| s.person.subdistrict.as_deref() == Some(name.as_str()));
        report.leaderboards.retain(|l| l.subdistrict == name);
        report.streets.retain(|s| streets.contains(&s.street_id));
        report
            .pickups_by_street
            .retain(|p| p.street_id.as_ref().is_some_and(|s| streets.contains(s)));
        report
            .streets_not_covered_lately
            .retain(|s| streets.contains(s));
    }
    Ok(report)
}

/// The merchant report of `period` under the published rules, narrowed to the user's reach.
pub fn merchants(
    storage: &dyn Storage,
    user: &OfficeUser,
    period: &Period,
) -> OfficeResult<MerchantReport> {
    let mut report = crate::reports::merchant_report(storage, period, None)?;
    if let Some(streets) = street_ids(storage, user)? {
        report
            .merchants
            .retain(|m| m.street_id.as_ref().is_some_and(|s| streets.contains(s)));
    }
    Ok(report)
}
