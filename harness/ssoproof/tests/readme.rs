//! The README documents every stable code and rule id; these tests keep it honest.

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
