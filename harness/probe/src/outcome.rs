//! The result of one probe case, and of a probe run.
//!
//! A case states what a correct application does ([`Expect`]) and what this one did
//! ([`Observed`]); the [`Verdict`] follows from the two and is never set by hand, so a report
//! cannot call an accepted forgery a pass.

use serde::Serialize;
use ssoproof_secret::Secret;

/// What a correct application does with the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// Refuse: a forged, broken or out-of-policy token or login.
    Refuse,
    /// Accept: a valid token or login (the control that shows the probe can reach the app).
    Accept,
}

/// What the application did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "observed", rename_all = "snake_case")]
pub enum Observed {
    /// It refused (for an API: a 401/403; for an app: no session, or an error page).
    Refused {
        /// The HTTP status it answered, when there was one.
        status: Option<u16>,
        /// What it said, shortened and redacted.
        detail: String,
    },
    /// It accepted, and reported this identity (or role) back when it reports one.
    Accepted {
        status: Option<u16>,
        identity: Option<String>,
        detail: String,
    },
    /// The case could not be decided: the named hop failed (unreachable, timeout, an answer
    /// that is neither acceptance nor refusal).
    Error { hop: String, message: String },
}

/// The case's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The application did what it must.
    Pass,
    /// It accepted something it must refuse: a vulnerability.
    Vulnerable,
    /// It refused something it must accept (a valid token, a rotated key, a permitted group).
    Broken,
    /// Undecided; see [`Observed::Error`].
    Error,
}

/// One case of a probe run.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// Stable identifier, e.g. `alg-none`, `hs256-key-confusion`: used in JSON, JUnit and SARIF
    /// and by `--case` filters, never renamed.
    pub id: String,
    /// One line, for the table.
    pub title: String,
    pub expect: Expect,
    #[serde(flatten)]
    pub observed: Observed,
    /// What accepting it means for the application's users (shown when it is accepted).
    pub meaning: String,
    /// How to fix it.
    pub fix: String,
    /// The token the case sent (API probe), kept for `--show-tokens`; it serializes as
    /// `[redacted]`, and reports print it only when asked.
    pub token: Option<Secret>,
}

impl CaseResult {
    pub fn verdict(&self) -> Verdict {
        match (&self.observed, self.expect) {
            (Observed::Error { .. }, _) => Verdict::Error,
            (Observed::Refused { .. }, Expect::Refuse) => Verdict::Pass,
            (Observed::Accepted { .. }, Expect::Accept) => Verdict::Pass,
            (Observed::Accepted { .. }, Expect::Refuse) => Verdict::Vulnerable,
            (Observed::Refused { .. }, Expect::Accept) => Verdict::Broken,
        }
    }

    /// `REFUSED`, `ACCEPTED` or `ERROR`: what the application did, as the table shows it.
    pub fn observed_label(&self) -> &'static str {
        match self.observed {
            Observed::Refused { .. } => "REFUSED",
            Observed::Accepted { .. } => "ACCEPTED",
            Observed::Error { .. } => "ERROR",
        }
    }
}

/// Which probe produced a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeKind {
    Api,
    App,
    Scim,
}

/// A whole probe run.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeReport {
    pub probe: ProbeKind,
    /// The application under test (its URL, with any credentials stripped).
    pub target: String,
    /// The issuer the application was pointed at.
    pub issuer: String,
    /// The persona or realm the emulator served (`keycloak`, `okta`, …).
    pub vendor: String,
    pub tool_version: String,
    pub cases: Vec<CaseResult>,
}

impl ProbeReport {
    /// Whether every case passed: the exit status of `ssoproof probe`.
    pub fn passed(&self) -> bool {
        self.cases.iter().all(|c| c.verdict() == Verdict::Pass)
    }

    pub fn count(&self, verdict: Verdict) -> usize {
        self.cases.iter().filter(|c| c.verdict() == verdict).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(expect: Expect, observed: Observed) -> CaseResult {
        CaseResult {
            id: "alg-none".into(),
            title: "alg none".into(),
            expect,
            observed,
            meaning: String::new(),
            fix: String::new(),
            token: None,
        }
    }

    #[test]
    fn verdict_follows_expectation_and_observation() {
        let refused = Observed::Refused {
            status: Some(401),
            detail: String::new(),
        };
        let accepted = Observed::Accepted {
            status: Some(200),
            identity: Some("alice".into()),
            detail: String::new(),
        };
        let error = Observed::Error {
            hop: "GET http://127.0.0.1:1/".into(),
            message: "connection refused".into(),
        };
        assert_eq!(
            case(Expect::Refuse, refused.clone()).verdict(),
            Verdict::Pass
        );
        assert_eq!(
            case(Expect::Refuse, accepted.clone()).verdict(),
            Verdict::Vulnerable
        );
        assert_eq!(case(Expect::Accept, refused).verdict(), Verdict::Broken);
        assert_eq!(case(Expect::Accept, accepted).verdict(), Verdict::Pass);
        assert_eq!(case(Expect::Accept, error).verdict(), Verdict::Error);
    }
}
