//! `ssoproof signoff` on a copy of the Keycloak runbook (with one `[manual]` item added) and
//! its feature, against the embedded emulator: the record, its evidence, staleness after
//! edits, signatures, and every kind of bad input. Stdin is never a terminal here, so manual
//! items are answered from `--answers`.
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const MANUAL: &str = "Keycloak's admin console is reachable only from the VPN.";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A project holding the Keycloak runbook (plus a `[manual]` item), its feature and the realm
/// the emulator serves; `signoff.required` names the runbook.
fn project(extra_config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for sub in ["runbooks", "features", "fixtures"] {
        std::fs::create_dir_all(root.join(sub)).unwrap();
    }
    let runbook = std::fs::read_to_string(repo().join("runbooks/keycloak.md")).unwrap();
    let runbook = runbook.replace(
        "\nSign-off: ",
        &format!("- [ ] {MANUAL} [manual]\n\nSign-off: "),
    );
    std::fs::write(root.join("runbooks/keycloak.md"), runbook).unwrap();
    for file in ["features/keycloak.feature", "fixtures/keycloak-realm.json"] {
        std::fs::copy(repo().join(file), root.join(file)).unwrap();
    }
    let config = format!(
        "runbooks:\n  kinds:\n    - name: idp\n      files: [runbooks/keycloak.md]\n      bindings: true\n    - name: notes\n      files: [\"runbooks/*.md\"]\n      checklist: false\n      sections: []\nsignoff:\n  required: [runbooks/keycloak.md]\n{extra_config}"
    );
    std::fs::write(root.join("ssoproof.yaml"), config).unwrap();
    std::fs::write(
        root.join("answers.yaml"),
        format!("\"{MANUAL}\":\n  answer: yes\n  note: checked in the console\n"),
    )
    .unwrap();
    dir
}

fn ssoproof(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .current_dir(root)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("ssoproof runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn sign_off(root: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "signoff",
        "runbooks/keycloak.md",
        "--answers",
        "answers.yaml",
        "--operator",
        "Ada Lovelace",
    ];
    args.extend(extra);
    ssoproof(root, &args)
}

/// The one record of the runbook: its JSON path.
fn record(root: &Path) -> PathBuf {
    let dir = root.join("signoffs/runbooks/keycloak");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found.pop().unwrap()
}

