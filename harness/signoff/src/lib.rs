//! Sign-off records of runbooks (`ssoproof signoff`): the evidence model, the hashes that tie a
//! record to what it signed, its Markdown rendering, SSH signatures, and staleness.
//!
//! The JSON evidence file is the record; the Markdown beside it is rendered from it, byte for
//! byte, so a check can re-render it and notice a hand edit to either. The JSON carries the
//! SHA-256 of its own content (with that field empty): an edit that does not recompute it is
//! caught. A deliberate forger can recompute a hash, which is what `--sign-with` is for.

mod error;
mod render;
pub mod sign;
pub mod stale;
pub mod store;

pub use error::SignoffError;
pub use render::markdown;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The record format; bumped when a field changes meaning.
pub const FORMAT: u32 = 1;

/// The SSH signature namespace (`ssh-keygen -Y sign -n`), so a signature made for something else
/// (a git commit, a file) cannot be replayed as a sign-off.
pub const NAMESPACE: &str = "ssoproof-signoff";

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: impl AsRef<[u8]>) -> String {
    Sha256::digest(bytes.as_ref())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One checklist item as the runbook says it now: what a record's item is compared with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemFingerprint {
    /// Its first bound scenario tag, else `item-N` (N: its place in the checklist, from 1).
    pub id: String,
    /// As a report shows it (no list marker, no proof links).
    pub text: String,
    /// 1-based line in the runbook (not hashed: prose above it may move it).
    pub line: usize,
    /// SHA-256 of the item's source with its white space collapsed: its text and its bindings.
    pub sha256: String,
    pub manual: bool,
    pub scenarios: Vec<ScenarioFingerprint>,
}

/// A bound scenario: SHA-256 of its Gherkin (see `ssoproof_lint::binding::ScenarioRef::sha256`), or
/// `None` when no single scenario carries the tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFingerprint {
    /// Relative to the project root, `/`-separated.
    pub feature: String,
    pub tag: String,
    pub sha256: Option<String>,
}

/// A runbook's validation checklist, fingerprinted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checklist {
    /// The `## Validation checklist` heading's line: where `signoff/stale` reports.
    pub line: usize,
    pub items: Vec<ItemFingerprint>,
}

impl Checklist {
    /// The checklist's own hash: its items' hashes in order, so prose around it does not count.
    pub fn sha256(&self) -> String {
        let joined: Vec<&str> = self.items.iter().map(|i| i.sha256.as_str()).collect();
        sha256_hex(joined.join("\n"))
    }
}

/// What an item came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Passed,
    Failed,
    Skipped,
}

/// An operator's answer to a `[manual]` item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Yes,
    No,
    Skip,
}

impl Answer {
    pub fn verdict(self) -> Verdict {
        match self {
            Answer::Yes => Verdict::Passed,
            Answer::No => Verdict::Failed,
            Answer::Skip => Verdict::Skipped,
        }
    }
}

/// What one scenario run showed. Claims are kept with token-, secret- and password-like values
/// redacted (see [`redact_claims`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    pub scenario: String,
    pub feature: String,
    pub line: usize,
    pub backend: String,
    pub result: Verdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub claims: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemRecord {
    #[serde(flatten)]
    pub item: ItemFingerprint,
    pub result: Verdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<Answer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// When the item was decided (RFC 3339, UTC).
    pub checked_at: String,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileHash {
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunbookRef {
    pub path: String,
    /// The whole file: informational, since prose edits must not make a record stale.
    pub sha256: String,
    /// [`Checklist::sha256`]: what staleness is decided on, with the items' and scenarios' own.
    pub checklist_sha256: String,
}

/// The JSON evidence file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub format: u32,
    pub tool_version: String,
    pub runbook: RunbookRef,
    pub backend: String,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub operator: String,
    /// RFC 3339, UTC.
    pub signed_at: String,
    /// False for a `--partial` record, which signs nothing off.
    pub complete: bool,
    pub features: Vec<FileHash>,
    pub items: Vec<ItemRecord>,
    /// SHA-256 of this record serialized with this field empty (see [`Record::seal`]).
    pub record_sha256: String,
}

impl Record {
    fn content_hash(&self) -> String {
        let mut unsealed = self.clone();
        unsealed.record_sha256.clear();
        sha256_hex(serde_json::to_vec(&unsealed).expect("plain data always serializes"))
    }

    /// Sets [`Record::record_sha256`].
    pub fn seal(&mut self) {
        self.record_sha256 = self.content_hash();
    }

    pub fn is_sealed(&self) -> bool {
        self.record_sha256 == self.content_hash()
    }

    /// The JSON file's text.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("plain data always serializes");
        text.push('\n');
        text
    }

    /// The items that keep the record from signing anything off.
    pub fn blocking_items(&self) -> Vec<&ItemRecord> {
        self.items
            .iter()
            .filter(|i| i.result != Verdict::Passed)
            .collect()
    }
}

