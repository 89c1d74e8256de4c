//! The README documents every stable code and rule id; these tests keep it honest.

use std::collections::BTreeSet;

use ssoproof_cloud::aws::AwsConfigError;
use ssoproof_config::ConfigError;
use ssoproof_idp::PersonaError;

fn readme() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    std::fs::read_to_string(path).expect("README.md is readable")
}

#[test]
fn every_login_error_code_is_documented() {
    let readme = readme();
    for (code, _) in ssoproof_rp::ERROR_CODES {
        assert!(
            readme.contains(&format!("| `{code}` |")),
            "README lacks the login error code {code}"
        );
    }
}

#[test]
fn every_lint_rule_is_documented() {
    let readme = readme();
    for rule in ssoproof_lint::Rule::ALL {
        assert!(
            readme.contains(&format!("| `{}` |", rule.id())),
            "README lacks the rule {}",
            rule.id()
        );
    }
}

/// issue 13: the sign-off codes, each in a table row of its own, and no other `signoff/` code.
#[test]
fn the_signoff_error_codes_and_the_readme_agree() {
    let readme = readme();
    let produced: BTreeSet<&str> = ssoproof_signoff::SignoffError::CODES
        .iter()
        .copied()
        .chain(["signoff/operator", "signoff/stale"])
        .collect();
    let tabled: BTreeSet<&str> = tabled_codes(&readme)
        .into_iter()
        .filter(|c| c.starts_with("signoff/"))
        .collect();
    assert_eq!(tabled, produced);
}

/// Every backticked `namespace/name` in the first cell of a README table row.
fn tabled_codes(readme: &str) -> BTreeSet<&str> {
    readme
        .lines()
        .filter_map(|line| line.strip_prefix('|')?.split('|').next())
        .flat_map(|cell| cell.split('`').skip(1).step_by(2))
        .filter(|code| code.contains('/') && !code.contains(' '))
        .collect()
}

#[test]
fn the_file_error_codes_and_the_readme_tables_agree() {
    let readme = readme();
    let tabled = tabled_codes(&readme);
    let produced: BTreeSet<&str> = ConfigError::CODES
        .into_iter()
        .chain(PersonaError::CODES)
        .chain(AwsConfigError::CODES)
        .collect();
    for code in &produced {
        assert!(tabled.contains(code), "README's tables lack {code}");
    }
    // A code in a file-error namespace that no type produces is documented for nothing.
    let namespaces: BTreeSet<&str> = produced
        .iter()
        .filter_map(|c| c.split('/').next())
        .collect();
    for code in &tabled {
        let namespace = code.split('/').next().unwrap_or_default();
        if namespaces.contains(namespace) {
            assert!(
                produced.contains(code),
                "README documents {code}, which nothing produces"
            );
        }
    }
}

#[test]
fn the_probe_error_codes_and_the_readme_agree() {
    let readme = readme();
    let tabled: BTreeSet<&str> = tabled_codes(&readme)
        .into_iter()
        .filter(|code| code.starts_with("probe/"))
        .collect();
    let produced: BTreeSet<&str> = ssoproof_probe::ProbeError::CODES.into_iter().collect();
    assert_eq!(
        tabled, produced,
        "README's `probe/` codes and ProbeError::CODES"
    );
}

#[test]
fn every_probe_app_case_is_documented() {
    let readme = readme();
    for case in ssoproof_probe::app::CATALOGUE {
        assert!(
            readme.contains(&format!("`{}`", case.id)),
            "README lacks the probe app case {}",
            case.id
        );
    }
}

#[test]
fn every_probe_scim_case_is_documented() {
    let readme = readme();
    for case in ssoproof_probe::scim::cases::RFC_CASES {
        assert!(
            readme.contains(&format!("`{}`", case.id)),
            "README lacks the probe scim case {}",
            case.id
        );
    }
    for case in ssoproof_probe::scim::cases::DIALECT_CASES {
        assert!(
            readme.contains(&format!("`…-{}`", case.id)),
            "README lacks the probe scim dialect case …-{}",
            case.id
        );
    }
}
