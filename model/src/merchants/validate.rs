//! The limits of a merchant document (the layout [`super::doc`] writes): which keys it has, how
//! large each field and the whole may be, and the layout version. The sync server refuses an
//! upload that leaves a merchant breaking them; a phone can check one it receives the same way.

use automerge::Automerge;

use crate::docs::validate::{Field, InvalidDoc, Layout, faults};
use crate::merchants::MAX_TEXT_CHARS;
use crate::merchants::model::MERCHANT_DOC_SCHEMA_VERSION;

/// Most bytes a merchant document may take saved: 1 MiB, as an issue (every supervisor and
/// chief in scope downloads it). Inspections carry photo ids, not thumbnails: a merchant with
/// years of weekly inspections is well under 200 KB.
pub const MAX_MERCHANT_DOC_BYTES: usize = 1024 * 1024;
/// Most inspections of one merchant (ten years of weekly ones, and more).
pub const MAX_INSPECTIONS: usize = 2_000;
/// Most issue links and unlinks of one merchant.
pub const MAX_LINKS: usize = 2_000;
/// Most photos of one inspection.
pub const MAX_INSPECTION_PHOTOS: usize = 16;

/// An id, a role, a grade, an actor.
const ID: Field = Field::Str(64);
const PLACE_ID: Field = Field::Str(128);
const NAME: Field = Field::Name(MAX_TEXT_CHARS);

const INSPECTION: Field = Field::Map(&[
    ("id", ID),
    ("by", ID),
    ("role", ID),
    ("at_ms", Field::Int),
    ("at_counter", Field::Int),
    ("actor", ID),
    ("sanitation", ID),
    ("greening", ID),
    ("order", ID),
    ("note", Field::Text(4 * MAX_TEXT_CHARS)),
    // Photo ids separated by spaces.
    ("photos", Field::Str(65 * MAX_INSPECTION_PHOTOS)),
]);

const LINK: Field = Field::Map(&[
    ("issue_id", ID),
    ("linked", Field::Bool),
    ("by", ID),
    ("at_ms", Field::Int),
    ("at_counter", Field::Int),
    ("actor", ID),
]);

/// The merchant layout, as [`super::doc`] describes it.
pub const MERCHANT_LAYOUT: Layout = Layout {
    kind: "merchant",
    schema: MERCHANT_DOC_SCHEMA_VERSION,
    max_doc_bytes: MAX_MERCHANT_DOC_BYTES,
    root: &[
        ("schema", Field::Int),
        ("id", ID),
        ("created_by", ID),
        ("created_at_ms", Field::Int),
        ("name", NAME),
        ("kind", NAME),
        ("address", NAME),
        ("contact", NAME),
        ("lat", Field::Number),
        ("lon", Field::Number),
        ("street_id", PLACE_ID),
        ("segment_id", PLACE_ID),
        ("closed", Field::Bool),
        (
            "inspections",
            Field::List {
                max: MAX_INSPECTIONS,
                item: &INSPECTION,
            },
        ),
        (
            "links",
            Field::List {
                max: MAX_LINKS,
                item: &LINK,
            },
        ),
    ],
};

/// Every way merchant document `id` breaks the layout and limits; empty when it keeps them.
pub fn merchant_faults(id: &str, doc: &Automerge) -> Vec<InvalidDoc> {
    faults(&MERCHANT_LAYOUT, id, doc)
}

/// Checks merchant document `id` against the layout and limits: the first fault, if any.
pub fn check_merchant(id: &str, doc: &Automerge) -> Result<(), InvalidDoc> {
    crate::docs::validate::check(&MERCHANT_LAYOUT, id, doc)
}

#[cfg(test)]
mod tests {
    use automerge::ROOT;
    use automerge::transaction::Transactable;

    use super::*;
    use crate::docs::validate::Rule;
    use crate::domain::{MerchantId, UserId};
    use crate::merchants::doc::create;
    use crate::merchants::model::MerchantFields;

    fn merchant() -> (String, Automerge) {
        let id = MerchantId::new();
        let fields = MerchantFields {
            name: "老王面馆".into(),
            kind: Some("restaurant".into()),
            address: Some("八角西街 12 号".into()),
            contact: None,
            lat: 39.9,
            lon: 116.2,
            street_id: Some("s1".into()),
            segment_id: None,
            closed: false,
        };
        let doc = create(
            automerge::ActorId::from(vec![3; 16]),
            id,
            &fields,
            UserId::new(),
            1_700_000_000_000,
        )
        .unwrap();
        (id.to_string(), doc)
    }

    #[test]
    fn a_merchant_the_phones_write_is_valid_and_extra_keys_are_not() {
        let (id, mut doc) = merchant();
        assert_eq!(merchant_faults(&id, &doc), vec![]);
        let mut tx = doc.transaction();
        tx.put(ROOT, "rating", "AAA").unwrap();
        tx.put(ROOT, "name", "x\u{202E}y").unwrap();
        tx.put(ROOT, "schema", 2).unwrap();
        tx.put(ROOT, "lat", f64::NAN).unwrap();
        tx.commit();
        let found = merchant_faults(&id, &doc);
        let rule = |field: &str| found.iter().find(|f| f.field == field).map(|f| &f.rule);
        assert!(
            matches!(rule("rating"), Some(Rule::UnknownKey { .. })),
            "{found:?}"
        );
        assert!(matches!(rule("schema"), Some(Rule::UnknownSchema { .. })));
        assert!(matches!(rule("name"), Some(Rule::Text(_))));
        assert!(matches!(rule("lat"), Some(Rule::WrongType { .. })));
        let msg = check_merchant(&id, &doc).unwrap_err().to_string();
        assert!(msg.starts_with(&format!("merchant {id}: ")), "{msg}");
    }
}
