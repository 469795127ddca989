//! The chief assessment (考核) on the office platform: the report the phones compute, computed
//! from the server's storage by the same model code ([`crate::reports::assessment_report`]),
//! narrowed to what the user may see. A subdistrict supervisor sees the chiefs of their
//! subdistrict, with their district-wide rank.

use patrol_model::report::assessment::AssessmentReport;
use patrol_model::report::period::Period;

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
