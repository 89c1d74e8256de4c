//! Probes that test a team's own application, not ssoproof's relying party: they point the IdP
//! emulator (and its faults, personas and token minting) at the application under test and
//! report, case by case, whether it refused what it must refuse.
//!
//! - [`app`]: `probe app`, a browser against a web application's OIDC login.
//! - [`scim`]: `probe scim`, an IdP's provisioning client against a SCIM 2.0 server.
//! - [`outcome`]: what one case expected and observed, and the verdict; shared by every probe.
//! - [`report`]: the table people read, and JSON, JUnit and SARIF for CI.
//! - [`target`]: the safety rule every probe applies before it sends anything (loopback only
//!   unless the user allows remote targets).

pub mod api;
pub mod app;
pub mod error;
pub mod idp;
pub mod outcome;
pub mod report;
pub mod scim;
pub mod target;

pub use error::ProbeError;
pub use outcome::{CaseResult, Expect, Observed, ProbeKind, ProbeReport, Verdict};
pub use target::{check_target, TargetError};
