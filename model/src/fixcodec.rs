//! The wire format of GPS fix batches: compact, versioned, little-endian, so a day of 1 Hz fixes
//! (28,800) is under 2 MB (less once gzipped) and a million fixes decode in well under a second.
//!
//! Layout (all integers little-endian):
//! ```text
//! magic "SPFX" | version u8 (=1) | count u32 | first_seq i64
//! then per fix, in seq order (seq = first_seq + i):
//!   flags u16 | segment u32 | lat f64 | lon f64 | time_ms i64 (if HAS_TIME)
//!   accuracy_m f64 | altitude_m f64 | speed_mps f64 | bearing_deg f64   (each if its flag is set)
//!   verdict u8 | provider len u8 + bytes (if HAS_PROVIDER)
//! ```
//! Decoding checks every length and value and refuses a malformed batch whole.

use crate::domain::{FixVerdict, StoredFix};

const MAGIC: &[u8; 4] = b"SPFX";
const VERSION: u8 = 1;

const HAS_TIME: u16 = 1;
const HAS_ACCURACY: u16 = 1 << 1;
const HAS_ALTITUDE: u16 = 1 << 2;
const HAS_SPEED: u16 = 1 << 3;
const HAS_BEARING: u16 = 1 << 4;
const HAS_PROVIDER: u16 = 1 << 5;
const IS_MOCK: u16 = 1 << 6;
const KNOWN_FLAGS: u16 = (1 << 7) - 1;

/// The most fixes one batch may hold (a day at 1 Hz is 86,400).
pub const MAX_FIXES_PER_BATCH: usize = 200_000;

/// Why a fix batch could not be decoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FixBatchError {
    #[error("fix batch: {0}")]
    Malformed(String),
}

fn malformed(msg: impl Into<String>) -> FixBatchError {
    FixBatchError::Malformed(msg.into())
}

/// Encodes fixes whose `seq` values are consecutive, starting at the first one's.
pub fn encode_fixes(fixes: &[StoredFix]) -> Vec<u8> {
    let mut out = Vec::with_capacity(17 + fixes.len() * 48);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&(fixes.len() as u32).to_le_bytes());
    out.extend_from_slice(&fixes.first().map_or(0, |f| f.seq).to_le_bytes());
    for f in fixes {
        let mut flags = 0u16;
        let set = |flag: u16, on: bool, flags: &mut u16| {
            if on {
                *flags |= flag
            }
        };
        set(HAS_TIME, f.time_ms.is_some(), &mut flags);
        set(HAS_ACCURACY, f.accuracy_m.is_some(), &mut flags);
        set(HAS_ALTITUDE, f.altitude_m.is_some(), &mut flags);
        set(HAS_SPEED, f.speed_mps.is_some(), &mut flags);
        set(HAS_BEARING, f.bearing_deg.is_some(), &mut flags);
        let provider = f
            .provider
            .as_deref()
            .filter(|p| !p.is_empty() && p.len() <= 255);
        set(HAS_PROVIDER, provider.is_some(), &mut flags);
        set(IS_MOCK, f.is_mock, &mut flags);
        out.extend_from_slice(&flags.to_le_bytes());
        out.extend_from_slice(&(f.segment.clamp(0, u32::MAX as i64) as u32).to_le_bytes());
        out.extend_from_slice(&f.lat.to_le_bytes());
        out.extend_from_slice(&f.lon.to_le_bytes());
        if let Some(t) = f.time_ms {
            out.extend_from_slice(&t.to_le_bytes());
        }
        for v in [f.accuracy_m, f.altitude_m, f.speed_mps, f.bearing_deg]
            .into_iter()
            .flatten()
        {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.push(verdict_code(f.verdict));
        if let Some(p) = provider {
            out.push(p.len() as u8);
            out.extend_from_slice(p.as_bytes());
        }
    }
    out
}

