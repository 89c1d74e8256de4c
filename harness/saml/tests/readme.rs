//! The README's SAML table and `SamlError::CODES` list the same codes.

use std::collections::BTreeSet;

#[test]
fn the_saml_error_codes_and_the_readme_agree() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let readme = std::fs::read_to_string(path).expect("README.md is readable");
    let documented: BTreeSet<&str> = readme
        .lines()
        .filter_map(|line| line.strip_prefix("| `saml/"))
        .filter_map(|rest| rest.split_once("` |"))
        .map(|(code, _)| code)
        .collect();
    let coded: BTreeSet<&str> = ssoproof_saml::SamlError::CODES
        .iter()
        .map(|c| c.trim_start_matches("saml/"))
        .collect();
    assert_eq!(documented, coded, "README table vs SamlError::CODES");
}
