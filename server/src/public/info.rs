//! What the district wants residents told on every signboard page besides the street's facts:
//! the duty line under the chief's name and a service hotline. Kept in the server's own settings
//! (phones do not need them); the pages fall back to the standard duty line and no hotline.

use serde::{Deserialize, Serialize};

use super::{Field, PublicError, PublicResult, check_text};
use crate::storage::{Storage, Tx};

const SETTING: &str = "public_info";
/// Longest duty line.
pub const MAX_DUTY_CHARS: usize = 120;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicInfo {
    /// The chief's duty as the district words it, in Chinese and in English.
    pub chief_duty_zh: Option<String>,
    pub chief_duty_en: Option<String>,
    /// A number residents may call (the district's hotline, not a person's phone).
    pub hotline: Option<String>,
}

/// The district's public information (the defaults when none was set).
pub fn load(tx: &mut dyn Tx) -> PublicResult<PublicInfo> {
    match tx.site_setting(SETTING)? {
        Some(b) => serde_json::from_slice(&b)
            .map_err(|e| anyhow::anyhow!("the public information setting is damaged: {e}").into()),
        None => Ok(PublicInfo::default()),
    }
}

/// A hotline as dialled: 3 to 20 digits, with `-` or spaces between.
fn check_hotline(text: &str) -> Option<String> {
    let t = text.trim();
    let digits = t.chars().filter(char::is_ascii_digit).count();
    let ok = (3..=20).contains(&digits)
        && t.chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c == ' ');
    ok.then(|| t.to_owned())
}

/// Changes what is given (an empty text clears it) and stores the result.
pub fn update(
    storage: &dyn Storage,
    chief_duty_zh: Option<&str>,
    chief_duty_en: Option<&str>,
    hotline: Option<&str>,
) -> PublicResult<PublicInfo> {
    let mut tx = storage.write()?;
    let mut info = load(tx.as_mut())?;
    let mut errors = Vec::new();
    let text = |t: &str, errors: &mut Vec<_>| {
        let t = check_text(Field::Description, t, false, MAX_DUTY_CHARS, errors);
        (!t.is_empty()).then_some(t)
    };
    if let Some(t) = chief_duty_zh {
        info.chief_duty_zh = text(t, &mut errors);
    }
    if let Some(t) = chief_duty_en {
        info.chief_duty_en = text(t, &mut errors);
    }
    if !errors.is_empty() {
        return Err(PublicError::Conflict(format!(
            "a duty line is at most {MAX_DUTY_CHARS} characters"
        )));
    }
    if let Some(h) = hotline {
        info.hotline = match h.trim() {
            "" => None,
            h => Some(check_hotline(h).ok_or_else(|| {
                PublicError::Conflict(format!(
                    "{h:?} is not a phone number (3 to 20 digits, dashes or spaces between)"
                ))
            })?),
        };
    }
    tx.put_site_setting(
        SETTING,
        &serde_json::to_vec(&info).map_err(anyhow::Error::from)?,
    )?;
    tx.commit()?;
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hotlines_are_numbers() {
        assert_eq!(check_hotline(" 12345 ").as_deref(), Some("12345"));
        assert_eq!(
            check_hotline("010-6888 1234").as_deref(),
            Some("010-6888 1234")
        );
        assert_eq!(check_hotline("12"), None);
        assert_eq!(check_hotline("call 12345"), None);
        assert_eq!(check_hotline("<b>12345</b>"), None);
    }
}
