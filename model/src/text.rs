//! Text that people typed, checked before it is stored and made safe before it is shown.
//!
//! Names and descriptions travel from one device to every other one in scope and end up in
//! terminals, CSV files opened in a spreadsheet and web pages. Two rules keep that safe:
//! - **At the door**, [`check_name`] and [`check_text`] refuse control characters (a name has
//!   none at all; a text may hold line breaks and tabs) and the Unicode bidirectional controls
//!   that make a line read differently from what it holds, and bound the length.
//! - **On the way out**, [`for_terminal`] replaces what slipped in before the rules existed, and
//!   [`csv_cell`] neutralises cells a spreadsheet would run as a formula.
//!
//! Depends on nothing else in the crate.

use std::borrow::Cow;

/// Most characters in a person's, street's or merchant's name.
pub const MAX_NAME_CHARS: usize = 100;
/// Most bytes in a free text (a description, a comment, a note).
pub const MAX_TEXT_BYTES: usize = 4 * 1024;

/// Unicode's bidirectional formatting characters: embeddings, overrides, isolates and marks.
/// A name holding U+202E prints its end first.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A character no stored name may hold: a C0 or C1 control (escape sequences start with one),
/// DEL, a bidi control, or a line or paragraph separator.
pub fn is_unsafe_in_name(c: char) -> bool {
    c.is_control() || is_bidi_control(c) || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Like [`is_unsafe_in_name`], but line breaks and tabs are allowed (descriptions, comments).
pub fn is_unsafe_in_text(c: char) -> bool {
    !matches!(c, '\n' | '\t' | '\r') && is_unsafe_in_name(c)
}

/// Why a text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("{what} is empty")]
    Empty { what: String },
    #[error("{what} is longer than {max} characters")]
    TooLong { what: String, max: usize },
    #[error(
        "{what} holds a control or text-direction character (U+{code:04X}); type it again without it"
    )]
    Unsafe { what: String, code: u32 },
}

/// Checks a one-line name: not empty once trimmed, at most `max_chars` characters, no control or
/// bidi characters (see [`is_unsafe_in_name`]).
pub fn check_name(what: &str, name: &str, max_chars: usize) -> Result<(), TextError> {
    if name.trim().is_empty() {
        return Err(TextError::Empty { what: what.into() });
    }
    if name.chars().count() > max_chars {
        return Err(TextError::TooLong {
            what: what.into(),
            max: max_chars,
        });
    }
    match name.chars().find(|c| is_unsafe_in_name(*c)) {
        Some(c) => Err(TextError::Unsafe {
            what: what.into(),
            code: c as u32,
        }),
        None => Ok(()),
    }
}

/// Checks a free text (may be empty, may hold line breaks): at most `max_bytes` bytes of UTF-8,
/// no other control or bidi characters.
pub fn check_text(what: &str, text: &str, max_bytes: usize) -> Result<(), TextError> {
    if text.len() > max_bytes {
        return Err(TextError::TooLong {
            what: what.into(),
            max: max_bytes,
        });
    }
    match text.chars().find(|c| is_unsafe_in_text(*c)) {
        Some(c) => Err(TextError::Unsafe {
            what: what.into(),
            code: c as u32,
        }),
        None => Ok(()),
    }
}

/// The text with every control and bidi character replaced by U+FFFD, for printing to a
/// terminal: an escape sequence cannot move the cursor, recolour or retitle anything.
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    replace_where(text, is_unsafe_in_name)
}

/// Like [`for_terminal`], but line breaks and tabs stay: for a table or several lines printed
/// at once.
pub fn for_terminal_lines(text: &str) -> Cow<'_, str> {
    replace_where(text, |c| !matches!(c, '\n' | '\t') && is_unsafe_in_name(c))
}

fn replace_where(text: &str, unsafe_char: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(&unsafe_char) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| if unsafe_char(c) { '\u{FFFD}' } else { c })
            .collect(),
    )
}

/// A text cell for CSV, safe to open in a spreadsheet: a cell that starts with `=`, `+`, `-`,
/// `@`, a tab or a carriage return would be taken as a formula (CSV injection), so it gets a
/// leading apostrophe, as OWASP recommends; control and bidi characters are replaced as in
/// [`for_terminal`]. Use it for text, not for numbers (a negative number stays a number).
pub fn csv_cell(text: &str) -> Cow<'_, str> {
    let clean = for_terminal(text);
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{clean}"))
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_refuse_escapes_and_bidi_overrides() {
        assert!(check_name("name", "王芳", MAX_NAME_CHARS).is_ok());
        assert!(check_name("name", "Li Na-Wang (东)", MAX_NAME_CHARS).is_ok());
        for bad in [
            "\u{1b}]0;pwned\u{7}王芳",
            "王\u{202E}芳",
            "a\nb",
            "a\u{2066}b",
            "tab\there",
            "del\u{7f}",
            "c1\u{9b}31m",
        ] {
            assert!(
                matches!(
                    check_name("name", bad, MAX_NAME_CHARS),
                    Err(TextError::Unsafe { .. })
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            check_name("name", "  ", 10),
            Err(TextError::Empty { .. })
        ));
        assert!(check_name("name", &"长".repeat(10), 10).is_ok());
        assert!(matches!(
            check_name("name", &"长".repeat(11), 10),
            Err(TextError::TooLong { .. })
        ));
    }

    #[test]
    fn texts_keep_line_breaks_but_not_escapes() {
        assert!(check_text("description", "满了\n请清理\t谢谢", 100).is_ok());
        assert!(check_text("description", "", 100).is_ok());
        assert!(check_text("description", "\u{1b}[2J", 100).is_err());
        assert!(check_text("description", "x\u{202D}y", 100).is_err());
        assert!(check_text("description", &"x".repeat(101), 100).is_err());
    }

    #[test]
    fn terminal_and_csv_output_is_neutralised() {
        assert_eq!(for_terminal("王芳"), "王芳");
        assert_eq!(for_terminal("\u{1b}[31m红"), "\u{FFFD}[31m红");
        assert_eq!(for_terminal("a\u{202E}b"), "a\u{FFFD}b");
        assert_eq!(
            for_terminal_lines("a\tb\nc\u{1b}d\r"),
            "a\tb\nc\u{FFFD}d\u{FFFD}"
        );
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        for lead in ["+1", "-2+3", "@SUM(A1)", "\tx"] {
            assert!(csv_cell(lead).starts_with('\''), "{lead:?}");
        }
        assert_eq!(csv_cell("八角西街"), "八角西街");
        assert_eq!(csv_cell(""), "");
    }
}