fn normalized(text: &str) -> String {
    let rules = [
        (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "[time]"),
        (r"\d{4}-\d{2}-\d{2}", "[date]"),
        (r"[0-9a-f]{64}", "[sha256]"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
    ];
    rules
        .iter()
        .fold(text.to_string(), |text, (pattern, with)| {
            regex::Regex::new(pattern)
                .unwrap()
                .replace_all(&text, *with)
                .into_owned()
        })
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{from} in {}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn signs_off_the_keycloak_runbook_and_the_record_goes_stale_only_when_what_it_signed_changes() {
    let dir = project("");
    let root = dir.path();
    let out = sign_off(root, &["--format", "html"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("signed off runbooks/keycloak.md by Ada Lovelace"));
    let json = record(root);
    let markdown = std::fs::read_to_string(json.with_extension("md")).unwrap();
    insta::assert_snapshot!("keycloak_record", normalized(&markdown));

    // The page beside the record: every item, with its scenario's steps and evidence.
    let page_path = json.with_extension("html");
    assert!(
        text(&out).contains(&format!("page: {}", page_path.display())),
        "{}",
        text(&out)
    );
    let page = std::fs::read_to_string(&page_path).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(page.contains("<h2>runbooks/keycloak.md</h2>"), "{page}");
    assert!(
        page.contains("answered yes — note: checked in the console"),
        "{page}"
    );
    assert!(
        page.contains("<dt>Error code</dt><dd>login_failed</dd>"),
        "{page}"
    );
    assert!(page.contains("<ol class=\"steps\">"), "{page}");
    assert!(!page.contains("steps unavailable"), "{page}");

    let evidence = std::fs::read_to_string(&json).unwrap();
    let value: serde_json::Value = serde_json::from_str(&evidence).unwrap();
    assert_eq!(value["backend"], "emulator");
    assert_eq!(value["client_id"], "acme-app");
    assert_eq!(value["complete"], true);
    let items = value["items"].as_array().unwrap();
    let admin = items.iter().find(|i| i["id"] == "admin-role").unwrap();
    assert_eq!(admin["evidence"][0]["role"], "admin");
    assert_eq!(
        admin["evidence"][0]["claims"]["preferred_username"],
        "alice"
    );
    let wrong = items.iter().find(|i| i["id"] == "wrong-password").unwrap();
    assert_eq!(wrong["evidence"][0]["error_code"], "login_failed");
    let manual = items.iter().find(|i| i["manual"] == true).unwrap();
    assert_eq!(manual["answer"], "yes");
    assert_eq!(manual["note"], "checked in the console");
    for secret in [
        "acme-app-secret",
        "alice-password",
        "not-her-password",
        "eyJ",
    ] {
        assert!(
            !evidence.contains(secret),
            "{secret} leaked into the evidence"
        );
    }

    let fresh = |why: &str| {
        let out = ssoproof(root, &["signoff", "check"]);
        assert_eq!(out.status.code(), Some(0), "{why}: {}", text(&out));
        assert!(
            text(&out).contains("runbooks/keycloak.md: signed off"),
            "{}",
            text(&out)
        );
    };
    fresh("just signed");
    // The page is a view, not evidence: editing it changes nothing `check` holds to.
    std::fs::write(&page_path, "edited").unwrap();
    fresh("page edited");

    // Nothing is overwritten without --force.
    let again = sign_off(root, &[]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(
        text(&again).contains("[signoff/exists]"),
        "{}",
        text(&again)
    );
    assert_eq!(std::fs::read_to_string(&json).unwrap(), evidence);

    // Prose outside the checklist, and lines moving, change nothing.
    let runbook = root.join("runbooks/keycloak.md");
    let original = std::fs::read_to_string(&runbook).unwrap();
    edit(
        &runbook,
        "## Prerequisites\n",
        "## Prerequisites\n\nA new paragraph.\n\n",
    );
    fresh("prose edited");

    // An edited item is stale, named at its line.
    edit(
        &runbook,
        "A wrong password gives `login_failed`.",
        "A wrong password gives `invalid_grant`.",
    );
    let out = ssoproof(root, &["signoff", "check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let line = std::fs::read_to_string(&runbook)
        .unwrap()
        .lines()
        .position(|l| l.contains("gives `invalid_grant`"))
        .unwrap()
        + 1;
    assert!(
        text(&out).contains(&format!("runbooks/keycloak.md:{line}: [signoff/stale] checklist item `A wrong password gives `invalid_grant`.` changed")),
        "{}",
        text(&out)
    );
    std::fs::write(&runbook, &original).unwrap();
    fresh("item restored");

    // An edited scenario is stale, naming it and its item; only its item.
    let feature = root.join("features/keycloak.feature");
    edit(
        &feature,
        "Then the login is rejected with \"login_failed\"",
        "Then the login is rejected with \"invalid_grant\"",
    );
    let out = ssoproof(root, &["signoff", "check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report = text(&out);
    assert!(report.contains("scenario `features/keycloak.feature#wrong-password` of checklist item `A wrong password gives `login_failed`.` changed"), "{report}");
    assert!(report.contains("1 finding(s)"), "{report}");

    // The lint rule reports the same at the item's line.
    let lint = ssoproof(
        root,
        &["lint", "--select", "signoff", "runbooks/keycloak.md"],
    );
    assert_eq!(lint.status.code(), Some(1), "{}", text(&lint));
    assert!(
        text(&lint).contains("error[signoff/stale]"),
        "{}",
        text(&lint)
    );
    std::fs::copy(repo().join("features/keycloak.feature"), &feature).unwrap();
    fresh("scenario restored");

    // A hand-edited record is refused, with the file and line.
    edit(&json, "\"result\": \"passed\"", "\"result\": \"skipped\"");
    let out = ssoproof(root, &["signoff", "check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("[signoff/edited]"), "{}", text(&out));
    assert!(text(&out).contains(".json:"), "{}", text(&out));
}

#[test]
fn refuses_to_sign_items_that_did_not_pass_and_partial_writes_an_incomplete_record() {
    let dir = project("");
    let root = dir.path();
    std::fs::write(
        root.join("answers.yaml"),
        "item-16: {answer: no, note: open to the internet}\n",
    )
    .unwrap();
    let out = sign_off(root, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("answered no: {MANUAL} [manual]")),
        "{}",
        text(&out)
    );
    assert!(!root.join("signoffs").exists(), "nothing written");

    let out = sign_off(root, &["--partial"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("incomplete record written"),
        "{}",
        text(&out)
    );
    let markdown = std::fs::read_to_string(record(root).with_extension("md")).unwrap();
    assert!(markdown.contains("**Incomplete**"), "{markdown}");
    assert!(
        markdown.contains(&format!(
            "- [ ] {MANUAL} [manual] — answered no (note: open to the internet)"
        )),
        "{markdown}"
    );
    let check = ssoproof(root, &["signoff", "check"]);
    assert_eq!(check.status.code(), Some(1));
    assert!(text(&check).contains("is incomplete"), "{}", text(&check));
}

#[test]
fn bad_input_is_a_coded_error_naming_the_file() {
    let dir = project("");
    let root = dir.path();
    let code = |out: &Output, code: &str, also: &str| {
        assert_eq!(out.status.code(), Some(2), "{}", text(out));
        assert!(text(out).contains(&format!("[{code}]")), "{}", text(out));
        assert!(text(out).contains(also), "{also}: {}", text(out));
    };
    // No answer for a manual item, and stdin is not a terminal.
    let out = ssoproof(
        root,
        &["signoff", "runbooks/keycloak.md", "--operator", "A"],
    );
    code(&out, "signoff/unanswered", MANUAL);
    // An answer naming no item, and one of the wrong shape.
    let answers = root.join("answers.yaml");
    let good = std::fs::read_to_string(&answers).unwrap();
    std::fs::write(&answers, format!("{good}no such item: {{answer: yes}}\n")).unwrap();
    code(&sign_off(root, &[]), "signoff/answers", "answers.yaml:4:");
    std::fs::write(&answers, format!("\"{MANUAL}\": yes\n")).unwrap();
    code(&sign_off(root, &[]), "signoff/answers", "answers.yaml:1:");
    std::fs::write(&answers, good).unwrap();
    // A runbook of a kind without bindings, and one without a checklist.
    std::fs::write(
        root.join("runbooks/notes.md"),
        "# Notes\n\n## Validation checklist\n\n- [ ] x\n",
    )
    .unwrap();
    let out = ssoproof(root, &["signoff", "runbooks/notes.md", "--operator", "A"]);
    code(&out, "signoff/not-bound", "runbooks/notes.md:1:");
    let runbook = root.join("runbooks/keycloak.md");
    let text_of = std::fs::read_to_string(&runbook).unwrap();
    std::fs::write(
        &runbook,
        text_of.replace("## Validation checklist", "## Checks"),
    )
    .unwrap();
    code(
        &sign_off(root, &[]),
        "signoff/no-checklist",
        "runbooks/keycloak.md:1:",
    );
    std::fs::write(&runbook, &text_of).unwrap();
    // A record folder that cannot be written, found before any scenario runs: nothing
    // half-written is left.
    std::fs::write(root.join("blocked"), "a file").unwrap();
    let out = sign_off(root, &["--out", "blocked"]);
    code(&out, "signoff/write", "blocked");
    assert!(!text(&out).contains("signoff: running"), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(root.join("blocked")).unwrap(),
        "a file"
    );
}

/// A throwaway ed25519 key pair, or `None` (said aloud) where ssh-keygen is absent.
fn key(dir: &Path, name: &str) -> Option<(PathBuf, String)> {
    let path = dir.join(name);
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&path)
        .status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: ssh-keygen is not installed");
        return None;
    }
    Some((
        path.clone(),
        std::fs::read_to_string(path.with_extension("pub")).unwrap(),
    ))
}

#[test]
fn a_required_signature_must_be_by_an_allowed_key() {
    let keys = tempfile::tempdir().unwrap();
    let Some((ada, ada_pub)) = key(keys.path(), "ada") else {
        return;
    };
    let Some((eve, _)) = key(keys.path(), "eve") else {
        return;
    };
    let dir = project("  require_signature: true\n  allowed_signers: allowed_signers\n");
    let root = dir.path();
    std::fs::write(
        root.join("allowed_signers"),
        format!("ada@example.com {ada_pub}"),
    )
    .unwrap();

    let unsigned = sign_off(root, &[]);
    assert_eq!(unsigned.status.code(), Some(0), "{}", text(&unsigned));
    let check = ssoproof(root, &["signoff", "check"]);
    assert_eq!(check.status.code(), Some(1));
    assert!(
        text(&check).contains("[signoff/signature]") && text(&check).contains("no signature"),
        "{}",
        text(&check)
    );

    let signed = sign_off(root, &["--force", "--sign-with", ada.to_str().unwrap()]);
    assert_eq!(signed.status.code(), Some(0), "{}", text(&signed));
    assert!(record(root).with_extension("json.sig").exists());
    let check = ssoproof(root, &["signoff", "check"]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));

    let forged = sign_off(root, &["--force", "--sign-with", eve.to_str().unwrap()]);
    assert_eq!(forged.status.code(), Some(0), "{}", text(&forged));
    let check = ssoproof(root, &["signoff", "check"]);
    assert_eq!(check.status.code(), Some(1));
    assert!(
        text(&check).contains("not in the allowed signers"),
        "{}",
        text(&check)
    );
}

/// issue 15: a SAML runbook's record holds what its SAML sign-ins showed: the role, or the
/// `saml/…` code of the refusal.
#[test]
fn a_saml_runbooks_evidence_holds_the_role_and_the_saml_code() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for sub in ["runbooks", "features", "fixtures"] {
        std::fs::create_dir_all(root.join(sub)).unwrap();
    }
    for file in [
        "runbooks/saml.md",
        "features/saml.feature",
        "fixtures/keycloak-realm.json",
    ] {
        std::fs::copy(repo().join(file), root.join(file)).unwrap();
    }
    // saml.md links keycloak.md: a stub keeps the link check quiet.
    std::fs::write(root.join("runbooks/keycloak.md"), "# Keycloak\n").unwrap();
    std::fs::write(
        root.join("ssoproof.yaml"),
        "runbooks:\n  kinds:\n    - name: idp\n      files: [runbooks/saml.md]\n      bindings: true\n    - name: notes\n      files: [\"runbooks/*.md\"]\n      checklist: false\n      sections: []\n",
    )
    .unwrap();
    let out = ssoproof(
        root,
        &["signoff", "runbooks/saml.md", "--operator", "Ada Lovelace"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let dir = root.join("signoffs/runbooks/saml");
    let json = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .unwrap();
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    let evidence = |item: &str| {
        record["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["text"].as_str().is_some_and(|t| t.contains(item)))
            .unwrap_or_else(|| panic!("no item {item}: {record:#}"))["evidence"][0]
            .clone()
    };
    assert_eq!(
        evidence("signs in over SAML with role `admin`")["role"],
        "admin",
        "{record:#}"
    );
    assert_eq!(
        evidence("refused with `saml/unsigned`")["error_code"],
        "saml/unsigned",
        "{record:#}"
    );
}
