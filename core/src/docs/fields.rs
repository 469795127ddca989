//! Reading and writing the fields of an Automerge document: typed getters that answer `None`
//! for a missing or mistyped field (a document from a newer app, or a damaged one, must not
//! crash a reader), HLC stamps, and the device's actor id.

use std::borrow::Cow;

use automerge::transaction::{Transactable, Transaction};
use automerge::{ActorId, Automerge, AutomergeError, ObjId, ROOT, ReadDoc, ScalarValue, Value};

use crate::error::{Error, Result};
use crate::hlc::HlcStamp;

/// An Automerge error as the store's error.
pub fn am(e: AutomergeError) -> Error {
    Error::BadDocument(format!("automerge: {e}"))
}

/// A document that is not what it should be.
pub fn bad(what: impl Into<String>) -> Error {
    Error::BadDocument(what.into())
}

/// The object under a root key.
pub fn object(doc: &Automerge, key: &str) -> Result<ObjId> {
    match doc.get(ROOT, key).map_err(am)? {
        Some((Value::Object(_), id)) => Ok(id),
        _ => Err(bad(format!("the document has no {key}"))),
    }
}

pub fn scalar<'a>(doc: &'a Automerge, obj: &ObjId, key: &str) -> Option<Cow<'a, ScalarValue>> {
    match doc.get(obj, key) {
        Ok(Some((Value::Scalar(v), _))) => Some(v),
        _ => None,
    }
}

pub fn get_str(doc: &Automerge, obj: &ObjId, key: &str) -> Option<String> {
    match scalar(doc, obj, key)?.as_ref() {
        ScalarValue::Str(s) => Some(s.to_string()),
        _ => None,
    }
}

pub fn get_i64(doc: &Automerge, obj: &ObjId, key: &str) -> Option<i64> {
    match scalar(doc, obj, key)?.as_ref() {
        ScalarValue::Int(i) => Some(*i),
        ScalarValue::Uint(u) => i64::try_from(*u).ok(),
        _ => None,
    }
}

pub fn get_f64(doc: &Automerge, obj: &ObjId, key: &str) -> Option<f64> {
    match scalar(doc, obj, key)?.as_ref() {
        ScalarValue::F64(f) if f.is_finite() => Some(*f),
        ScalarValue::Int(i) => Some(*i as f64),
        _ => None,
    }
}

/// A required field, or an error naming it.
pub fn need<T>(v: Option<T>, what: &str) -> Result<T> {
    v.ok_or_else(|| bad(format!("the document's {what} is missing or not readable")))
}

/// A required field parsed from text, or an error naming it.
pub fn parse<T: std::str::FromStr>(v: Option<String>, what: &str) -> Result<T> {
    need(v, what)?.parse().map_err(|_| bad(format!("the document's {what} is not valid")))
}

/// The child object under `key` (a map key or a list index).
pub fn child(doc: &Automerge, obj: &ObjId, key: impl Into<automerge::Prop>) -> Option<ObjId> {
    match doc.get(obj, key) {
        Ok(Some((Value::Object(_), id))) => Some(id),
        _ => None,
    }
}

/// Writes an HLC stamp as three fields of `m`.
pub fn put_stamp(tx: &mut Transaction<'_>, m: &ObjId, at: &HlcStamp) -> Result<(), AutomergeError> {
    tx.put(m, "at_ms", at.wall_ms)?;
    tx.put(m, "at_counter", i64::from(at.counter))?;
    tx.put(m, "actor", at.actor.as_str())
}

/// Reads the HLC stamp [`put_stamp`] wrote.
pub fn read_stamp(doc: &Automerge, m: &ObjId) -> Option<HlcStamp> {
    Some(HlcStamp {
        wall_ms: get_i64(doc, m, "at_ms")?,
        counter: u32::try_from(get_i64(doc, m, "at_counter")?).ok()?,
        actor: get_str(doc, m, "actor")?,
    })
}

/// Commits a transaction when `result` is Ok, rolls it back otherwise.
pub fn finish(tx: Transaction<'_>, result: Result<(), AutomergeError>) -> Result<()> {
    match result {
        Ok(()) => {
            tx.commit();
            Ok(())
        }
        Err(e) => {
            tx.rollback();
            Err(am(e))
        }
    }
}

/// This device's actor id (hex of 16 bytes) as Automerge's.
pub fn actor_from_hex(hex: &str) -> Result<ActorId> {
    ActorId::try_from(hex).map_err(|_| Error::InvalidConfig(format!("device actor id {hex:?} is not hex")))
}
