//! Device tokens and enrolment codes: random, shown once, stored only as SHA-256 hashes so a
//! leaked database does not let anyone sync as a device.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// Crockford base32 without I, L, O, U: easy to read out and type from a printed sheet.
const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new bearer token: `spt_` and 32 random bytes in base64url.
pub fn new_token() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "spt_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// A new one-time enrolment code: 12 base32 characters (60 bits) as `XXXX-XXXX-XXXX`.
pub fn new_enrol_code() -> String {
    let mut bytes = [0u8; 12];
    rand::rng().fill_bytes(&mut bytes);
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| CODE_ALPHABET[(*b & 31) as usize] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Normalises a typed code: upper case, no separators or spaces, and the look-alikes a person
/// might type (O for 0, I and L for 1) mapped back.
pub fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect()
}

/// The stored form of a token or code.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_tokens() {
        let code = new_enrol_code();
        assert_eq!(code.len(), 14);
        assert_eq!(normalise_code(&code.to_lowercase()), code.replace('-', ""));
        assert_ne!(new_token(), new_token());
        assert!(new_token().starts_with("spt_"));
        assert_eq!(hash_secret("a").len(), 64);
        assert_eq!(normalise_code(" o1-il "), "0111");
    }
}
