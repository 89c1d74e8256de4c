//! What the doctor found, hop by hop, for people (`human`) and machines (`json`). Neither form
//! carries a secret or a token: details name issuers, key ids, roles and ARNs only, and the
//! servers' messages come from clients that redact what they sent.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Serialize;

use super::troubleshooting::Row;

/// The hops, in the order a federated call crosses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Hop {
    IdpDiscovery,
    Jwks,
    SignIn,
    TokenValidation,
    AwsSts,
    Bedrock,
    GoogleSts,
    Vertex,
}

impl Hop {
    pub fn name(self) -> &'static str {
        match self {
            Hop::IdpDiscovery => "IdP discovery",
            Hop::Jwks => "JWKS",
            Hop::SignIn => "sign-in",
            Hop::TokenValidation => "token validation",
            Hop::AwsSts => "AWS STS",
            Hop::Bedrock => "Bedrock",
            Hop::GoogleSts => "Google STS",
            Hop::Vertex => "Vertex",
        }
    }
}

/// A refusal: the server's (or the relying party's) own code and message, and the runbook rows
/// that describe it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub code: String,
    /// The HTTP status, when a server answered.
    pub http_status: Option<u16>,
    pub message: String,
    pub troubleshooting: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Ok { detail: String },
    Failed { failure: Failure },
    NotRun { because: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HopReport {
    pub hop: Hop,
    pub name: &'static str,
    #[serde(flatten)]
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub profile: PathBuf,
    /// The runbooks searched for troubleshooting rows.
    pub runbooks: Vec<PathBuf>,
    pub ok: bool,
    pub hops: Vec<HopReport>,
}

impl Report {
    pub fn new(profile: PathBuf, runbooks: Vec<PathBuf>, hops: Vec<HopReport>) -> Report {
        let ok = hops.iter().all(|h| matches!(h.outcome, Outcome::Ok { .. }));
        Report {
            profile,
            runbooks,
            ok,
            hops,
        }
    }

    pub fn failed(&self) -> impl Iterator<Item = &HopReport> {
        self.hops
            .iter()
            .filter(|h| matches!(h.outcome, Outcome::Failed { .. }))
    }
}

/// One line per hop, each failure followed by its server's reason and the matching rows.
pub fn human(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "ssoproof doctor: {}", report.profile.display());
    let _ = writeln!(out);
    for hop in &report.hops {
        let (mark, text) = match &hop.outcome {
            Outcome::Ok { detail } => ("ok", detail.clone()),
            Outcome::NotRun { because } => ("not run", format!("because {because}")),
            Outcome::Failed { failure } => {
                let status = failure
                    .http_status
                    .map(|s| format!(" (HTTP {s})"))
                    .unwrap_or_default();
                (
                    "FAILED",
                    format!("{}{status}: {}", failure.code, failure.message),
                )
            }
        };
        let _ = writeln!(out, "  {mark:<8} {:<17} {text}", hop.name);
        if let Outcome::Failed { failure } = &hop.outcome {
            if failure.troubleshooting.is_empty() {
                let searched = if report.runbooks.is_empty() {
                    "no runbook named in the profile".to_string()
                } else {
                    format!("{} runbook(s)", report.runbooks.len())
                };
                let _ = writeln!(
                    out,
                    "           no troubleshooting row mentions `{}` ({searched})",
                    failure.code
                );
            }
            for row in &failure.troubleshooting {
                let _ = writeln!(out, "           {}:{}", row.file.display(), row.line);
                let _ = writeln!(out, "             symptom: {}", row.symptom);
                let _ = writeln!(out, "             cause:   {}", row.cause);
                let _ = writeln!(out, "             fix:     {}", row.fix);
            }
        }
    }
    let _ = writeln!(out);
    let failed: Vec<&str> = report.failed().map(|h| h.name).collect();
    if failed.is_empty() {
        let _ = writeln!(out, "All {} hops ok.", report.hops.len());
    } else {
        let _ = writeln!(
            out,
            "{} of {} hops failed: {}.",
            failed.len(),
            report.hops.len(),
            failed.join(", ")
        );
    }
    out
}

/// The report as one JSON document.
pub fn json(report: &Report) -> String {
    let mut text = serde_json::to_string_pretty(report).unwrap_or_else(|e| {
        serde_json::json!({"error": format!("cannot serialize the report: {e}")}).to_string()
    });
    text.push('\n');
    text
}
