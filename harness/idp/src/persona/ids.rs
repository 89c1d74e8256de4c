//! Identifiers in each vendor's shape, derived from a seed so that a persona file gives the same
//! ids on every run (a file may also set them explicitly).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

fn digest(seed: &str) -> [u8; 32] {
    Sha256::digest(seed.as_bytes()).into()
}

/// Bytes enough for `len` characters, from repeated hashing.
fn stream(seed: &str, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    let mut round = 0u32;
    while out.len() < len {
        out.extend_from_slice(&digest(&format!("{seed}#{round}")));
        round += 1;
    }
    out.truncate(len);
    out
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `len` base-62 characters.
pub fn base62(seed: &str, len: usize) -> String {
    stream(seed, len)
        .into_iter()
        .map(|b| BASE62[b as usize % 62] as char)
        .collect()
}

/// `len` lower-case hexadecimal characters.
pub fn hex(seed: &str, len: usize) -> String {
    stream(seed, len.div_ceil(2))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()[..len]
        .to_string()
}

/// `len` decimal digits, the first not zero.
pub fn digits(seed: &str, len: usize) -> String {
    stream(seed, len)
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            let d = if i == 0 { 1 + b % 9 } else { b % 10 };
            char::from(b'0' + d)
        })
        .collect()
}

/// A UUID in version-4 layout.
pub fn uuid(seed: &str) -> String {
    let mut bytes: [u8; 16] = stream(seed, 16).try_into().expect("16 bytes");
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(bytes).to_string()
}

/// Okta's ids: a three-character type prefix (`00u` users, `0oa` apps, `00g` groups, `00o`
/// orgs, `aus` authorization servers) and 17 base-62 characters.
pub fn okta(prefix: &str, seed: &str) -> String {
    format!("{prefix}{}", base62(seed, 20 - prefix.len()))
}

/// Entra's pairwise `sub`: 43 base64url characters, different for every application.
pub fn pairwise(oid: &str, app_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest(&format!("pairwise:{oid}:{app_id}")))
}

/// A random opaque string of `len` base64url characters.
pub fn random(len: usize) -> String {
    let mut token = super::super::state::random_token(len);
    token.truncate(len);
    token
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_are_stable_and_vendor_like() {
        assert_eq!(okta("00u", "alice"), okta("00u", "alice"));
        assert_eq!(okta("00u", "alice").len(), 20);
        assert!(okta("00u", "alice").starts_with("00u"));
        assert_eq!(hex("x", 24).len(), 24);
        let d = digits("x", 21);
        assert_eq!(d.len(), 21);
        assert!(!d.starts_with('0'));
        let u = uuid("x");
        assert_eq!(uuid::Uuid::parse_str(&u).unwrap().get_version_num(), 4);
        assert_eq!(pairwise("o", "a").len(), 43);
        assert_ne!(pairwise("o", "a"), pairwise("o", "b"));
        assert!(random(40).len() <= 40);
    }
}
