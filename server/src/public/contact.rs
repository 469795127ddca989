//! Contact phone numbers residents give: checked as mainland China numbers (a mobile, or a
//! landline with its area code), stored as digits, and masked wherever anyone but an authorised
//! supervisor sees them.

/// The number's digits when it is a mainland mobile (11 digits starting 1[3-9]) or a landline
/// with area code (0 and 9 to 11 more digits); `+86`/`0086`, spaces and dashes are allowed.
pub fn check_phone(text: &str) -> Option<String> {
    let mut t: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '\u{3000}'))
        .collect();
    if let Some(rest) = t.strip_prefix("+86").or_else(|| t.strip_prefix("0086")) {
        t = rest.to_owned();
    }
    if !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let b = t.as_bytes();
    let mobile = b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]);
    let landline = (10..=12).contains(&b.len()) && b[0] == b'0';
    (mobile || landline).then_some(t)
}

/// A number as shown to anyone but an authorised supervisor: the first three and last four
/// digits, the rest hidden (`138****5678`).
pub fn mask_phone(digits: &str) -> String {
    let n = digits.chars().count();
    if n <= 7 {
        return "*".repeat(n);
    }
    let head: String = digits.chars().take(3).collect();
    let tail: String = digits.chars().skip(n - 4).collect();
    format!("{head}{}{tail}", "*".repeat(n - 7))
}

/// Text with every run of 7 or more digits (spaces and dashes between allowed) masked as a phone
/// number is: staff text as the public reads it on a receipt, and a resident's description before
/// it goes into the issue every assigned phone receives (a number belongs in the contact field).
pub fn mask_numbers(text: &str) -> String {
    // Digits as typed on a Chinese keyboard too (full width), and what people put between groups.
    let digit = |c: char| match c {
        '0'..='9' => Some(c),
        '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
        _ => None,
    };
    let between = |c: char| {
        matches!(
            c,
            ' ' | '-' | '.' | '/' | '(' | ')' | '\u{3000}' | '（' | '）' | '－' | '·' | '—'
        )
    };
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if digit(chars[i]).is_none() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        let mut digits = String::new();
        let mut end = i;
        while i < chars.len() && (digit(chars[i]).is_some() || between(chars[i])) {
            if let Some(d) = digit(chars[i]) {
                digits.push(d);
                end = i + 1;
            }
            i += 1;
        }
        if digits.len() >= 7 {
            out.push_str(&mask_phone(&digits));
        } else {
            out.extend(&chars[start..end]);
        }
        out.extend(&chars[end..i]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mainland_numbers_pass_and_are_masked() {
        assert_eq!(check_phone("138 1234 5678").as_deref(), Some("13812345678"));
        assert_eq!(
            check_phone("+86-138-1234-5678").as_deref(),
            Some("13812345678")
        );
        assert_eq!(check_phone("010-6512 3456").as_deref(), Some("01065123456"));
        assert_eq!(check_phone("12812345678"), None);
        assert_eq!(check_phone("1381234567"), None);
        assert_eq!(check_phone("138123456789"), None);
        assert_eq!(check_phone("13812345678; DROP"), None);
        assert_eq!(check_phone(""), None);
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("01065123456"), "010****3456");
        assert_eq!(mask_phone("1234"), "****");
    }

    #[test]
    fn numbers_in_text_are_masked() {
        assert_eq!(
            mask_numbers("找李科长 139 1234 5678 处理"),
            "找李科长 139****5678 处理"
        );
        assert_eq!(mask_numbers("第3次，约12点"), "第3次，约12点");
        assert_eq!(mask_numbers("电话010-68881234"), "电话010****1234");
        assert_eq!(mask_numbers(""), "");
        for typed in [
            "１３８１２３４５６７８",
            "138\u{3000}1234\u{3000}5678",
            "138.1234.5678",
            "138/1234/5678",
            "138 (1234) 5678",
        ] {
            assert_eq!(
                mask_numbers(&format!("电话{typed}")),
                "电话138****5678",
                "{typed}"
            );
        }
    }
}
