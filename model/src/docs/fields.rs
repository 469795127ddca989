//! Reading and writing the fields of an Automerge document: typed getters over the document
//! read whole, answering `None` for a missing or mistyped field (a document from a newer app, or
//! a damaged one, must not crash a reader), HLC stamps, and the device's actor id.

use automerge::transaction::{Transactable, Transaction};
use automerge::{
    ActorId, Automerge, AutomergeError, ObjId, ROOT, ReadDoc, ScalarValue, Value, hydrate,
};

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

/// A map of a document read whole ([`hydrated`]): typed getters that answer `None` for a
/// missing or mistyped field. Reading a document this way is one pass over its operations; a
/// seek per field (`Automerge::get`, about a microsecond each in automerge 0.12) made reading an
/// issue's sixty-odd fields the largest cost of a sync that brings thousands of documents.
#[derive(Clone, Copy, Debug)]
pub struct MapFields<'a>(&'a hydrate::Map);

/// The whole document as plain values, to read with [`MapFields::root`]. automerge 0.12's
/// hydrate panics on a mark operation outside text ("invalid op to hydrate"), which a hand-made
/// change can put in any list: such a document is refused with an error, never a crash (the
/// workspace keeps `panic = "unwind"` for this and for the FFI boundary).
pub fn hydrated(doc: &Automerge) -> Result<hydrate::Value> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| doc.hydrate(None)))
        .map_err(|_| bad("this app cannot read the document: it holds operations where they do not belong (marks outside text)"))
}

impl<'a> MapFields<'a> {
    /// The root map of a [`hydrated`] document.
    pub fn root(value: &'a hydrate::Value) -> Result<Self> {
        Self::of(value).ok_or_else(|| bad("the document's root is not a map"))
    }

    /// `value` if it is a map.
    pub fn of(value: &'a hydrate::Value) -> Option<Self> {
        match value {
            hydrate::Value::Map(m) => Some(Self(m)),
            _ => None,
        }
    }

    pub fn scalar(self, key: &str) -> Option<&'a ScalarValue> {
        match self.0.get(key)? {
            hydrate::Value::Scalar(v) => Some(v),
            _ => None,
        }
    }

    pub fn str(self, key: &str) -> Option<String> {
        match self.scalar(key)? {
            ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        }
    }

    pub fn i64(self, key: &str) -> Option<i64> {
        match self.scalar(key)? {
            ScalarValue::Int(i) => Some(*i),
            ScalarValue::Uint(u) => i64::try_from(*u).ok(),
            _ => None,
        }
    }

    pub fn f64(self, key: &str) -> Option<f64> {
        match self.scalar(key)? {
            ScalarValue::F64(f) if f.is_finite() => Some(*f),
            ScalarValue::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// True only for a boolean `true` (missing or mistyped reads as false).
    pub fn is_true(self, key: &str) -> bool {
        matches!(self.scalar(key), Some(ScalarValue::Boolean(true)))
    }

    pub fn bytes(self, key: &str) -> Option<&'a [u8]> {
        match self.scalar(key)? {
            ScalarValue::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The map under `key`.
    pub fn map(self, key: &str) -> Option<Self> {
        Self::of(self.0.get(key)?)
    }

    /// The map under `key`, or an error naming it.
    pub fn need_map(self, key: &str) -> Result<Self> {
        self.map(key)
            .ok_or_else(|| bad(format!("the document has no {key}")))
    }

    /// The items of the list under `key` (each a map or not); an error when there is no list.
    pub fn list(self, key: &str) -> Result<impl Iterator<Item = Option<MapFields<'a>>>> {
        match self.0.get(key) {
            Some(hydrate::Value::List(l)) => Ok(l.iter().map(|item| Self::of(&item.value))),
            _ => Err(bad(format!("the document has no {key} list"))),
        }
    }

    /// The keys of this map with the maps under them (other values skipped).
    pub fn maps(self) -> impl Iterator<Item = (&'a str, MapFields<'a>)> {
        self.0
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), Self::of(&v.value)?)))
    }

    /// The HLC stamp [`put_stamp`] wrote into this map.
    pub fn stamp(self) -> Option<HlcStamp> {
        Some(HlcStamp {
            wall_ms: self.i64("at_ms")?,
            counter: u32::try_from(self.i64("at_counter")?).ok()?,
            actor: self.str("actor")?,
        })
    }
}

/// A required field, or an error naming it.
pub fn need<T>(v: Option<T>, what: &str) -> Result<T> {
    v.ok_or_else(|| bad(format!("the document's {what} is missing or not readable")))
}

/// A required field parsed from text, or an error naming it.
pub fn parse<T: std::str::FromStr>(v: Option<String>, what: &str) -> Result<T> {
    need(v, what)?
        .parse()
        .map_err(|_| bad(format!("the document's {what} is not valid")))
}

/// Writes an HLC stamp as three fields of `m`.
pub fn put_stamp(tx: &mut Transaction<'_>, m: &ObjId, at: &HlcStamp) -> Result<(), AutomergeError> {
    tx.put(m, "at_ms", at.wall_ms)?;
    tx.put(m, "at_counter", i64::from(at.counter))?;
    tx.put(m, "actor", at.actor.as_str())
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
    ActorId::try_from(hex)
        .map_err(|_| Error::InvalidConfig(format!("device actor id {hex:?} is not hex")))
}
