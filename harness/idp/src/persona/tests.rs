//! Persona files: the fixtures load, and bad files fail with file, line and key.

use std::path::{Path, PathBuf};

use super::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/idp")
        .join(name)
}

#[test]
fn every_fixture_loads() {
    for (file, vendor) in [
        ("okta.yaml", Vendor::Okta),
        ("auth0.yaml", Vendor::Auth0),
        ("entra-id.yaml", Vendor::Entra),
        ("google-workspace.yaml", Vendor::Google),
        ("cognito.yaml", Vendor::Cognito),
        ("authentik.yaml", Vendor::Authentik),
    ] {
        let realm = load(&fixture(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(realm.persona.as_ref().unwrap().vendor(), vendor, "{file}");
        assert_eq!(vendor_of(&fixture(file)).unwrap(), vendor);
        assert!(
            !realm.users.is_empty() && !realm.clients.is_empty(),
            "{file}"
        );
    }
}

#[test]
fn a_missing_file_is_persona_read_naming_it_as_a_persona_file() {
    let path = fixture("absent.yaml");
    let prefix = format!("cannot read persona file {}: ", path.display());
    for err in [load(&path).unwrap_err(), vendor_of(&path).unwrap_err()] {
        assert_eq!(err.code(), "persona/read");
        assert!(err.to_string().starts_with(&prefix), "{err}");
    }
}

fn parse_err(text: &str) -> PersonaError {
    parse(text, Path::new("bad.yaml")).unwrap_err()
}

#[test]
fn an_unknown_vendor_is_refused_at_its_line() {
    let err = parse_err("# a persona\nvendor: octa\norg: acme\n");
    assert_eq!(err.code(), "persona/syntax");
    let text = err.to_string();
    assert!(text.starts_with("bad.yaml:2:"), "{text}");
    assert!(text.contains("unknown variant `octa`"), "{text}");
    assert!(text.contains("okta"), "{text}");
}

const OKTA_HEAD: &str = "vendor: okta\norg: acme\ngroups:\n  - name: acme-admins\n";

#[test]
fn a_filter_regex_that_does_not_compile_is_refused_at_its_line() {
    let text = format!(
        "{OKTA_HEAD}users: []\napps:\n  - label: Acme\n    client_id: 0oa1\n    client_secret: s\n    sign_in_redirect_uris: [http://127.0.0.1/callback]\n    groups_claim:\n      name: groups\n      filter: {{type: REGEX, value: \"app-(.*\"}}\n"
    );
    let err = parse_err(&text);
    assert_eq!(err.code(), "persona/invalid");
    let message = err.to_string();
    assert!(
        message.starts_with("bad.yaml:13: `apps[0].groups_claim.filter`"),
        "{message}"
    );
    assert!(
        message.contains("is not a valid regular expression"),
        "{message}"
    );
}

#[test]
fn a_user_in_an_undefined_group_is_refused_at_its_line() {
    let text = format!(
        "{OKTA_HEAD}users:\n  - login: alice@example.com\n    first_name: A\n    last_name: B\n    password: p\n    groups: [acme-admins]\n  - login: dave@example.com\n    first_name: D\n    last_name: C\n    password: p\n    groups:\n      - acme-admin\napps: []\n"
    );
    let err = parse_err(&text);
    let message = err.to_string();
    assert!(
        message.starts_with("bad.yaml:16: `users[1].groups`"),
        "{message}"
    );
    assert!(
        message.contains("\"acme-admin\", which the org does not define")
            && message.contains("did you mean \"acme-admins\"?"),
        "{message}"
    );
}

#[test]
fn unknown_keys_and_wrong_types_name_their_line() {
    let err = parse_err("vendor: cognito\nregion: us-east-1\nuser_pol: {}\n");
    assert!(err.to_string().starts_with("bad.yaml:3:"), "{err}");
    assert!(
        err.to_string().contains("unknown field `user_pol`"),
        "{err}"
    );
    let err = parse_err("vendor: entra\ntenant:\n  id: nope\n  display_name: A\n  primary_domain: a\ngroups: []\nusers: []\napp_registrations: []\n");
    assert!(
        err.to_string().starts_with("bad.yaml:3: `tenant.id`"),
        "{err}"
    );
}

#[test]
fn group_filters_follow_okta() {
    let filter = |kind, value: &str| GroupFilter {
        kind,
        value: value.into(),
    };
    assert!(filter(FilterType::StartsWith, "acme-").matches("ACME-admins"));
    assert!(!filter(FilterType::StartsWith, "acme-").matches("Everyone"));
    assert!(filter(FilterType::Equals, "acme-admins").matches("acme-admins"));
    assert!(filter(FilterType::Contains, "admin").matches("acme-admins"));
    // A regex must match the whole name.
    assert!(filter(FilterType::Regex, "app-.*").matches("app-wiki"));
    assert!(!filter(FilterType::Regex, "app-.*").matches("acme-app-wiki"));
    assert!(!filter(FilterType::Regex, "app").matches("app-wiki"));
}

const ENTRA_HEAD: &str = "vendor: entra\ntenant:\n  id: 00000000-0000-0000-0000-000000000000\n  display_name: A\n  primary_domain: a\n";

fn entra(groups: &str, users: &str) -> String {
    format!("{ENTRA_HEAD}groups:\n{groups}users:\n{users}app_registrations: []\n")
}

#[test]
fn group_counts_are_bounded_before_anything_is_expanded() {
    // Without the bound this allocates 224 GB and dies.
    for count in ["4000000000", "10001", "0"] {
        let text = entra(
            &format!("  - display_name: a\n  - display_name: \"team-{{n}}\"\n    count: {count}\n"),
            "  []\n",
        );
        let err = parse_err(&text);
        assert_eq!(err.code(), "persona/invalid", "{err}");
        let message = err.to_string();
        assert!(
            message.starts_with("bad.yaml:9: `groups[1].count`"),
            "{message}"
        );
        assert!(
            message.contains(&format!(
                "has `count: {count}`; give a count from 1 to 10000"
            )),
            "{message}"
        );
    }
    // The total counts too: two expansions of 6,000 are 12,000 groups.
    let text = entra(
        "  - display_name: \"a-{n}\"\n    count: 6000\n  - display_name: \"b-{n}\"\n    count: 6000\n",
        "  []\n",
    );
    let message = parse_err(&text).to_string();
    assert!(message.starts_with("bad.yaml:9: `groups[1]`"), "{message}");
    assert!(message.contains("the tenant has 12000 groups"), "{message}");
    // And so do memberships: 101 users in 10,000 groups each.
    let users: String = (0..101)
        .map(|i| format!("  - user_principal_name: u{i}@a\n    display_name: U\n    password: p\n    member_of: [\"t-{{n}}\"]\n"))
        .collect();
    let text = entra("  - display_name: \"t-{n}\"\n    count: 10000\n", &users);
    let message = parse_err(&text).to_string();
    assert!(
        message.contains("`users[100].member_of`")
            && message.contains("more than 1000000 group memberships"),
        "{message}"
    );
    // The bound itself is allowed.
    let text = entra("  - display_name: \"t-{n}\"\n    count: 10000\n", "  []\n");
    assert_eq!(
        parse(&text, Path::new("ok.yaml")).unwrap().groups.len(),
        10_000
    );
}

#[test]
fn a_duplicate_is_found_at_its_second_line() {
    let text = entra(
        "  - display_name: admins\n  - display_name: staff\n  - display_name: admins\n",
        "  []\n",
    );
    let err = parse_err(&text);
    assert_eq!(
        err.to_string(),
        "bad.yaml:9: `groups.display_name`: group \"admins\" is defined twice"
    );
}

#[test]
fn a_fifo_or_a_directory_is_refused_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    for err in [
        load(dir.path()).unwrap_err(),
        vendor_of(dir.path()).unwrap_err(),
    ] {
        assert_eq!(err.code(), "persona/read");
        let text = err.to_string();
        assert!(
            text.contains(&dir.path().display().to_string()) && text.contains("a directory"),
            "{text}"
        );
    }
    #[cfg(unix)]
    {
        let fifo = dir.path().join("okta.yaml");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        // Nobody writes to the FIFO: a plain read would block forever.
        let err = load(&fifo).unwrap_err();
        assert_eq!(err.code(), "persona/read");
        assert!(err.to_string().contains("a FIFO"), "{err}");
    }
}

/// The authentik fixture with one line replaced (`from` must occur once).
fn authentik_with(from: &str, to: &str) -> String {
    let text = std::fs::read_to_string(fixture("authentik.yaml")).unwrap();
    assert_eq!(text.matches(from).count(), 1, "{from}");
    text.replacen(from, to, 1)
}

/// The 1-based line of the fixture holding `needle`.
fn authentik_line(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn an_unknown_scope_mapping_is_refused_at_its_line_with_a_suggestion() {
    let text = authentik_with(
        "    - \"acme: groups\"\n  sub_mode",
        "    - \"acme: group\"\n  sub_mode",
    );
    let err = parse_err(&text);
    assert_eq!(err.code(), "persona/invalid");
    let line = authentik_line(&text, "- \"acme: group\"");
    let message = err.to_string();
    assert!(
        message.starts_with(&format!("bad.yaml:{line}: `provider.property_mappings[4]`")),
        "{message}"
    );
    assert!(
        message.contains("did you mean \"acme: groups\"?"),
        "{message}"
    );
}

#[test]
fn an_ecdsa_signing_key_or_a_regex_uri_is_refused_with_what_to_do() {
    let text = authentik_with(
        "  - name: authentik Self-signed Certificate\n    key_type: rsa",
        "  - name: authentik Self-signed Certificate\n    key_type: ecdsa",
    );
    let message = parse_err(&text).to_string();
    let line = authentik_line(&text, "  signing_key:");
    assert!(
        message.starts_with(&format!("bad.yaml:{line}: `provider.signing_key`")),
        "{message}"
    );
    assert!(
        message.contains("pick an RSA certificate-key pair"),
        "{message}"
    );

    let text = authentik_with(
        "{matching_mode: strict, url: https://app.example.com/auth/callback}",
        "{matching_mode: regex, url: https://app.example.com/.*}",
    );
    let message = parse_err(&text).to_string();
    let line = authentik_line(&text, "matching_mode: regex");
    assert!(
        message.starts_with(&format!(
            "bad.yaml:{line}: `provider.redirect_uris[1].matching_mode`"
        )),
        "{message}"
    );
}

#[test]
fn an_authentik_validity_is_read_and_bounded_at_its_line() {
    for (bad, says) in [
        ("weeks=99999999999", "longer than the persona allows"),
        ("fortnights=2", "is not a unit"),
        ("seconds=0", "no time at all"),
    ] {
        let text = authentik_with(
            "refresh_token_validity: days=30",
            &format!("refresh_token_validity: {bad}"),
        );
        let message = parse_err(&text).to_string();
        let line = authentik_line(&text, "refresh_token_validity:");
        assert!(
            message.starts_with(&format!(
                "bad.yaml:{line}: `provider.refresh_token_validity`"
            )),
            "{message}"
        );
        assert!(message.contains(says), "{message}");
    }
}

#[test]
fn an_authentik_binding_or_provider_name_that_does_not_resolve_is_refused() {
    let text = authentik_with(
        "groups: [acme-admins, acme-engineers, acme-contractors]",
        "groups: [acme-admin]",
    );
    let message = parse_err(&text).to_string();
    assert!(
        message.contains("`application.bindings.groups`"),
        "{message}"
    );
    assert!(
        message.contains("did you mean \"acme-admins\"?"),
        "{message}"
    );
    let text = authentik_with("  provider: acme-oidc", "  provider: acme");
    let message = parse_err(&text).to_string();
    let line = authentik_line(&text, "  provider: acme");
    assert!(
        message.starts_with(&format!("bad.yaml:{line}: `application.provider`")),
        "{message}"
    );
    let text = authentik_with("  client_secret: acme-authentik-client-secret\n", "");
    let message = parse_err(&text).to_string();
    assert!(
        message.contains("a confidential provider needs its `client_secret`"),
        "{message}"
    );
}
