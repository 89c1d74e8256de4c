//! Emulated clouds that validate federated tokens the way the real services do.

pub mod aws;
pub mod gcp;
pub mod placeholders;
pub mod test_issuer;
pub mod web_identity;

use std::time::Duration;

/// The client an emulated STS or Vertex fetches issuers' discovery documents and keys with:
/// the public roots plus `extra_roots` (a local CA the lab IdP's certificate comes from), and a
/// timeout on every fetch.
pub fn fetch_client(extra_roots: &[reqwest::Certificate]) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10));
    extra_roots
        .iter()
        .fold(builder, |b, root| b.add_root_certificate(root.clone()))
        .build()
        .unwrap_or_default()
}
