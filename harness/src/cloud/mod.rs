//! Emulated clouds that validate federated tokens the way the real services do.

pub mod aws;
pub mod gcp;
pub mod placeholders;
pub mod test_issuer;
pub mod web_identity;
