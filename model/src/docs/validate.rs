//! The shape a synced document must have, checked before it is accepted: the server checks every
//! document a device uploads, and a phone can check what it receives, with the same code.
//!
//! A document kind describes its layout as a tree of [`Field`]s (see
//! [`crate::issues::validate`] and [`crate::merchants::validate`]); [`faults`] walks the
//! document against it and lists everything wrong: a key the layout does not know, a value of
//! the wrong type, a text too long or holding control characters ([`crate::text`]), a list
//! with too many items, and the document's saved size. Every fault names the document, the
//! field (a path such as `events[3].payload.note`) and the rule, so a refusal says what to fix.
//!
//! Every value under a key is checked, including the losers of a conflict (two devices setting
//! one key at once): they are stored, and downloaded, too.

use std::fmt;

use automerge::{Automerge, ObjId, ObjType, ReadDoc, ScalarValue, Value};

/// Most bytes of changes one upload may add to one document: 4 MiB, twice the largest document
/// a kind allows ([`crate::issues::validate::MAX_ISSUE_DOC_BYTES`]), since changes sent one by
/// one compress less than the document saved whole. Checked before the changes are even
/// decoded.
pub const MAX_DOC_UPLOAD_BYTES: usize = 4 * 1024 * 1024;

/// What one field of a document's layout may hold.
#[derive(Debug, Clone, Copy)]
pub enum Field {
    /// A short string: an id, a code, a role (at most this many bytes, no control characters).
    Str(usize),
    /// A one-line name people typed, checked with [`crate::text::check_name`] (characters).
    Name(usize),
    /// A free text people typed, checked with [`crate::text::check_text`] (bytes).
    Text(usize),
    /// An integer.
    Int,
    /// A finite number (integer or float).
    Number,
    /// A boolean.
    Bool,
    /// Bytes (a thumbnail), at most this many.
    Bytes(usize),
    /// A map with these keys and no others.
    Map(&'static [(&'static str, Field)]),
    /// A list of at most `max` items, each one `item`.
    List { max: usize, item: &'static Field },
    /// A map keyed by photo id (SHA-256, lowercase hex), at most `max` entries, each one `item`.
    Photos { max: usize, item: &'static Field },
}

/// The rule a field breaks.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// The whole document, saved, is larger than its kind allows.
    DocTooLarge { bytes: usize, max: usize },
    /// The document says it has a layout version this code does not know.
    UnknownSchema { found: String, known: i64 },
    /// A key the layout does not have (`more` other unknown keys in the same map).
    UnknownKey { more: usize },
    /// A value of another type than the layout says.
    WrongType { expected: &'static str },
    /// A string or bytes longer than allowed.
    TooLong { bytes: usize, max: usize },
    /// More items than allowed.
    TooMany { count: usize, max: usize },
    /// A name or text refused by [`crate::text`].
    Text(String),
    /// A key that is not a photo id.
    NotPhotoId,
    /// The document holds operations no reader can walk (marks outside text).
    Unreadable,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::DocTooLarge { bytes, max } => write!(
                f,
                "{bytes} bytes saved; a document of this kind may have at most {max}"
            ),
            Rule::UnknownSchema { found, known } => write!(
                f,
                "layout version {found} is not one this app knows (it knows {known})"
            ),
            Rule::UnknownKey { more: 0 } => f.write_str("not a field of this kind of document"),
            Rule::UnknownKey { more } => write!(
                f,
                "not a field of this kind of document (nor are {more} other keys beside it)"
            ),
            Rule::WrongType { expected } => write!(f, "must be {expected}"),
            Rule::TooLong { bytes, max } => {
                write!(f, "{bytes} bytes long; at most {max} are allowed")
            }
            Rule::TooMany { count, max } => {
                write!(f, "{count} items; at most {max} are allowed")
            }
            Rule::Text(why) => f.write_str(why),
            Rule::NotPhotoId => f.write_str("not a photo id (SHA-256 in lowercase hex)"),
            Rule::Unreadable => {
                f.write_str("operations where they do not belong (marks outside text)")
            }
        }
    }
}

/// A document that breaks its layout: which one, where, and the rule.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{kind} {doc}: {field}: {rule}")]
pub struct InvalidDoc {
    /// `issue` or `merchant`.
    pub kind: &'static str,
    /// The document id.
    pub doc: String,
    /// Where: `description`, `events[3].payload.note`, `photos.<sha>.thumbnail`; `the document`
    /// for the whole.
    pub field: String,
    pub rule: Rule,
}

impl InvalidDoc {
    /// Whether `other` is the same fault (same field, same rule), whatever the figures: a
    /// document that was 2 MiB and is now 2.1 MiB breaks the size rule the same way.
    pub fn same_fault(&self, other: &InvalidDoc) -> bool {
        self.field == other.field
            && std::mem::discriminant(&self.rule) == std::mem::discriminant(&other.rule)
    }
}

