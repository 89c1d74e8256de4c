//! ssoproof: executable SSO runbooks.
//!
//! The library holds everything; the `ssoproof` binary is a thin command-line layer over it.
//! - [`config`]: `ssoproof.yaml`, the project configuration.
//! - [`idp`]: an embedded OpenID Connect provider that behaves like Keycloak, with fault injection.
//! - [`lint`]: the runbook linter (link integrity, review dates, layout, checklists, index).
//! - [`report`]: rendering results for people and machines (human, JSON, JUnit, SARIF, GitHub).

pub mod config;
pub mod idp;
pub mod lint;
pub mod report;
pub mod secret;
