//! Forms that cannot be posted from another site: every page with a form sets a random cookie
//! (`sp_form`, HttpOnly, SameSite=Lax) and carries a token that is an HMAC, under the server's
//! form key, of that cookie, the form's purpose (the signboard it belongs to) and the time it
//! was issued. A post is taken only with a matching cookie and token younger than
//! [`FORM_VALID_S`]; another site can neither read the cookie nor make the token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const COOKIE: &str = "sp_form";
/// How long a form stays good after the page was served.
pub const FORM_VALID_S: i64 = 6 * 3600;

type HmacSha256 = Hmac<Sha256>;

/// A new cookie value: 16 random bytes.
pub fn new_cookie() -> String {
    let mut b = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// The cookie value from a `Cookie` header, when it is one of ours.
pub fn cookie_of(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, v)| *k == COOKIE && v.len() == 22 && URL_SAFE_NO_PAD.decode(v).is_ok())
        .map(|(_, v)| v.to_owned())
}

/// The `Set-Cookie` value for `cookie`.
pub fn set_cookie(cookie: &str) -> String {
    format!("{COOKIE}={cookie}; Path=/; HttpOnly; SameSite=Lax; Max-Age={FORM_VALID_S}")
}

fn mac(key: &[u8; 32], cookie: &str, purpose: &str, issued_s: i64) -> [u8; 32] {
    // An HMAC takes keys of any length; a 32-byte one cannot fail.
    let mut m = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    for part in [cookie.as_bytes(), b"\n", purpose.as_bytes(), b"\n"] {
        m.update(part);
    }
    m.update(&issued_s.to_be_bytes());
    m.finalize().into_bytes().into()
}

/// The token for a form for `purpose`, issued now.
pub fn token(key: &[u8; 32], cookie: &str, purpose: &str, now_s: i64) -> String {
    let mut b = now_s.to_be_bytes().to_vec();
    b.extend_from_slice(&mac(key, cookie, purpose, now_s)[..16]);
    URL_SAFE_NO_PAD.encode(b)
}

/// Whether `token` was issued by this server for this cookie and purpose, within the last
/// [`FORM_VALID_S`].
pub fn check(key: &[u8; 32], cookie: Option<&str>, purpose: &str, token: &str, now_s: i64) -> bool {
    let Some(cookie) = cookie else { return false };
    let Ok(b) = URL_SAFE_NO_PAD.decode(token.trim()) else {
        return false;
    };
    if b.len() != 24 {
        return false;
    }
    let issued = i64::from_be_bytes(b[..8].try_into().unwrap_or_default());
    if !(now_s - FORM_VALID_S..=now_s + 60).contains(&issued) {
        return false;
    }
    let want = mac(key, cookie, purpose, issued);
    // Constant time: the comparison must not say how much of a guess was right.
    want[..16]
        .iter()
        .zip(&b[8..])
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_holds_only_for_its_cookie_purpose_and_time() {
        let key = [7u8; 32];
        let c = new_cookie();
        let t = token(&key, &c, "sb1", 1_000_000);
        assert!(check(&key, Some(&c), "sb1", &t, 1_000_100));
        assert!(!check(&key, Some(&new_cookie()), "sb1", &t, 1_000_100));
        assert!(!check(&key, None, "sb1", &t, 1_000_100));
        assert!(!check(&key, Some(&c), "sb2", &t, 1_000_100));
        assert!(!check(&[8u8; 32], Some(&c), "sb1", &t, 1_000_100));
        assert!(!check(
            &key,
            Some(&c),
            "sb1",
            &t,
            1_000_000 + FORM_VALID_S + 1
        ));
        assert!(!check(&key, Some(&c), "sb1", "garbage", 1_000_100));
        let mut h = axum::http::HeaderMap::new();
        h.insert(
            axum::http::header::COOKIE,
            format!("a=b; {COOKIE}={c}").parse().unwrap(),
        );
        assert_eq!(cookie_of(&h), Some(c));
    }
}
