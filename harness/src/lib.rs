//! ssoproof: executable SSO runbooks.
//!
//! The library holds everything; the `ssoproof` binary is a thin command line over it. The
//! module tree follows the architecture:
//! - [`config`]: `ssoproof.yaml`, the project configuration.
//! - [`lint`]: the runbook linter (links, review dates, layout, checklists, index, bindings).
//! - [`binding`]: the links from runbook items to the scenarios that prove them.
//! - [`idp`]: the embedded IdP emulator (Keycloak's URLs, tokens, errors, fault injection).
//! - [`rp`]: the reference relying party, strict about the OIDC contract the runbooks promise.
//! - [`cloud`]: emulated clouds that validate federated tokens as the real services do.
//! - [`backend`]: where scenarios find their IdP (emulator, Keycloak container, live tenant).
//! - [`scenario`]: the Gherkin steps and the cucumber runner.
//! - [`verify`]: lint + scenarios + the per-runbook report; [`coverage`]: which scenario proves what.
//! - [`doctor`]: the connection doctor, hop by hop from the IdP to the clouds.
//! - [`report`]: rendering results for people and machines.
//! - [`secret`]: secrets that redact themselves.
//! - [`tls`] and [`server`]: a throwaway local CA, and serving routers over HTTP(S) on loopback.

pub mod backend;
pub mod binding;
pub mod cloud;
pub mod config;
pub mod coverage;
pub mod doctor;
pub mod idp;
pub mod lint;
pub mod report;
pub mod rp;
pub mod scenario;
pub mod secret;
pub mod server;
pub mod tls;
pub mod verify;
