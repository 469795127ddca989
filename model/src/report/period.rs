//! Report periods, in Beijing time.
//!
//! The district works in China Standard Time (UTC+8, no daylight saving), so a day, a week or
//! a month in a report is a Beijing one: the month `2024-12` runs from 2024-12-01 00:00 to
//! 2025-01-01 00:00 in Beijing, which is 2024-11-30 16:00 to 2024-12-31 16:00 UTC. Times are
//! half-open, `[from_ms, to_ms)`.
//!
//! Accepted forms: a month `YYYY-MM`, a day `YYYY-MM-DD`, an ISO week `YYYY-Www` (Monday to
//! Sunday), or `FROM..TO` where each side is any of those (FROM counts from its start, TO up to
//! its end, so `2024-12-01..2024-12-07` is seven whole days), an RFC 3339 time, or
//! milliseconds since the epoch.

use serde::{Deserialize, Serialize};
use time::{Date, Month, Weekday};

use crate::error::{Error, Result};

/// Beijing's offset from UTC, in milliseconds (UTC+8 all year).
pub const BEIJING_OFFSET_MS: i64 = 8 * 3_600_000;
pub const DAY_MS: i64 = 86_400_000;

/// A span of time a report covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// As given (`2024-12`, `2024-W49`, ...).
    pub label: String,
    pub from_ms: i64,
    /// Exclusive.
    pub to_ms: i64,
}

impl Period {
    /// Parses one of the forms in the module documentation.
    pub fn parse(text: &str) -> Result<Self> {
        let t = text.trim();
        let (from_ms, to_ms) = match t.split_once("..") {
            Some((a, b)) => (span(a)?.0, span(b)?.1),
            None => span(t)?,
        };
        if to_ms <= from_ms {
            return Err(bad(t, "it ends before it starts"));
        }
        Ok(Self {
            label: t.to_owned(),
            from_ms,
            to_ms,
        })
    }

    /// The period `[from_ms, to_ms)` with a label of its own.
    pub fn between(from_ms: i64, to_ms: i64) -> Result<Self> {
        if to_ms <= from_ms {
            return Err(Error::InvalidInput(format!(
                "a period must end after it starts ({from_ms} .. {to_ms} ms)"
            )));
        }
        Ok(Self {
            label: format!(
                "{}..{}",
                beijing_date_text(from_ms),
                beijing_date_text(to_ms - 1)
            ),
            from_ms,
            to_ms,
        })
    }

    pub fn contains(&self, at_ms: i64) -> bool {
        at_ms >= self.from_ms && at_ms < self.to_ms
    }

    /// Length in days (fractional for spans that are not whole days).
    pub fn days(&self) -> f64 {
        (self.to_ms - self.from_ms) as f64 / DAY_MS as f64
    }

    /// Length in weeks: what per-week rates divide by.
    pub fn weeks(&self) -> f64 {
        self.days() / 7.0
    }
}

fn bad(text: &str, why: &str) -> Error {
    Error::InvalidInput(format!(
        "{text:?} is not a period ({why}); use a month 2024-12, a day 2024-12-05, an ISO week 2024-W49, or FROM..TO such as 2024-12-01..2024-12-07"
    ))
}

/// The start (inclusive) and end (exclusive) of one side of a period.
fn span(text: &str) -> Result<(i64, i64)> {
    let t = text.trim();
    if t.is_empty() {
        return Err(bad(text, "a side is empty"));
    }
    if let Ok(ms) = t.parse::<i64>() {
        return Ok((ms, ms));
    }
    if t.contains('T') || t.contains(' ') && t.len() > 10 {
        return crate::track::gpx::parse_time_ms(t)
            .map(|ms| (ms, ms))
            .ok_or_else(|| bad(t, "not an RFC 3339 time"));
    }
    if let Some((y, w)) = t.split_once(['W', 'w']) {
        let year: i32 = y
            .trim_end_matches('-')
            .parse()
            .map_err(|_| bad(t, "the year is not a number"))?;
        let week: u8 = w.parse().map_err(|_| bad(t, "the week is not a number"))?;
        let monday = Date::from_iso_week_date(year, week, Weekday::Monday)
            .map_err(|_| bad(t, "no such ISO week"))?;
        let start = day_start_ms(monday);
        return Ok((start, start + 7 * DAY_MS));
    }
    let parts: Vec<&str> = t.split('-').collect();
    let num = |s: &str, what: &str| s.parse::<i32>().map_err(|_| bad(t, what));
    match parts.as_slice() {
        [y, m] if y.len() == 4 => {
            let year = num(y, "the year is not a number")?;
            let month = Month::try_from(num(m, "the month is not a number")? as u8)
                .map_err(|_| bad(t, "no such month"))?;
            let first =
                Date::from_calendar_date(year, month, 1).map_err(|_| bad(t, "no such month"))?;
            let next = if month == Month::December {
                Date::from_calendar_date(year + 1, Month::January, 1)
            } else {
                Date::from_calendar_date(year, month.next(), 1)
            }
            .map_err(|_| bad(t, "no such month"))?;
            Ok((day_start_ms(first), day_start_ms(next)))
        }
        [y, m, d] if y.len() == 4 => {
            let year = num(y, "the year is not a number")?;
            let month = Month::try_from(num(m, "the month is not a number")? as u8)
                .map_err(|_| bad(t, "no such month"))?;
            let day = num(d, "the day is not a number")?;
            let date = u8::try_from(day)
                .ok()
                .and_then(|d| Date::from_calendar_date(year, month, d).ok())
                .ok_or_else(|| bad(t, "no such day"))?;
            let start = day_start_ms(date);
            Ok((start, start + DAY_MS))
        }
        _ => Err(bad(t, "not a month, day, week, time or milliseconds")),
    }
}

