//! A second opinion on a signature from Debian's `xmlsec1` command: the same library as this
//! crate's signatures, but its own reference resolution and key handling, as pysaml2 runs it.
//! For tests, and for anyone who wants an independent check of a Response.

use std::path::Path;
use std::process::Command;

use crate::Certificate;

/// Whether an `xmlsec1` command is on `PATH`. When it is not and the environment variable
/// `SSOPROOF_REQUIRE_XMLSEC1` is set (CI sets it), this panics, so that a test cannot skip the
/// cross-check there.
#[must_use]
pub fn available() -> bool {
    let found = Command::new("xmlsec1")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found && std::env::var_os("SSOPROOF_REQUIRE_XMLSEC1").is_some_and(|v| !v.is_empty()) {
        panic!("SSOPROOF_REQUIRE_XMLSEC1 is set and there is no `xmlsec1` on PATH");
    }
    found
}

/// Whether `xmlsec1 --verify` accepts the signature that is a child of the element named
/// `parent` (`Response` or `Assertion`) in `xml`, with `certificate`'s key. `scratch` is a
/// directory for the two files the command reads.
///
/// # Errors
/// When the files cannot be written or the command cannot be run.
pub fn verifies(
    scratch: &Path,
    xml: &str,
    parent: &str,
    certificate: &Certificate,
) -> std::io::Result<bool> {
    let document = scratch.join("signed.xml");
    let cert = scratch.join("idp-cert.pem");
    std::fs::write(&document, xml)?;
    std::fs::write(&cert, certificate.to_pem())?;
    let output = Command::new("xmlsec1")
        .arg("--verify")
        .arg("--pubkey-cert-pem")
        .arg(&cert)
        .args([
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:protocol:Response",
        ])
        .args([
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
        ])
        .args([
            "--node-xpath",
            &format!("//*[local-name()='{parent}']/*[local-name()='Signature']"),
        ])
        .arg(&document)
        .output()?;
    Ok(output.status.success())
}
