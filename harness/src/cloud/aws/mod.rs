//! Emulated AWS: the account configuration and the IAM policy language.

pub mod config;
pub mod policy;

pub use config::{AwsConfig, AwsConfigError, OidcProvider, Role};