/// When a Beijing calendar day begins, in ms since the epoch.
pub fn day_start_ms(date: Date) -> i64 {
    date.midnight().assume_utc().unix_timestamp() * 1000 - BEIJING_OFFSET_MS
}

/// The Beijing calendar date of an instant.
pub fn beijing_date(at_ms: i64) -> Date {
    let days = (at_ms + BEIJING_OFFSET_MS).div_euclid(DAY_MS);
    time::OffsetDateTime::from_unix_timestamp(days * 86_400)
        .map(|t| t.date())
        .unwrap_or(Date::MIN)
}

/// `YYYY-MM-DD` of the Beijing date of an instant.
pub fn beijing_date_text(at_ms: i64) -> String {
    let d = beijing_date(at_ms);
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// `YYYY-MM-DD HH:MM` in Beijing time.
pub fn beijing_time_text(at_ms: i64) -> String {
    let minutes = (at_ms + BEIJING_OFFSET_MS).rem_euclid(DAY_MS) / 60_000;
    format!(
        "{} {:02}:{:02}",
        beijing_date_text(at_ms),
        minutes / 60,
        minutes % 60
    )
}

/// The Monday (Beijing) that starts the ISO week of an instant, as ms.
pub fn week_start_ms(at_ms: i64) -> i64 {
    let d = beijing_date(at_ms);
    day_start_ms(d) - i64::from(d.weekday().number_days_from_monday()) * DAY_MS
}

/// The Beijing calendar day (UTC+8) of an instant, YYYY-MM-DD.
pub fn beijing_day(at_ms: i64) -> String {
    let secs = at_ms.div_euclid(1000) + 8 * 3600;
    match time::OffsetDateTime::from_unix_timestamp(secs) {
        Ok(t) => format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()),
        Err(_) => "0000-00-00".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEC_1_BEIJING: i64 = 1_732_982_400_000; // 2024-11-30T16:00:00Z

    #[test]
    fn month_day_week_and_ranges() {
        let m = Period::parse("2024-12").unwrap();
        assert_eq!(m.from_ms, DEC_1_BEIJING);
        assert_eq!(m.days(), 31.0);
        let d = Period::parse("2024-12-01").unwrap();
        assert_eq!(
            (d.from_ms, d.to_ms),
            (DEC_1_BEIJING, DEC_1_BEIJING + DAY_MS)
        );
        // 2024-W49 is Monday 2 December to Sunday 8 December.
        let w = Period::parse("2024-W49").unwrap();
        assert_eq!(w.from_ms, DEC_1_BEIJING + DAY_MS);
        assert_eq!(w.days(), 7.0);
        let r = Period::parse("2024-12-01..2024-12-07").unwrap();
        assert_eq!(r.days(), 7.0);
        assert_eq!(Period::parse("2024-12..2025-01").unwrap().days(), 62.0);
        assert_eq!(Period::parse("5..10").unwrap().to_ms, 10);
        let feb = Period::parse("2024-02").unwrap();
        assert_eq!(feb.days(), 29.0, "leap year");
        assert_eq!(
            Period::parse("2024-12-31").unwrap().to_ms,
            Period::parse("2025-01").unwrap().from_ms
        );
    }

    #[test]
    fn bad_periods_say_what_is_accepted() {
        for t in [
            "",
            "yesterday",
            "2024-13",
            "2024-02-30",
            "2024-W54",
            "2024-12-07..2024-12-01",
            "2024-12-01..",
            "20241",
        ] {
            let e = Period::parse(t).unwrap_err().to_string();
            assert!(e.contains("ISO week"), "{t}: {e}");
        }
    }

    #[test]
    fn beijing_dates() {
        assert_eq!(beijing_date_text(DEC_1_BEIJING), "2024-12-01");
        assert_eq!(beijing_date_text(DEC_1_BEIJING - 1), "2024-11-30");
        assert_eq!(
            beijing_time_text(DEC_1_BEIJING + 90 * 60_000),
            "2024-12-01 01:30"
        );
        assert_eq!(
            week_start_ms(DEC_1_BEIJING + 3 * DAY_MS),
            DEC_1_BEIJING + DAY_MS
        );
        assert_eq!(
            beijing_day(DEC_1_BEIJING + 5),
            beijing_date_text(DEC_1_BEIJING + 5)
        );
    }
}
