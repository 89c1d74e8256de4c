//! ssoproof: executable SSO runbooks.
//!
//! The library holds everything; the `ssoproof` binary is a thin command-line layer over it.
//! - [`config`]: `ssoproof.yaml`, the project configuration.
//! - [`lint`]: the runbook linter (link integrity, review dates, layout, checklists, index).
//! - [`report`]: rendering results for people and machines (human, JSON, JUnit, SARIF, GitHub).
//! - [`cloud`]: emulated clouds (Google STS + Vertex AI) that check federated tokens for real.
//! - [`tls`]: a throwaway local CA and HTTPS serving, so emulated issuers can be https.

pub mod binding;
pub mod cloud;
pub mod config;
pub mod lint;
pub mod report;
pub mod secret;
pub mod server;
pub mod tls;
