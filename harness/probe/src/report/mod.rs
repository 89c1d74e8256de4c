//! Renders a [`ProbeReport`] for people (a table that says what each failure means and how to
//! fix it) and for CI (JSON, JUnit XML, SARIF 2.1.0). Tokens appear only when `show_tokens` is
//! set; otherwise they are `[redacted]` (JSON) or left out.

mod json;
mod junit;
mod sarif;
mod table;

use crate::{CaseResult, Observed, ProbeReport, Verdict};

/// An output format, as `--format` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
    Junit,
    Sarif,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(text: &str) -> Result<Format, String> {
        match text {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "junit" => Ok(Format::Junit),
            "sarif" => Ok(Format::Sarif),
            _ => Err(format!(
                "unknown format `{text}`; use table, json, junit or sarif"
            )),
        }
    }
}

pub fn render(report: &ProbeReport, format: Format, show_tokens: bool) -> String {
    match format {
        Format::Table => table::render(report, show_tokens),
        Format::Json => json::render(report, show_tokens),
        Format::Junit => junit::render(report),
        Format::Sarif => sarif::render(report),
    }
}

impl Verdict {
    /// As the table and JUnit show it.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Vulnerable => "VULNERABLE",
            Verdict::Broken => "BROKEN",
            Verdict::Error => "ERROR",
        }
    }
}

/// One line on what the application did: its status, the identity it reported, its words.
fn observation(case: &CaseResult) -> String {
    let status = |status: &Option<u16>| status.map(|s| format!("{s} ")).unwrap_or_default();
    let text = match &case.observed {
        Observed::Refused {
            status: code,
            detail,
        } => format!("{}{detail}", status(code)),
        Observed::Accepted {
            status: code,
            identity: Some(who),
            detail,
        } if !detail.is_empty() => format!("{}as {who}; {detail}", status(code)),
        Observed::Accepted {
            status: code,
            identity: Some(who),
            ..
        } => format!("{}as {who}", status(code)),
        Observed::Accepted {
            status: code,
            identity: None,
            detail,
        } => format!("{}{detail}", status(code)),
        Observed::Error { hop, message } => format!("{hop}: {message}"),
    };
    text.trim_end().to_string()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{Expect, ProbeKind};
    use ssoproof_secret::Secret;

    /// A report with one case of each verdict, and a token that must never be shown unasked.
    pub(crate) fn sample() -> ProbeReport {
        let case = |id: &str, title: &str, expect, observed| CaseResult {
            id: id.into(),
            title: title.into(),
            expect,
            observed,
            meaning: format!("meaning of {id}"),
            fix: format!("fix for {id}"),
            token: Some(Secret::new("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.")),
        };
        ProbeReport {
            probe: ProbeKind::Api,
            target: "http://127.0.0.1:8080/v1/chat".into(),
            issuer: "http://127.0.0.1:8180/realms/acme".into(),
            vendor: "keycloak".into(),
            tool_version: "0.1.0".into(),
            cases: vec![
                case(
                    "valid-token",
                    "a valid token",
                    Expect::Accept,
                    Observed::Accepted {
                        status: Some(200),
                        identity: Some("alice@acme.test".into()),
                        detail: String::new(),
                    },
                ),
                case(
                    "alg-none",
                    "alg: none <unsigned> & \"quoted\"",
                    Expect::Refuse,
                    Observed::Accepted {
                        status: Some(200),
                        identity: Some("alice@acme.test".into()),
                        detail: String::new(),
                    },
                ),
                case(
                    "wrong-aud",
                    "another audience",
                    Expect::Refuse,
                    Observed::Refused {
                        status: Some(401),
                        detail: "invalid audience".into(),
                    },
                ),
                case(
                    "key-rotation",
                    "a rotated key",
                    Expect::Accept,
                    Observed::Refused {
                        status: Some(401),
                        detail: String::new(),
                    },
                ),
                case(
                    "jku-header",
                    "jku pointing at the probe's keys",
                    Expect::Refuse,
                    Observed::Error {
                        hop: "POST http://127.0.0.1:8080/v1/chat".into(),
                        message: "timed out after 5 s".into(),
                    },
                ),
            ],
        }
    }
}
