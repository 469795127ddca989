//! The administrator's operations: the district, its subdistricts, users with roles and scopes,
//! one-time enrolment codes, device revocation, and street assignments. Used by
//! `patrol-server admin ...` and by tests, directly on the storage (no HTTP).

use anyhow::{Context, Result, anyhow, bail};
use patrol_model::wire::{Scope, UserRecord};
use patrol_model::{DeviceId, Role, SubdistrictId, UserId};
use serde::Serialize;
use serde_json::json;

use patrol_model::text::{MAX_NAME_CHARS, check_name};

use crate::secrets::{hash_secret, new_enrol_code, normalise_code};
use crate::storage::{FeedScope, Storage};

use crate::people::{DAY_MS, assign_in, create_user, enrol_qr};
pub use crate::people::{ENROL_CODE_TTL_MS, ENROL_CODE_VALID_DAYS, MAX_ENROL_CODE_VALID_DAYS};

/// Checks an enrolment code's validity in days.
fn code_valid_ms(days: u32) -> Result<i64> {
    if !(1..=MAX_ENROL_CODE_VALID_DAYS).contains(&days) {
        bail!("an enrolment code is valid for 1 to {MAX_ENROL_CODE_VALID_DAYS} days, not {days}");
    }
    Ok(i64::from(days) * DAY_MS)
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub fn set_district(storage: &dyn Storage, name: &str, code: Option<&str>) -> Result<String> {
    check_name("the district's name", name.trim(), MAX_NAME_CHARS)?;
    let mut tx = storage.write()?;
    let id = tx
        .district()?
        .map(|(id, _)| id)
        .unwrap_or_else(|| patrol_model::DistrictId::new().to_string());
    tx.set_district(&id, name.trim(), code)?;
    tx.commit()?;
    Ok(id)
}

pub fn add_subdistrict(
    storage: &dyn Storage,
    name: &str,
    code: Option<&str>,
) -> Result<SubdistrictId> {
    let name = name.trim();
    if name.is_empty() {
        bail!("a subdistrict needs a name");
    }
    check_name("the subdistrict's name", name, MAX_NAME_CHARS)?;
    let mut tx = storage.write()?;
    if tx.subdistricts()?.iter().any(|(_, n, _)| n == name) {
        bail!("subdistrict {name:?} exists already");
    }
    let id = insert_subdistrict(tx.as_mut(), name, code)?;
    tx.commit()?;
    Ok(id)
}

/// Stores a subdistrict and publishes it to every phone as reference data.
fn insert_subdistrict(
    tx: &mut dyn crate::storage::Tx,
    name: &str,
    code: Option<&str>,
) -> Result<SubdistrictId> {
    let id = SubdistrictId::new();
    tx.add_subdistrict(&id.to_string(), name, code)?;
    tx.put_reference(
        "subdistrict",
        &id.to_string(),
        None,
        &json!({ "id": id, "name": name, "code": code }),
        false,
    )?;
    tx.feed_touch("ref:subdistrict", &id.to_string(), &FeedScope::default())?;
    Ok(id)
}

/// A subdistrict [`import_subdistricts`] added.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportedSubdistrict {
    pub id: SubdistrictId,
    pub name: String,
    /// The official division code, e.g. 110107003 for 八角街道.
    pub code: String,
}

/// What [`import_subdistricts`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubdistrictImport {
    /// Rows of the file that were read (after the `--area` filter).
    pub rows: usize,
    /// Subdistricts added, in the file's order.
    pub added: Vec<ImportedSubdistrict>,
    /// Names that were there already, left as they were.
    pub existing: Vec<String>,
}

