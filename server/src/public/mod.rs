//! The public's door: what residents do through a signboard's QR code, without the app or an
//! account. Sans HTTP: the web layer ([`crate::web`]) parses forms and renders pages; this
//! module checks what a resident sent and writes it through the server's storage.
//!
//! - [`signboards`]: a scanned code verified against the district's key, and what the street's
//!   page shows (street, chief, subdistrict, problems lately resolved).
//! - [`report`]: a resident's report becomes an issue document written by the public desk
//!   ([`desk`]) through the same document model, role table and fold a phone's report passes.
//! - [`receipt`]: the progress of one report, in plain steps, for its receipt token.
//! - [`applications`]: steward applications, pending until the district approves or declines.
//! - [`contact`]: phone numbers checked and masked.

pub mod applications;
pub mod contact;
pub mod desk;
pub mod info;
pub mod receipt;
pub mod report;
pub mod signboards;

use crate::storage::StorageError;

/// A form field a resident fills in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Category,
    Description,
    Photos,
    Location,
    Phone,
    Name,
    Street,
    Availability,
}

impl Field {
    /// The form's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Field::Category => "category",
            Field::Description => "description",
            Field::Photos => "photos",
            Field::Location => "location",
            Field::Phone => "phone",
            Field::Name => "name",
            Field::Street => "street",
            Field::Availability => "availability",
        }
    }
}

/// What is wrong with a field, said to the resident in their language by the web layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Missing,
    TooLong {
        max_chars: usize,
    },
    NotInCatalog,
    BadPhone,
    TooManyPhotos {
        max: usize,
    },
    PhotoTooLarge {
        max_bytes: u64,
    },
    /// Not a JPEG or PNG, or one that does not decode.
    NotAPhoto,
    /// Not a place, or too far from the signboard to be about its street.
    BadPosition,
    NotAChoice,
    /// A steward application with this phone is waiting already.
    AlreadyApplied,
}

/// One field's problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: Field,
    pub problem: Problem,
}

impl FieldError {
    pub fn new(field: Field, problem: Problem) -> Self {
        Self { field, problem }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PublicError {
    /// A code that does not verify, names no signboard of the district, or a token nobody holds.
    #[error("not found")]
    NotFound,
    /// The server has no district key yet (no signboard was ever issued).
    #[error("this server has not issued signboards yet")]
    NoSignboards,
    /// What the resident typed, with every field's problem; nothing was written.
    #[error("the form has {} problem(s)", .0.len())]
    Fields(Vec<FieldError>),
    /// Valid, but the server will not take it now (the application was decided already...).
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type PublicResult<T> = Result<T, PublicError>;

/// The same check for every text field: trimmed, not empty when required, at most `max_chars`.
/// What a phone keyboard or a paste may slip in is cleaned rather than refused: carriage returns
/// and bidi marks (some input methods insert them) are dropped, other control characters become
/// spaces, a Unicode line separator a line break; a one-line field (`Field::Name`,
/// `Field::Availability`) has no line breaks at all. What is left then passes the model's own
/// text rules, which every stored name and text must.
pub fn check_text(
    field: Field,
    text: &str,
    required: bool,
    max_chars: usize,
    errors: &mut Vec<FieldError>,
) -> String {
    use patrol_model::text::is_bidi_control;
    let one_line = matches!(field, Field::Name | Field::Availability);
    let cleaned: String = text
        .chars()
        .filter(|c| *c != '\r' && !is_bidi_control(*c))
        .map(|c| match c {
            '\u{2028}' | '\u{2029}' | '\n' if one_line => ' ',
            '\u{2028}' | '\u{2029}' => '\n',
            '\t' if one_line => ' ',
            '\n' | '\t' => c,
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    let t = cleaned.trim();
    if t.is_empty() {
        if required {
            errors.push(FieldError::new(field, Problem::Missing));
        }
        return String::new();
    }
    if t.chars().count() > max_chars {
        errors.push(FieldError::new(field, Problem::TooLong { max_chars }));
        return String::new();
    }
    let safe = if one_line {
        patrol_model::text::check_name(field.name(), t, max_chars).is_ok()
    } else {
        patrol_model::text::check_text(field.name(), t, max_chars * 4).is_ok()
    };
    if !safe {
        errors.push(FieldError::new(field, Problem::Missing));
        return String::new();
    }
    t.to_owned()
}

/// An unguessable token for a receipt or an application page: 25 characters (125 bits) of an
/// alphabet without look-alikes, so a resident can also copy it by hand.
pub fn new_public_token() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut rng = rand::rng();
    (0..25)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// A token as typed or pasted back: upper case, without spaces or dashes; `None` when it cannot
/// be one.
pub fn normalise_token(text: &str) -> Option<String> {
    let t: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (t.len() == 25 && t.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(t)
}

/// A token grouped in fives for reading aloud or writing down.
pub fn grouped(token: &str) -> String {
    token
        .as_bytes()
        .chunks(5)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_unambiguous_and_read_back_as_typed() {
        let t = new_public_token();
        assert_eq!(t.len(), 25);
        assert!(!t.contains(['0', 'O', '1', 'I']));
        assert_eq!(
            normalise_token(&grouped(&t).to_lowercase()),
            Some(t.clone())
        );
        assert_ne!(new_public_token(), t);
        assert_eq!(normalise_token("short"), None);
        assert_eq!(normalise_token("../../etc/passwd/../../../.."), None);
    }

    #[test]
    fn text_fields_are_trimmed_bounded_and_rid_of_control_characters() {
        let mut e = Vec::new();
        assert_eq!(
            check_text(Field::Description, " a\u{0}b\r\nc ", true, 10, &mut e),
            "a b\nc"
        );
        assert_eq!(
            check_text(
                Field::Description,
                "a\u{202E}b\u{2028}c\u{200F}",
                true,
                10,
                &mut e
            ),
            "ab\nc"
        );
        assert_eq!(
            check_text(Field::Name, "张\n\u{202E}三", true, 10, &mut e),
            "张 三"
        );
        assert!(e.is_empty());
        check_text(Field::Name, "  ", true, 10, &mut e);
        check_text(Field::Name, "长长长", true, 2, &mut e);
        assert_eq!(
            e,
            vec![
                FieldError::new(Field::Name, Problem::Missing),
                FieldError::new(Field::Name, Problem::TooLong { max_chars: 2 })
            ]
        );
    }
}