/// The first fault of `after` that `before` (the same document before some changes) did not
/// already have: the fault those changes brought. A fault already stored (a document written
/// before a rule existed) is not the uploading device's doing, and refusing it would lock every
/// honest device out of the document.
pub fn first_new_fault(before: &[InvalidDoc], after: Vec<InvalidDoc>) -> Option<InvalidDoc> {
    after
        .into_iter()
        .find(|a| !before.iter().any(|b| b.same_fault(a)))
}

/// A document kind's layout and limits.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// `issue`, `merchant`.
    pub kind: &'static str,
    /// The root map's fields.
    pub root: &'static [(&'static str, Field)],
    /// The layout versions this code reads (the `schema` root field).
    pub schema: i64,
    /// Most bytes the document may take saved.
    pub max_doc_bytes: usize,
}

/// Checks document `id` against `layout`: the first fault, if any.
pub fn check(layout: &Layout, id: &str, doc: &Automerge) -> Result<(), InvalidDoc> {
    match faults(layout, id, doc).into_iter().next() {
        Some(f) => Err(f),
        None => Ok(()),
    }
}

/// Every fault of `doc` (document `id`) against `layout`; empty when it is valid. Never panics
/// on a hand-made document.
pub fn faults(layout: &Layout, id: &str, doc: &Automerge) -> Vec<InvalidDoc> {
    let mut walk = Walk {
        doc,
        kind: layout.kind,
        id,
        faults: Vec::new(),
    };
    match doc.get(automerge::ROOT, "schema") {
        Ok(Some((Value::Scalar(s), _))) if scalar_int(&s) == Some(layout.schema) => {}
        Ok(found) => {
            let found = match found {
                Some((Value::Scalar(s), _)) => s.to_string(),
                Some(_) => "(an object)".to_owned(),
                None => "(none)".to_owned(),
            };
            walk.fault(
                "schema",
                Rule::UnknownSchema {
                    found,
                    known: layout.schema,
                },
            );
        }
        Err(_) => walk.fault("the document", Rule::Unreadable),
    }
    let walked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut inner = Walk {
            doc,
            kind: layout.kind,
            id,
            faults: Vec::new(),
        };
        inner.map(&automerge::ROOT, "", layout.root);
        inner.faults
    }));
    match walked {
        Ok(found) => walk.faults.extend(found),
        Err(_) => walk.fault("the document", Rule::Unreadable),
    }
    // Last: a field over its limit says more about what to fix than the total.
    let saved = doc.save().len();
    if saved > layout.max_doc_bytes {
        walk.fault(
            "the document",
            Rule::DocTooLarge {
                bytes: saved,
                max: layout.max_doc_bytes,
            },
        );
    }
    walk.faults
}

fn scalar_int(s: &ScalarValue) -> Option<i64> {
    match s {
        ScalarValue::Int(i) => Some(*i),
        ScalarValue::Uint(u) => i64::try_from(*u).ok(),
        _ => None,
    }
}

struct Walk<'a> {
    doc: &'a Automerge,
    kind: &'static str,
    id: &'a str,
    faults: Vec<InvalidDoc>,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

