//! The limits of an issue document (the layout [`super::doc`] writes): which keys it has, how
//! large each field and the whole may be, and the layout version. The sync server refuses an
//! upload that leaves an issue breaking them; a phone can check an issue it receives the same
//! way. Pure: one pass over the Automerge document.

use automerge::Automerge;

use crate::docs::validate::{Field, InvalidDoc, Layout, faults};
use crate::issues::model::DOC_SCHEMA_VERSION;
use crate::issues::{MAX_DESCRIPTION_CHARS, roles};

/// Most bytes an issue document may take saved: 2 MiB. Every device in an issue's scope
/// downloads it whole over a phone connection, so one device must not be able to make the
/// street download megabytes. A real issue (a report, a few thumbnails of 20-60 KB, a few dozen
/// events and comments) is 50-300 KB saved; 2 MiB leaves room for several rounds of photos,
/// even a dozen of the largest thumbnails the phones make.
pub const MAX_ISSUE_DOC_BYTES: usize = 2 * 1024 * 1024;

/// Most bytes of a thumbnail carried in the document: 160 KiB. Phones make thumbnails of at
/// most [`crate::photos::THUMBNAIL_MAX_PX`] a side at JPEG quality 70: tens of KB for a photo
/// of a street, and about 118 KB for pure noise, the worst case (see the tests).
pub const MAX_THUMBNAIL_BYTES: usize = 160 * 1024;

/// Most bytes of a description, comment, reason or note: the phones allow
/// [`MAX_DESCRIPTION_CHARS`] (and [`roles::MAX_TEXT_CHARS`]) characters, of at most 4 bytes
/// each.
pub const MAX_ISSUE_TEXT_BYTES: usize = 4 * max(MAX_DESCRIPTION_CHARS, roles::MAX_TEXT_CHARS);

/// Most photos on one issue.
pub const MAX_PHOTOS: usize = 32;
/// Most events on one issue (a report, and a handful per round).
pub const MAX_EVENTS: usize = 500;
/// Most comments on one issue.
pub const MAX_COMMENTS: usize = 1_000;

const fn max(a: usize, b: usize) -> usize {
    if a > b { a } else { b }
}

/// An id, a role, a kind, an actor (UUIDs are 36 characters, actor ids 32).
const ID: Field = Field::Str(64);
/// A street or segment id.
const PLACE_ID: Field = Field::Str(128);
const TEXT: Field = Field::Text(MAX_ISSUE_TEXT_BYTES);

const LOCATION: &[(&str, Field)] = &[
    ("lat", Field::Number),
    ("lon", Field::Number),
    ("street_id", PLACE_ID),
    ("segment_id", PLACE_ID),
];

const REPORTER: &[(&str, Field)] = &[
    ("user_id", ID),
    ("name", Field::Name(crate::text::MAX_NAME_CHARS)),
    ("role", ID),
    ("device_id", ID),
];

const PHOTO: Field = Field::Map(&[
    ("stage", ID),
    ("mime", Field::Str(64)),
    ("size_bytes", Field::Int),
    ("width", Field::Int),
    ("height", Field::Int),
    ("taken_at_ms", Field::Int),
    ("lat", Field::Number),
    ("lon", Field::Number),
    ("orientation", Field::Int),
    ("added_by", ID),
    ("thumbnail", Field::Bytes(MAX_THUMBNAIL_BYTES)),
]);

const COMMENT: Field = Field::Map(&[
    ("id", ID),
    ("by", ID),
    ("role", ID),
    ("at_ms", Field::Int),
    ("at_counter", Field::Int),
    ("actor", ID),
    ("text", TEXT),
]);

const PAYLOAD: &[(&str, Field)] = &[
    ("to", ID),
    // Event ids separated by spaces: the assignments one replaces.
    ("replaces", Field::Str(37 * 64)),
    ("assignment", ID),
    ("reason", TEXT),
    ("note", TEXT),
    ("photo", Field::Str(64)),
    ("duplicate_of", ID),
];

const EVENT: Field = Field::Map(&[
    ("id", ID),
    ("kind", ID),
    ("by", ID),
    ("role", ID),
    ("device", ID),
    ("at_ms", Field::Int),
    ("at_counter", Field::Int),
    ("actor", ID),
    ("round", Field::Int),
    ("payload", Field::Map(PAYLOAD)),
]);

/// The issue layout, as [`super::doc`] describes it.
pub const ISSUE_LAYOUT: Layout = Layout {
    kind: "issue",
    schema: DOC_SCHEMA_VERSION,
    max_doc_bytes: MAX_ISSUE_DOC_BYTES,
    root: &[
        ("schema", Field::Int),
        ("id", ID),
        ("category", Field::Str(64)),
        ("description", TEXT),
        ("location", Field::Map(LOCATION)),
        ("reporter", Field::Map(REPORTER)),
        (
            "photos",
            Field::Photos {
                max: MAX_PHOTOS,
                item: &PHOTO,
            },
        ),
        (
            "comments",
            Field::List {
                max: MAX_COMMENTS,
                item: &COMMENT,
            },
        ),
        (
            "events",
            Field::List {
                max: MAX_EVENTS,
                item: &EVENT,
            },
        ),
    ],
};

