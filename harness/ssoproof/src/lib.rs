//! ssoproof's harness: the scenarios, their backends, `verify`, `coverage`, the connection
//! doctor and the `ssoproof` command line, over the workspace's single-purpose crates:
//! - `ssoproof_config`: `ssoproof.yaml` and the strict YAML reading every file shares;
//! - `ssoproof_lint`: the runbook linter and the runbook-to-scenario bindings;
//! - `ssoproof_idp`: the embedded IdP emulator (Keycloak, vendor personas, fault injection);
//! - `ssoproof_rp`: the reference relying party;
//! - `ssoproof_cloud`: the emulated AWS and Google clouds;
//! - `ssoproof_secret`, `ssoproof_server`: self-redacting secrets; loopback HTTP(S) and a local CA.
//!
//! This crate's own modules:
//! - [`backend`]: where scenarios find their IdP (emulator, Keycloak container, live tenant).
//! - [`scenario`]: the Gherkin steps and the cucumber runner.
//! - [`verify`]: lint + scenarios + the per-runbook report; [`coverage`]: which scenario proves what.
//! - [`doctor`]: the connection doctor, hop by hop from the IdP to the clouds.
//! - [`report`]: rendering verify and coverage results for people and machines.

pub mod backend;
pub mod coverage;
pub mod doctor;
pub mod fidelity;
pub mod report;
pub mod scenario;
pub mod signoff;
pub mod verify;