impl Walk<'_> {
    fn fault(&mut self, field: &str, rule: Rule) {
        self.faults.push(InvalidDoc {
            kind: self.kind,
            doc: self.id.to_owned(),
            field: field.to_owned(),
            rule,
        });
    }

    /// The entries of a map in one pass (a lookup per key was most of the walk's time): key,
    /// whether its value is in conflict, the winning value and its id.
    fn entries(&self, obj: &ObjId) -> Vec<(String, bool, Value<'static>, ObjId)> {
        self.doc
            .map_range(obj, ..)
            .map(|item| {
                let id = item.id();
                (
                    item.key.into_owned(),
                    item.conflict,
                    item.value.into_value(),
                    id,
                )
            })
            .collect()
    }

    /// Checks a value of `key` in `obj`: the winner, or every value when they conflict.
    fn entry(
        &mut self,
        obj: &ObjId,
        key: &str,
        (conflict, value, id): (bool, &Value<'_>, &ObjId),
        path: &str,
        field: &Field,
    ) {
        if !conflict {
            return self.value(value, id, path, field);
        }
        if let Ok(values) = self.doc.get_all(obj, key) {
            for (value, id) in values {
                self.value(&value, &id, path, field);
            }
        }
    }

    fn map(&mut self, obj: &ObjId, path: &str, fields: &'static [(&'static str, Field)]) {
        let entries = self.entries(obj);
        let unknown: Vec<&String> = entries
            .iter()
            .map(|(k, ..)| k)
            .filter(|k| fields.iter().all(|(f, _)| f != k))
            .collect();
        if let Some(first) = unknown.first() {
            let more = unknown.len() - 1;
            self.fault(&join(path, first), Rule::UnknownKey { more });
        }
        for (key, field) in fields {
            if let Some((_, conflict, value, id)) = entries.iter().find(|(k, ..)| k == key) {
                self.entry(obj, key, (*conflict, value, id), &join(path, key), field);
            }
        }
    }

    fn value(&mut self, value: &Value<'_>, id: &ObjId, path: &str, field: &Field) {
        let wrong = |expected| Rule::WrongType { expected };
        let rule = match (field, value) {
            (Field::Map(fields), Value::Object(ObjType::Map)) => {
                return self.map(id, path, fields);
            }
            (Field::List { max, item }, Value::Object(ObjType::List)) => {
                return self.list(id, path, *max, item);
            }
            (Field::Photos { max, item }, Value::Object(ObjType::Map)) => {
                return self.photos(id, path, *max, item);
            }
            (Field::Map(_) | Field::Photos { .. }, _) => wrong("a map"),
            (Field::List { .. }, _) => wrong("a list"),
            (_, Value::Object(_)) => wrong(scalar_kind(field)),
            (_, Value::Scalar(s)) => match scalar_rule(field, s) {
                Some(rule) => rule,
                None => return,
            },
        };
        self.fault(path, rule);
    }

    fn list(&mut self, obj: &ObjId, path: &str, max: usize, item: &Field) {
        let len = self.doc.length(obj);
        if len > max {
            return self.fault(path, Rule::TooMany { count: len, max });
        }
        let items: Vec<(usize, bool, Value<'static>, ObjId)> = self
            .doc
            .list_range(obj, ..)
            .map(|i| {
                let id = i.id();
                (i.index, i.conflict, i.value.into_value(), id)
            })
            .collect();
        for (i, conflict, value, id) in items {
            let here = format!("{path}[{i}]");
            if !conflict {
                self.value(&value, &id, &here, item);
            } else if let Ok(values) = self.doc.get_all(obj, i) {
                for (value, id) in values {
                    self.value(&value, &id, &here, item);
                }
            }
        }
    }

    fn photos(&mut self, obj: &ObjId, path: &str, max: usize, item: &Field) {
        let entries = self.entries(obj);
        if entries.len() > max {
            return self.fault(
                path,
                Rule::TooMany {
                    count: entries.len(),
                    max,
                },
            );
        }
        for (key, conflict, value, id) in &entries {
            let here = join(path, key);
            if !crate::photos::is_photo_id(key) {
                self.fault(&here, Rule::NotPhotoId);
                continue;
            }
            self.entry(obj, key, (*conflict, value, id), &here, item);
        }
    }
}

fn scalar_kind(field: &Field) -> &'static str {
    match field {
        Field::Str(_) | Field::Name(_) | Field::Text(_) => "a string",
        Field::Int => "an integer",
        Field::Number => "a finite number",
        Field::Bool => "true or false",
        Field::Bytes(_) => "bytes",
        Field::Map(_) | Field::Photos { .. } => "a map",
        Field::List { .. } => "a list",
    }
}

/// The rule a scalar breaks for `field`, if any.
fn scalar_rule(field: &Field, s: &ScalarValue) -> Option<Rule> {
    let wrong = Some(Rule::WrongType {
        expected: scalar_kind(field),
    });
    let too_long = |bytes: usize, max: usize| (bytes > max).then_some(Rule::TooLong { bytes, max });
    match (field, s) {
        (Field::Str(max), ScalarValue::Str(t)) => too_long(t.len(), *max).or_else(|| {
            crate::text::check_name("the value", t, *max)
                .err()
                .filter(|_| !t.is_empty())
                .map(|e| Rule::Text(e.to_string()))
        }),
        (Field::Name(max), ScalarValue::Str(t)) => crate::text::check_name("the name", t, *max)
            .err()
            .map(|e| Rule::Text(e.to_string())),
        (Field::Text(max), ScalarValue::Str(t)) => too_long(t.len(), *max).or_else(|| {
            crate::text::check_text("the text", t, *max)
                .err()
                .map(|e| Rule::Text(e.to_string()))
        }),
        (Field::Int, ScalarValue::Int(_) | ScalarValue::Uint(_)) => None,
        (Field::Number, ScalarValue::Int(_) | ScalarValue::Uint(_)) => None,
        (Field::Number, ScalarValue::F64(x)) if x.is_finite() => None,
        (Field::Bool, ScalarValue::Boolean(_)) => None,
        (Field::Bytes(max), ScalarValue::Bytes(b)) => too_long(b.len(), *max),
        _ => wrong,
    }
}