/// Adds the subdistricts listed in a CSV file with `code` and `name` columns (the layout of the
/// national list of township-level divisions, e.g. modood's `streets.csv`: `code,name,areaCode,
/// ...`), in one transaction. `area_code`, when given, keeps only the rows whose `areaCode` is
/// that code (without that column, whose code starts with it), so the city-wide list can seed
/// one district; a name listed twice in what is kept refuses the file.
/// Names already present are left as they are, so importing the same file twice adds nothing.
pub fn import_subdistricts(
    storage: &dyn Storage,
    csv_bytes: &[u8],
    area_code: Option<&str>,
) -> Result<SubdistrictImport> {
    if std::str::from_utf8(csv_bytes).is_err() {
        bail!(
            "the file is not UTF-8 text (a spreadsheet saved as GBK?); save it as \"CSV UTF-8\" \
             or convert it with `iconv -f GBK -t UTF-8`"
        );
    }
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(csv_bytes);
    let headers = reader
        .headers()
        .context("the file is not CSV with a header line")?
        .clone();
    let column = |wanted: &str| {
        headers.iter().position(|h| {
            h.trim_start_matches('\u{feff}')
                .eq_ignore_ascii_case(wanted)
        })
    };
    let (Some(code_col), Some(name_col)) = (column("code"), column("name")) else {
        bail!(
            "the CSV needs a header line with `code` and `name` columns (it has: {})",
            headers.iter().collect::<Vec<_>>().join(", ")
        );
    };
    let area_col = column("areaCode");
    let area_code = area_code.map(str::trim).filter(|a| !a.is_empty());
    if let Some(area) = area_code
        && !area.bytes().all(|b| b.is_ascii_digit())
    {
        bail!("the area code {area:?} is not a number (Shijingshan's is 110107)");
    }

    let mut rows: Vec<(u64, String, String)> = Vec::new();
    for record in reader.records() {
        let record = record.context("the CSV cannot be read")?;
        // The line in the file: csv's position is where it began reading, before any blank
        // lines it skipped.
        let line = record.position().map_or(0, |p| {
            let mut start = (p.byte() as usize).min(csv_bytes.len());
            while csv_bytes
                .get(start)
                .is_some_and(|b| matches!(b, b'\n' | b'\r'))
            {
                start += 1;
            }
            1 + csv_bytes[..start].iter().filter(|&&b| b == b'\n').count() as u64
        });
        let code = record.get(code_col).unwrap_or("").to_owned();
        let name = record.get(name_col).unwrap_or("").to_owned();
        if code.is_empty() || !code.bytes().all(|b| b.is_ascii_digit()) {
            bail!("line {line}: the code {code:?} is not an official division code (digits only)");
        }
        if name.is_empty() {
            bail!("line {line}: the subdistrict has no name");
        }
        if let Err(e) = check_name("the subdistrict's name", &name, MAX_NAME_CHARS) {
            bail!("line {line}: {e}; nothing was imported");
        }
        if let Some(area) = area_code {
            // The area column names the county exactly; without one, a division's code
            // starts with its county's.
            let in_area = match area_col.and_then(|c| record.get(c)) {
                Some(of_area) => of_area == area,
                None => code.starts_with(area),
            };
            if !in_area {
                continue;
            }
        }
        if let Some((first, first_code, _)) = rows.iter().find(|(_, _, n)| *n == name) {
            bail!(
                "{name} is listed twice (line {first}, code {first_code}; line {line}, code {code}): \
                 a district's subdistricts need distinct names; choose one district with --area"
            );
        }
        rows.push((line, code, name));
    }
    if rows.is_empty() {
        match area_code {
            Some(area) => bail!("no row of the CSV is in area {area}; nothing was imported"),
            None => bail!("the CSV lists no subdistricts; nothing was imported"),
        }
    }

    let mut tx = storage.write()?;
    let mut known: std::collections::BTreeSet<String> = tx
        .subdistricts()?
        .into_iter()
        .map(|(_, name, _)| name)
        .collect();
    let mut report = SubdistrictImport {
        rows: rows.len(),
        added: Vec::new(),
        existing: Vec::new(),
    };
    for (_, code, name) in rows {
        if !known.insert(name.clone()) {
            report.existing.push(name);
            continue;
        }
        let id = insert_subdistrict(tx.as_mut(), &name, Some(&code))?;
        report.added.push(ImportedSubdistrict { id, name, code });
    }
    tx.commit()?;
    Ok(report)
}

/// Resolves `subdistrict:NAME` to `subdistrict:ID` so admins can type names.
pub fn parse_scope(storage: &dyn Storage, text: &str) -> Result<Scope> {
    if let Ok(scope) = text.parse::<Scope>() {
        return Ok(scope);
    }
    if let Some(name) = text.trim().strip_prefix("subdistrict:") {
        let mut tx = storage.read()?;
        if let Some((id, _, _)) = tx
            .subdistricts()?
            .into_iter()
            .find(|(_, n, _)| n == name.trim())
        {
            return Ok(Scope::Subdistrict(id.parse()?));
        }
        bail!("no subdistrict named {name:?}; add it with `admin subdistrict add --name {name}`");
    }
    Err(anyhow!(
        "{text:?} is not a scope; expected district, subdistrict:ID (or NAME), street:ID or own"
    ))
}

/// A new user and their first enrolment code.
#[derive(Debug, Clone, Serialize)]
pub struct NewUser {
    pub user_id: UserId,
    pub name: String,
    pub role: Role,
    pub scope: Scope,
    pub enrol_code: String,
    /// The code as a QR payload for a phone to scan.
    pub enrol_qr: String,
    /// When the code stops working (Unix ms).
    pub enrol_code_expires_at_ms: i64,
}

/// Adds a user with an enrolment code valid [`ENROL_CODE_VALID_DAYS`].
pub fn add_user(
    storage: &dyn Storage,
    name: &str,
    role: Role,
    scope: Scope,
    server_url: Option<&str>,
) -> Result<NewUser> {
    add_user_with_code_days(
        storage,
        name,
        role,
        scope,
        server_url,
        ENROL_CODE_VALID_DAYS,
    )
}

