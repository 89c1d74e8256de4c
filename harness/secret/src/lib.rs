//! Secrets that cannot leak by accident: client secrets, passwords and tokens print as
//! `[redacted]` in `Debug` and `Display`, so logs, reports and snapshots never carry them.
//! Reading the value is an explicit call to [`Secret::expose`].

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself. Call only where it is sent to the party that owns it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret(value.to_string())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Serializes as `[redacted]`: a secret inside a report stays out of it.
impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

pub const REDACTED: &str = "[redacted]";

/// Secrets shorter than this (in characters) are redacted only as whole tokens: where the
/// characters on both sides of an occurrence are not letters or digits. A password `p` must not
/// blank out every `p` of a page title; that would be unreadable and, by the gaps, reveal the
/// password.
pub const MIN_SUBSTRING_CHARS: usize = 8;

/// Redacts every secret in `text`, in each encoding a secret travels in: as is, form-urlencoded
/// (upper- and lower-case hex, space as `+` or `%20`) as request bodies, queries and Basic
/// credentials carry it, and JSON-escaped (also with `\/` and `\uXXXX` escapes) as servers
/// quote it back. A value sent in a derived form of its own, such as the base64 of
/// `Authorization: Basic`, is passed as a secret itself.
///
/// Only for text that comes from outside (server answers, pages, URLs, headers, logs): applied
/// to a whole message, a short secret would also match ssoproof's own words.
pub fn redact_all(text: &str, secrets: &[&Secret]) -> String {
    let mut needles: Vec<String> = secrets.iter().flat_map(|s| encodings(&s.0)).collect();
    needles.sort();
    needles.dedup();
    // Byte ranges to redact, from every needle; overlapping ones are merged below.
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for needle in &needles {
        let whole_token_only = needle.chars().count() < MIN_SUBSTRING_CHARS;
        for (start, found) in text.match_indices(needle.as_str()) {
            let end = start + found.len();
            if whole_token_only
                && !(token_edge(text[..start].chars().next_back())
                    && token_edge(text[end..].chars().next()))
            {
                continue;
            }
            ranges.push((start, end));
        }
    }
    if ranges.is_empty() {
        return text.to_string();
    }
    ranges.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (start, end) in ranges {
        if end <= copied {
            continue;
        }
        if start >= copied {
            out.push_str(&text[copied..start]);
            out.push_str(REDACTED);
        }
        copied = end;
    }
    out.push_str(&text[copied..]);
    out
}

/// Whether the character beside an occurrence ends a token (or there is none).
fn token_edge(beside: Option<char>) -> bool {
    beside.is_none_or(|c| !c.is_alphanumeric())
}

/// The forms in which `value` may come back; empty for an empty value.
fn encodings(value: &str) -> Vec<String> {
    if value.is_empty() {
        return Vec::new();
    }
    let form: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let percent = form.replace('+', "%20");
    let json = serde_json::to_string(value).expect("a string serializes");
    let json = json[1..json.len() - 1].to_string();
    // ASCII-only JSON, as some servers write it: `\/`, and `\uxxxx` for everything else.
    let mut ascii_json = String::new();
    for c in json.chars() {
        match c {
            '/' => ascii_json.push_str("\\/"),
            c if c.is_ascii() => ascii_json.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    ascii_json.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    vec![
        value.to_string(),
        recase_hex(&form, "%", 2),
        recase_hex(&percent, "%", 2),
        form,
        percent,
        recase_hex(&ascii_json, "\\u", 4),
        json,
        ascii_json,
    ]
}

/// `text` with the hex digits after each `marker` switched to the other case (upper becomes
/// lower and lower upper): encoders differ in which they write.
fn recase_hex(text: &str, marker: &str, digits: usize) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(marker) {
        let (before, after) = rest.split_at(at + marker.len());
        out.push_str(before);
        let hex: String = after.chars().take(digits).collect();
        out.extend(hex.chars().map(|c| {
            if c.is_ascii_uppercase() {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            }
        }));
        rest = &after[hex.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "[redacted] Secret([redacted])");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"[redacted]\"");
        assert_eq!(s.expose(), "hunter2");
        assert_eq!(redact_all("pw=hunter2&x=1", &[&s]), "pw=[redacted]&x=1");
    }

    /// issue 11: `--password p` turned "an untitled page" into "an untitled [redacted]age".
    #[test]
    fn short_secrets_are_redacted_only_as_whole_tokens() {
        let p = Secret::new("p");
        assert_eq!(
            redact_all("an untitled page, pp, p1", &[&p]),
            "an untitled page, pp, p1"
        );
        assert_eq!(
            redact_all("p password=p&user=p (p)", &[&p]),
            "[redacted] password=[redacted]&user=[redacted] ([redacted])"
        );
        // Long secrets are redacted wherever they occur, even inside a word.
        let long = Secret::new("correct-horse");
        assert_eq!(redact_all("xcorrect-horsey", &[&long]), "x[redacted]y");
    }

    /// issue 11: an echoing server quoted the client secret back percent-encoded.
    #[test]
    fn every_encoding_a_secret_travels_in_is_redacted() {
        let secret = Secret::new("s3cr:t/+ é&=\"x");
        for echoed in [
            "s3cr:t/+ é&=\"x",
            "s3cr%3At%2F%2B+%C3%A9%26%3D%22x",
            "s3cr%3At%2F%2B%20%C3%A9%26%3D%22x",
            "s3cr%3at%2f%2b+%c3%a9%26%3d%22x",
            "s3cr:t/+ é&=\\\"x",
            "s3cr:t\\/+ \\u00e9&=\\\"x",
            "s3cr:t\\/+ \\u00E9&=\\\"x",
        ] {
            let text = format!("got client_secret={echoed}; bye");
            assert_eq!(
                redact_all(&text, &[&secret]),
                "got client_secret=[redacted]; bye",
                "{echoed}"
            );
        }
    }

    #[test]
    fn overlapping_secrets_make_one_redaction() {
        let a = Secret::new("abcdefgh12");
        let b = Secret::new("gh12345678");
        assert_eq!(redact_all("<abcdefgh12345678>", &[&a, &b]), "<[redacted]>");
        assert_eq!(
            redact_all("nothing here", &[&Secret::new("")]),
            "nothing here"
        );
    }
}