/// Claims as evidence: every value whose name says token, secret, password, code or nonce (and
/// the session id) is replaced, so a record can be shared with an auditor.
pub fn redact_claims(
    claims: &serde_json::Map<String, serde_json::Value>,
) -> serde_json::Map<String, serde_json::Value> {
    claims
        .iter()
        .map(|(name, value)| {
            let lower = name.to_ascii_lowercase();
            // `sid` and `nonce` are not credentials, but tie the record to one live session.
            let secret = ["token", "secret", "password", "code", "nonce"]
                .iter()
                .any(|word| lower.contains(word))
                || lower == "sid";
            let value = if secret {
                serde_json::Value::String("[redacted]".into())
            } else {
                value.clone()
            };
            (name.clone(), value)
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn record() -> Record {
        let item = |id: &str, text: &str, line| ItemFingerprint {
            id: id.into(),
            text: text.into(),
            line,
            sha256: sha256_hex(text),
            manual: false,
            scenarios: vec![ScenarioFingerprint {
                feature: "features/kc.feature".into(),
                tag: id.into(),
                sha256: Some(sha256_hex(id)),
            }],
        };
        let mut record = Record {
            format: FORMAT,
            tool_version: "0.1.0".into(),
            runbook: RunbookRef {
                path: "runbooks/kc.md".into(),
                sha256: sha256_hex("runbook"),
                checklist_sha256: String::new(),
            },
            backend: "emulator".into(),
            issuer: Some("http://127.0.0.1:1/realms/acme".into()),
            client_id: Some("app".into()),
            operator: "Ada".into(),
            signed_at: "2026-12-01T10:00:00Z".into(),
            complete: true,
            features: vec![],
            items: ["admin-role", "wrong-password"]
                .into_iter()
                .enumerate()
                .map(|(n, id)| ItemRecord {
                    item: item(id, &format!("item {id}"), 10 + n),
                    result: Verdict::Passed,
                    reason: None,
                    answer: None,
                    note: None,
                    checked_at: "2026-12-01T10:00:00Z".into(),
                    evidence: vec![],
                })
                .collect(),
            record_sha256: String::new(),
        };
        record.seal();
        record
    }

    #[test]
    fn a_sealed_record_survives_its_json_and_an_edit_breaks_the_seal() {
        let record = record();
        let back: Record = serde_json::from_str(&record.to_json()).unwrap();
        assert!(back.is_sealed());
        let edited = record
            .to_json()
            .replace("\"failed\"", "x")
            .replace("\"operator\": \"Ada\"", "\"operator\": \"Eve\"");
        let edited: Record = serde_json::from_str(&edited).unwrap();
        assert!(!edited.is_sealed());
    }

    #[test]
    fn token_like_claims_are_redacted_and_the_rest_kept() {
        let claims = serde_json::json!({"sub": "u1", "id_token_hint": "t", "client_secret": "s", "sid": "s1", "nonce": "n", "groups": ["/a"]});
        let redacted = redact_claims(claims.as_object().unwrap());
        assert_eq!(redacted["sub"], "u1");
        assert_eq!(redacted["groups"][0], "/a");
        assert_eq!(redacted["id_token_hint"], "[redacted]");
        assert_eq!(redacted["client_secret"], "[redacted]");
        assert_eq!(redacted["sid"], "[redacted]");
        assert_eq!(redacted["nonce"], "[redacted]");
    }
}