/// Every way issue document `id` breaks the layout and limits; empty when it keeps them.
pub fn issue_faults(id: &str, doc: &Automerge) -> Vec<InvalidDoc> {
    faults(&ISSUE_LAYOUT, id, doc)
}

/// Checks issue document `id` against the layout and limits: the first fault, if any.
pub fn check_issue(id: &str, doc: &Automerge) -> Result<(), InvalidDoc> {
    crate::docs::validate::check(&ISSUE_LAYOUT, id, doc)
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{ObjType, ROOT, ReadDoc, ScalarValue};

    use super::*;
    use crate::docs::validate::Rule;
    use crate::domain::{
        DeviceId, IssueEventId, IssueEventKind, IssueId, PhotoStage, Role, UserId,
    };
    use crate::hlc::HlcStamp;
    use crate::issues::doc::{NewIssueDoc, append_comment, create};
    use crate::issues::model::{
        Comment, EventPayload, IssueEvent, IssueLocation, PhotoRef, Reporter,
    };

    fn issue(thumbnail: Vec<u8>) -> (String, Automerge) {
        let user = UserId::new();
        let id = IssueId::new();
        let at = HlcStamp {
            wall_ms: 1_700_000_000_000,
            counter: 0,
            actor: "aa".repeat(16),
        };
        let report = IssueEvent {
            id: IssueEventId::new(),
            kind: IssueEventKind::Report,
            by: user,
            role: Role::Steward,
            device: DeviceId::new(),
            at,
            round: 1,
            payload: EventPayload {
                note: Some("满了\n请清理".into()),
                ..Default::default()
            },
        };
        let photo = PhotoRef {
            sha256: "ab".repeat(32),
            stage: PhotoStage::Before,
            mime: "image/jpeg".into(),
            size_bytes: 123_456,
            width: 4000,
            height: 3000,
            taken_at_ms: Some(1_700_000_000_000),
            lat: Some(39.9),
            lon: Some(116.2),
            orientation: Some(1),
            added_by: user,
            thumbnail,
        };
        let doc = create(
            automerge::ActorId::from(vec![0xaa; 16]),
            &NewIssueDoc {
                id,
                category: "litter",
                description: "垃圾桶满了",
                location: &IssueLocation {
                    lat: 39.9,
                    lon: 116.2,
                    street_id: Some("s1".into()),
                    segment_id: Some("s1-0".into()),
                },
                reporter: &Reporter {
                    user_id: user,
                    name: "李大妈".into(),
                    role: Role::Steward,
                    device_id: report.device,
                },
                report: &report,
                photos: &[photo],
            },
        )
        .unwrap();
        (id.to_string(), doc)
    }

    fn edit(doc: &mut Automerge, f: impl FnOnce(&mut automerge::transaction::Transaction<'_>)) {
        let mut tx = doc.transaction();
        f(&mut tx);
        tx.commit();
    }

    fn obj(doc: &Automerge, key: &str) -> automerge::ObjId {
        doc.get(ROOT, key).unwrap().unwrap().1
    }

    #[test]
    fn an_issue_the_phones_write_is_valid() {
        let (id, mut doc) = issue(vec![0xff; 20_000]);
        let c = Comment {
            id: crate::domain::CommentId::new(),
            by: UserId::new(),
            role: Role::Chief,
            at: HlcStamp {
                wall_ms: 1,
                counter: 0,
                actor: "bb".repeat(16),
            },
            text: "长".repeat(MAX_DESCRIPTION_CHARS),
        };
        append_comment(&mut doc, &c).unwrap();
        assert_eq!(issue_faults(&id, &doc), vec![]);
        assert!(check_issue(&id, &doc).is_ok());
    }

    #[test]
    fn unknown_keys_wrong_types_and_schemas_are_named() {
        let (id, mut doc) = issue(vec![1; 100]);
        let events = obj(&doc, "events");
        let first = doc.get(&events, 0).unwrap().unwrap().1;
        edit(&mut doc, |tx| {
            tx.put(ROOT, "colour", "red").unwrap();
            tx.put(&first, "bonus_points", 1000).unwrap();
            tx.put(ROOT, "schema", 99).unwrap();
            tx.put(ROOT, "category", 5).unwrap();
        });
        let found = issue_faults(&id, &doc);
        let at = |field: &str| found.iter().find(|f| f.field == field).cloned();
        assert!(
            matches!(at("colour").unwrap().rule, Rule::UnknownKey { more: 0 }),
            "{found:?}"
        );
        assert!(matches!(
            at("events[0].bonus_points").unwrap().rule,
            Rule::UnknownKey { .. }
        ));
        assert!(matches!(
            at("schema").unwrap().rule,
            Rule::UnknownSchema { .. }
        ));
        assert!(matches!(
            at("category").unwrap().rule,
            Rule::WrongType { .. }
        ));
        let msg = check_issue(&id, &doc).unwrap_err().to_string();
        assert!(msg.starts_with(&format!("issue {id}: ")), "{msg}");
    }

    #[test]
    fn sizes_and_counts_are_bounded() {
        // A thumbnail over the limit that makes the document too large, a huge comment, a
        // huge key.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let noise: Vec<u8> = (0..MAX_ISSUE_DOC_BYTES + 1)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect();
        let (id, big) = issue(noise);
        let sha = "ab".repeat(32);
        let found = issue_faults(&id, &big);
        assert!(
            found
                .iter()
                .any(|f| f.field == format!("photos.{sha}.thumbnail")
                    && matches!(f.rule, Rule::TooLong { .. })),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|f| matches!(f.rule, Rule::DocTooLarge { .. }))
        );
        let (doc_id, mut doc) = issue(vec![7; 10]);
        let (id, mut small) = issue(vec![]);
        let comments = obj(&small, "comments");
        edit(&mut small, |tx| {
            let m = tx.insert_object(&comments, 0, ObjType::Map).unwrap();
            tx.put(&m, "text", "x".repeat(MAX_ISSUE_TEXT_BYTES + 1))
                .unwrap();
            tx.put(ROOT, "k".repeat(1 << 20), 1).unwrap();
        });
        let found = issue_faults(&id, &small);
        assert!(found.iter().any(|f| f.field == "comments[0].text"));
        assert!(
            found
                .iter()
                .any(|f| matches!(f.rule, Rule::UnknownKey { .. }))
        );
        // Too many comments: refused by count, however small each is.
        let (id, mut many) = issue(vec![]);
        let comments = obj(&many, "comments");
        edit(&mut many, |tx| {
            for i in 0..=MAX_COMMENTS {
                let m = tx.insert_object(&comments, i, ObjType::Map).unwrap();
                tx.put(&m, "text", "x").unwrap();
            }
        });
        let found = issue_faults(&id, &many);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].field, "comments");
        assert!(matches!(found[0].rule, Rule::TooMany { .. }));
        // Control characters in a text, a name that is empty, a key that is no photo id.
        let reporter = obj(&doc, "reporter");
        let photos = obj(&doc, "photos");
        edit(&mut doc, |tx| {
            tx.put(ROOT, "description", "\u{1b}[2J").unwrap();
            tx.put(&reporter, "name", " ").unwrap();
            tx.put(&photos, "../x", ScalarValue::Null).unwrap();
        });
        let found = issue_faults(&doc_id, &doc);
        for field in ["description", "reporter.name", "photos.../x"] {
            assert!(found.iter().any(|f| f.field == field), "{field}: {found:?}");
        }
    }

    #[test]
    fn losing_values_of_a_conflict_are_checked_too() {
        let (id, doc) = issue(vec![]);
        let mut a = doc.fork().with_actor(automerge::ActorId::from(vec![1; 16]));
        let mut b = doc.fork().with_actor(automerge::ActorId::from(vec![2; 16]));
        edit(&mut a, |tx| tx.put(ROOT, "description", "ok").unwrap());
        edit(&mut b, |tx| {
            tx.put(ROOT, "description", "x".repeat(MAX_ISSUE_TEXT_BYTES + 1))
                .unwrap()
        });
        a.merge(&mut b).unwrap();
        let found = issue_faults(&id, &a);
        assert!(found.iter().any(|f| f.field == "description"), "{found:?}");
    }

    #[test]
    fn a_noise_thumbnail_fits_well_under_the_limit() {
        let px = crate::photos::THUMBNAIL_MAX_PX;
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let img = image::RgbImage::from_fn(px, px, |_, _| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            image::Rgb([seed as u8, (seed >> 8) as u8, (seed >> 16) as u8])
        });
        let mut out = Vec::new();
        image::DynamicImage::ImageRgb8(img)
            .write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
                &mut out, 70,
            ))
            .unwrap();
        assert!(
            out.len() * 5 / 4 < MAX_THUMBNAIL_BYTES,
            "a noise thumbnail is {} bytes",
            out.len()
        );
    }

    #[test]
    fn faults_already_stored_are_not_new() {
        use crate::docs::validate::first_new_fault;
        let (id, mut doc) = issue(vec![]);
        edit(&mut doc, |tx| {
            tx.put(ROOT, "description", "a\u{1b}b").unwrap()
        });
        let before = issue_faults(&id, &doc);
        assert_eq!(before.len(), 1);
        let mut after = doc.fork();
        let events = obj(&after, "events");
        let first = after.get(&events, 0).unwrap().unwrap().1;
        assert_eq!(first_new_fault(&before, issue_faults(&id, &after)), None);
        edit(&mut after, |tx| tx.put(&first, "extra", 1).unwrap());
        let new = first_new_fault(&before, issue_faults(&id, &after)).unwrap();
        assert_eq!(new.field, "events[0].extra");
    }
}