/// Decodes a batch; every fix's `seq` follows from the batch's first seq.
pub fn decode_fixes(bytes: &[u8]) -> Result<Vec<StoredFix>, FixBatchError> {
    let mut r = Reader { bytes, pos: 0 };
    if r.take(4)? != MAGIC {
        return Err(malformed("not a fix batch (bad magic)"));
    }
    let version = r.u8()?;
    if version != VERSION {
        return Err(malformed(format!(
            "version {version} is not supported (expected {VERSION})"
        )));
    }
    let count = r.u32()? as usize;
    if count > MAX_FIXES_PER_BATCH {
        return Err(malformed(format!(
            "{count} fixes in one batch; at most {MAX_FIXES_PER_BATCH}"
        )));
    }
    let first_seq = r.i64()?;
    if first_seq < 0 {
        return Err(malformed("negative first seq"));
    }
    let mut out = Vec::with_capacity(count.min(bytes.len() / 31));
    for i in 0..count {
        let flags = r.u16()?;
        if flags & !KNOWN_FLAGS != 0 {
            return Err(malformed(format!("fix {i}: unknown flags {flags:#x}")));
        }
        let segment = r.u32()? as i64;
        let lat = r.f64()?;
        let lon = r.f64()?;
        if !(lat.is_finite()
            && lon.is_finite()
            && (-90.0..=90.0).contains(&lat)
            && (-180.0..=180.0).contains(&lon))
        {
            return Err(malformed(format!(
                "fix {i}: coordinates ({lat}, {lon}) are not on Earth"
            )));
        }
        let time_ms = if flags & HAS_TIME != 0 {
            Some(r.i64()?)
        } else {
            None
        };
        let mut opt = |flag: u16| -> Result<Option<f64>, FixBatchError> {
            if flags & flag == 0 {
                return Ok(None);
            }
            let v = r.f64()?;
            if v.is_finite() {
                Ok(Some(v))
            } else {
                Err(malformed(format!("fix {i}: a non-finite number")))
            }
        };
        let accuracy_m = opt(HAS_ACCURACY)?;
        let altitude_m = opt(HAS_ALTITUDE)?;
        let speed_mps = opt(HAS_SPEED)?;
        let bearing_deg = opt(HAS_BEARING)?;
        let verdict = verdict_from_code(r.u8()?)
            .ok_or_else(|| malformed(format!("fix {i}: unknown verdict")))?;
        let provider = if flags & HAS_PROVIDER != 0 {
            let len = r.u8()? as usize;
            let raw = r.take(len)?;
            Some(
                std::str::from_utf8(raw)
                    .map_err(|_| malformed(format!("fix {i}: provider is not UTF-8")))?
                    .to_owned(),
            )
        } else {
            None
        };
        out.push(StoredFix {
            seq: first_seq + i as i64,
            segment,
            lat,
            lon,
            accuracy_m,
            altitude_m,
            speed_mps,
            bearing_deg,
            time_ms,
            provider,
            is_mock: flags & IS_MOCK != 0,
            verdict,
        });
    }
    if r.pos != bytes.len() {
        return Err(malformed(format!("{} trailing bytes", bytes.len() - r.pos)));
    }
    Ok(out)
}

fn verdict_code(v: FixVerdict) -> u8 {
    FixVerdict::ALL.iter().position(|x| *x == v).unwrap_or(0) as u8
}

fn verdict_from_code(c: u8) -> Option<FixVerdict> {
    FixVerdict::ALL.get(c as usize).copied()
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], FixBatchError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.bytes.len())
            .ok_or_else(|| malformed("truncated"))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], FixBatchError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, FixBatchError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, FixBatchError> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, FixBatchError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn i64(&mut self) -> Result<i64, FixBatchError> {
        Ok(i64::from_le_bytes(self.array()?))
    }
    fn f64(&mut self) -> Result<f64, FixBatchError> {
        Ok(f64::from_le_bytes(self.array()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(seq: i64) -> StoredFix {
        StoredFix {
            seq,
            segment: seq / 100,
            lat: 39.9 + seq as f64 * 1e-6,
            lon: 116.2,
            accuracy_m: Some(4.5),
            altitude_m: (seq % 2 == 0).then_some(61.0),
            speed_mps: Some(1.25),
            bearing_deg: None,
            time_ms: Some(1_714_550_400_000 + seq * 1000),
            provider: (seq % 3 == 0).then(|| "gps".into()),
            is_mock: seq == 7,
            verdict: if seq % 5 == 0 {
                FixVerdict::Jump
            } else {
                FixVerdict::Kept
            },
        }
    }

    #[test]
    fn round_trip() {
        let fixes: Vec<_> = (10..260).map(fix).collect();
        let bytes = encode_fixes(&fixes);
        assert!(bytes.len() < fixes.len() * 64, "{} bytes", bytes.len());
        assert_eq!(decode_fixes(&bytes).unwrap(), fixes);
        assert_eq!(decode_fixes(&encode_fixes(&[])).unwrap(), vec![]);
    }

    #[test]
    fn garbage_is_refused_not_panicked_on() {
        let bytes = encode_fixes(&(0..20).map(fix).collect::<Vec<_>>());
        for cut in 0..bytes.len() {
            assert!(decode_fixes(&bytes[..cut]).is_err(), "truncated at {cut}");
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(decode_fixes(&extra).is_err());
        let mut huge = bytes.clone();
        huge[5..9].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode_fixes(&huge).is_err());
        // Flip every byte in turn: decoding must never panic.
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0xFF;
            let _ = decode_fixes(&b);
        }
    }
}