/// Adds a user with an enrolment code valid `code_valid_days` (1 to
/// [`MAX_ENROL_CODE_VALID_DAYS`]).
pub fn add_user_with_code_days(
    storage: &dyn Storage,
    name: &str,
    role: Role,
    scope: Scope,
    server_url: Option<&str>,
    code_valid_days: u32,
) -> Result<NewUser> {
    let valid_ms = code_valid_ms(code_valid_days)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        bail!("a user's name must be 1 to 100 characters");
    }
    check_name("a user's name", name, MAX_NAME_CHARS)?;
    if role == Role::Public && scope != Scope::Own {
        bail!("a public user's scope is `own`: residents see only their own reports");
    }
    let user = UserRecord {
        id: UserId::new(),
        name: name.to_owned(),
        role,
        scope: scope.clone(),
    };
    let now = now_ms();
    let code = new_enrol_code();
    let mut tx = storage.write()?;
    create_user(tx.as_mut(), &user, &code, now, valid_ms)?;
    tx.commit()?;
    Ok(NewUser {
        user_id: user.id,
        name: user.name,
        role,
        scope,
        enrol_qr: enrol_qr(&code, server_url),
        enrol_code: code,
        enrol_code_expires_at_ms: now + valid_ms,
    })
}

/// A fresh enrolment code for an existing user (a new phone, or a lost one), valid
/// [`ENROL_CODE_VALID_DAYS`]; returns the QR payload and the code.
pub fn new_code(
    storage: &dyn Storage,
    user: &UserId,
    server_url: Option<&str>,
) -> Result<(String, String)> {
    new_code_with_days(storage, user, server_url, ENROL_CODE_VALID_DAYS)
}

/// [`new_code`] valid `valid_days` (1 to [`MAX_ENROL_CODE_VALID_DAYS`]).
pub fn new_code_with_days(
    storage: &dyn Storage,
    user: &UserId,
    server_url: Option<&str>,
    valid_days: u32,
) -> Result<(String, String)> {
    let valid_ms = code_valid_ms(valid_days)?;
    let now = now_ms();
    let code = new_enrol_code();
    let mut tx = storage.write()?;
    tx.user(user)?.with_context(|| format!("no user {user}"))?;
    if crate::public::desk::is_desk(tx.as_mut(), user)? {
        bail!(
            "{user} is the server's public desk, which residents' reports are written by; it never enrols a device"
        );
    }
    tx.add_enrol_code(
        &hash_secret(&normalise_code(&code)),
        user,
        now,
        now + valid_ms,
    )?;
    tx.commit()?;
    Ok((enrol_qr(&code, server_url), code))
}

pub fn revoke(
    storage: &dyn Storage,
    device: Option<&DeviceId>,
    user: Option<&UserId>,
) -> Result<usize> {
    if device.is_none() && user.is_none() {
        bail!("say which: --device ID or --user ID");
    }
    let mut tx = storage.write()?;
    let n = tx.revoke_devices(device, user, now_ms())?;
    tx.commit()?;
    Ok(n)
}

pub fn users(storage: &dyn Storage) -> Result<Vec<UserRecord>> {
    Ok(storage.read()?.users()?)
}

/// Resolves a user given by id or by a name only one user has.
pub fn resolve_user(storage: &dyn Storage, user: &str) -> Result<UserRecord> {
    let user = user.trim();
    let mut tx = storage.read()?;
    if let Ok(id) = user.parse::<UserId>() {
        return tx
            .user(&id)?
            .ok_or_else(|| anyhow::anyhow!("no user {id}; `admin user list` shows them"));
    }
    let named: Vec<UserRecord> = tx.users()?.into_iter().filter(|u| u.name == user).collect();
    match named.as_slice() {
        [one] => Ok(one.clone()),
        [] => bail!("no user is called {user:?}; `admin user list` shows them"),
        many => bail!(
            "{} users are called {user:?}; give one of their ids: {}",
            many.len(),
            many.iter()
                .map(|u| u.id.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Resolves a street given by id or by an unambiguous name.
pub fn resolve_street(storage: &dyn Storage, street: &str) -> Result<String> {
    let ids = storage.read()?.streets_named(street.trim())?;
    match ids.as_slice() {
        [one] => Ok(one.clone()),
        [] => bail!(
            "no street {street:?}; import the street network first (`admin streets import FILE`)"
        ),
        many => bail!(
            "{} streets are called {street:?}; give one of their ids: {}",
            many.len(),
            many.join(", ")
        ),
    }
}

/// Assigns (or with `assigned = false` unassigns) a user to a street as chief or steward, and
/// re-announces everything on that street so the user's devices receive it.
pub fn assign(
    storage: &dyn Storage,
    street: &str,
    user: &UserId,
    role: Role,
    assigned: bool,
) -> Result<()> {
    if !matches!(role, Role::Chief | Role::Steward) {
        bail!("only chiefs and stewards are assigned to streets");
    }
    let street_id = resolve_street(storage, street)?;
    let mut tx = storage.write()?;
    assign_in(tx.as_mut(), &street_id, user, role, assigned)?;
    tx.commit()?;
    Ok(())
}
