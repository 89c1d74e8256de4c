//! `--format html`: the page's structure pinned by snapshots for a fixed verify and coverage
//! result and sign-off record, escaping, redaction, no external assets, the CLI flag, and the page rendered by a
//! real browser (Debian's `chromium`, headless) with no console error and no network request.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ssoproof::coverage::{
    CoverageReport, ItemCoverage, LastResult, Proof, RunbookCoverage, ScenarioLocation,
};
use ssoproof::report::html::StepSource;
use ssoproof::report::{
    coverage as coverage_report, signoff as signoff_report, verify as verify_report,
};
use ssoproof::scenario::{Outcome, ScenarioResult};
use ssoproof::verify::{ItemReport, ItemStatus, RunbookReport, VerifyReport};
use ssoproof_lint::binding::ItemKind;
use ssoproof_lint::LintReport;
use ssoproof_secret::{redact_all, Secret};
use ssoproof_signoff::{
    Answer, Evidence, FileHash, ItemFingerprint, ItemRecord, Record, RunbookRef,
    ScenarioFingerprint, Verdict,
};

const FEATURE: &str = r#"@login
Feature: Sign-in

  Background:
    Given the Keycloak realm from the runbook

  @sign-in
  Scenario: Alice signs in
    When alice signs in
    Then her role is "admin"

  @wrong-secret
  Scenario: A wrong client secret is refused
    Given the application's client secret is wrong
    When alice signs in
    Then the login is rejected with "invalid_client"

  @broken-tokens
  Scenario Outline: <case> is refused
    Given the IdP signs ID tokens with <alg>
    Then the login is rejected with "<code>"

    Examples:
      | case  | alg   | code         |
      | HS256 | HS256 | alg_rejected |
      | none  | none  | alg_rejected |
"#;

const GENERATED: &str = "2026-01-01T00:00:00Z";
/// A client secret; only its redacted form may reach a page.
const CLIENT_SECRET: &str = "s3cr3t-Client-Value-42";

/// A project folder holding the fixture's feature file, which the page reads steps from.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("features")).unwrap();
    std::fs::write(dir.path().join("features/login.feature"), FEATURE).unwrap();
    dir
}

fn result(backend: &str, scenario: &str, line: usize, outcome: Outcome) -> ScenarioResult {
    ScenarioResult {
        backend: backend.into(),
        feature: "features/login.feature".into(),
        scenario: scenario.into(),
        line,
        tags: vec!["login".into()],
        outcome,
    }
}

fn item(kind: ItemKind, line: usize, text: &str, status: ItemStatus) -> ItemReport {
    ItemReport {
        kind,
        line,
        text: text.into(),
        status,
        scenarios: Vec::new(),
    }
}

/// A failure reason as steps make them: the secret written through `Secret`'s `Display`, and
/// a server's answer echoing it passed through `redact_all`.
fn secret_reason() -> String {
    let secret = Secret::new(CLIENT_SECRET);
    let server = format!("{{\"error\":\"invalid_client\",\"client_secret\":\"{CLIENT_SECRET}\"}}");
    format!(
        "the token request with client secret {secret} was refused: {}",
        redact_all(&server, &[&secret])
    )
}

/// Every status: passed on two backends, failed (with a redacted secret in the reason),
/// an outline's two rows, manual, unbound (with markup in its text), and skipped.
fn verify_fixture() -> VerifyReport {
    let signed_in = [
        result("emulator", "Alice signs in", 8, Outcome::Passed),
        result("keycloak", "Alice signs in", 8, Outcome::Passed),
    ];
    let wrong_secret = [
        result(
            "emulator",
            "A wrong client secret is refused",
            13,
            Outcome::Failed(secret_reason()),
        ),
        result(
            "keycloak",
            "A wrong client secret is refused",
            13,
            Outcome::Skipped("Docker is not running".into()),
        ),
    ];
    let outline = [
        result("emulator", "HS256 is refused", 25, Outcome::Passed),
        result("emulator", "none is refused", 26, Outcome::Passed),
    ];
    let live = result(
        "live",
        "Alice signs in",
        8,
        Outcome::Skipped("no live tenant: set SSOPROOF_LIVE_ISSUER".into()),
    );
    let mut pass = item(
        ItemKind::ChecklistItem,
        40,
        "Alice signs in and gets the admin role [proof](../features/login.feature#sign-in)",
        ItemStatus::Passed,
    );
    pass.scenarios = signed_in.to_vec();
    let mut fail = item(
        ItemKind::ChecklistItem,
        41,
        "A wrong client secret is refused [proof](../features/login.feature#wrong-secret)",
        ItemStatus::Failed(format!(
            "[emulator] A wrong client secret is refused: {}",
            secret_reason()
        )),
    );
    fail.scenarios = wrong_secret.to_vec();
    let mut tokens = item(
        ItemKind::ChecklistItem,
        42,
        "ID tokens signed with HS256 or none are refused",
        ItemStatus::Passed,
    );
    tokens.scenarios = outline.to_vec();
    let mut skipped = item(
        ItemKind::ChecklistItem,
        12,
        "Sign-in works on the live tenant",
        ItemStatus::Skipped("no live tenant: set SSOPROOF_LIVE_ISSUER".into()),
    );
    skipped.scenarios = vec![live.clone()];
    let mut results: Vec<ScenarioResult> = signed_in.to_vec();
    results.extend(wrong_secret);
    results.extend(outline);
    results.push(live);
    VerifyReport {
        lint: LintReport {
            files: vec!["runbooks/keycloak.md".into(), "runbooks/live.md".into()],
            diagnostics: Vec::new(),
        },
        results,
        runbooks: vec![
            RunbookReport {
                file: "runbooks/keycloak.md".into(),
                items: vec![
                    item(
                        ItemKind::TroubleshootingRow,
                        30,
                        "`invalid_client` <script>alert(\"x\")</script> & \"quotes\"",
                        ItemStatus::Unbound,
                    ),
                    pass,
                    fail,
                    tokens,
                    item(
                        ItemKind::ChecklistItem,
                        43,
                        "A break-glass admin can sign in [manual]",
                        ItemStatus::Manual,
                    ),
                ],
            },
            RunbookReport {
                file: "runbooks/live.md".into(),
                items: vec![skipped],
            },
        ],
        shard: None,
    }
}

fn location(line: usize, name: &str) -> ScenarioLocation {
    ScenarioLocation {
        feature: "features/login.feature".into(),
        line,
        name: name.into(),
    }
}

fn proof(tag: &str, scenario: Option<ScenarioLocation>, last: Vec<LastResult>) -> Proof {
    Proof {
        feature: "features/login.feature".into(),
        tag: tag.into(),
        scenario,
        last,
    }
}

fn last(backend: &str, outcome: Outcome) -> LastResult {
    LastResult {
        backend: backend.into(),
        outcome,
    }
}

fn coverage_item(line: usize, text: &str, manual: bool, proofs: Vec<Proof>) -> ItemCoverage {
    ItemCoverage {
        kind: ItemKind::ChecklistItem,
        line,
        text: text.into(),
        manual,
        proofs,
    }
}

fn coverage_fixture() -> CoverageReport {
    CoverageReport {
        last_run: Some(GENERATED.into()),
        runbooks: vec![RunbookCoverage {
            file: "runbooks/keycloak.md".into(),
            items: vec![
                coverage_item(
                    40,
                    "Alice signs in",
                    false,
                    vec![proof(
                        "sign-in",
                        Some(location(8, "Alice signs in")),
                        vec![last("emulator", Outcome::Passed)],
                    )],
                ),
                coverage_item(
                    41,
                    "A wrong client secret is refused",
                    false,
                    vec![proof(
                        "wrong-secret",
                        Some(location(13, "A wrong client secret is refused")),
                        vec![
                            last("emulator", Outcome::Failed(secret_reason())),
                            last("keycloak", Outcome::Skipped("Docker is not running".into())),
                        ],
                    )],
                ),
                // The outline's two rows passed: one mention.
                coverage_item(
                    42,
                    "ID tokens signed with HS256 or none are refused",
                    false,
                    vec![proof(
                        "broken-tokens",
                        Some(location(19, "<case> is refused")),
                        vec![
                            last("emulator", Outcome::Passed),
                            last("emulator", Outcome::Passed),
                        ],
                    )],
                ),
                coverage_item(
                    43,
                    "Sign-in works on the live tenant",
                    false,
                    vec![proof(
                        "sign-in",
                        Some(location(8, "Alice signs in")),
                        vec![last(
                            "live",
                            Outcome::Skipped("no live tenant: set SSOPROOF_LIVE_ISSUER".into()),
                        )],
                    )],
                ),
                coverage_item(
                    44,
                    "Tokens from a second IdP are refused",
                    false,
                    vec![proof("second-idp", None, Vec::new())],
                ),
                coverage_item(
                    45,
                    "A break-glass admin can sign in [manual]",
                    true,
                    Vec::new(),
                ),
                coverage_item(46, "Nobody wrote a scenario for this", false, Vec::new()),
            ],
        }],
        uncited: vec![ScenarioLocation {
            feature: "features/other.feature".into(),
            line: 3,
            name: "Something no runbook cites".into(),
        }],
    }
}

fn evidence(scenario: &str, line: usize, result: Verdict) -> Evidence {
    Evidence {
        scenario: scenario.into(),
        feature: "features/login.feature".into(),
        line,
        backend: "emulator".into(),
        result,
        reason: None,
        role: None,
        error_code: None,
        claims: serde_json::Map::new(),
    }
}

fn record_item(
    line: usize,
    text: &str,
    tag: Option<&str>,
    result: Verdict,
    evidence: Vec<Evidence>,
) -> ItemRecord {
    ItemRecord {
        item: ItemFingerprint {
            id: tag.map_or(format!("item-{line}"), str::to_string),
            text: text.into(),
            line,
            sha256: "1".repeat(64),
            manual: tag.is_none(),
            scenarios: tag
                .map(|tag| ScenarioFingerprint {
                    feature: "features/login.feature".into(),
                    tag: tag.into(),
                    sha256: Some("2".repeat(64)),
                })
                .into_iter()
                .collect(),
        },
        result,
        reason: None,
        answer: None,
        note: None,
        checked_at: GENERATED.into(),
        evidence,
    }
}

/// An incomplete (`--partial`) record with every kind of item: passed with a role and claims
/// (one redacted), failed with an error code and a redacted secret in its reason, manual
/// answered yes with a note, answered no, and not answered.
fn signoff_record() -> Record {
    let mut signed_in = evidence("Alice signs in", 8, Verdict::Passed);
    signed_in.role = Some("admin".into());
    signed_in.claims = serde_json::json!({"sub": "alice", "id_token_hint": "[redacted]"})
        .as_object()
        .unwrap()
        .clone();
    let mut refused = evidence("A wrong client secret is refused", 13, Verdict::Failed);
    refused.error_code = Some("login/invalid_client".into());
    refused.reason = Some(secret_reason());
    let mut failed = record_item(
        41,
        "A wrong client secret is refused",
        Some("wrong-secret"),
        Verdict::Failed,
        vec![refused],
    );
    failed.reason = Some(format!(
        "[emulator] A wrong client secret is refused: {}",
        secret_reason()
    ));
    let mut yes = record_item(
        43,
        "A break-glass admin can sign in <b>[manual]</b>",
        None,
        Verdict::Passed,
        vec![],
    );
    yes.answer = Some(Answer::Yes);
    yes.note = Some("checked in the console".into());
    let mut no = record_item(
        44,
        "Tokens are not stored [manual]",
        None,
        Verdict::Failed,
        vec![],
    );
    no.answer = Some(Answer::No);
    let mut unanswered = record_item(
        45,
        "MFA is required [manual]",
        None,
        Verdict::Skipped,
        vec![],
    );
    unanswered.reason = Some("not answered".into());
    let mut record = Record {
        format: ssoproof_signoff::FORMAT,
        tool_version: "0.1.0".into(),
        runbook: RunbookRef {
            path: "runbooks/keycloak.md".into(),
            sha256: "3".repeat(64),
            checklist_sha256: "4".repeat(64),
        },
        backend: "emulator".into(),
        issuer: Some("http://127.0.0.1:8080/realms/acme".into()),
        client_id: Some("app".into()),
        operator: "Ada Lovelace".into(),
        signed_at: GENERATED.into(),
        complete: false,
        features: vec![FileHash {
            path: "features/login.feature".into(),
            sha256: "5".repeat(64),
        }],
        items: vec![
            record_item(
                40,
                "Alice signs in and gets the admin role",
                Some("sign-in"),
                Verdict::Passed,
                vec![signed_in],
            ),
            failed,
            yes,
            no,
            unanswered,
        ],
        record_sha256: String::new(),
    };
    record.seal();
    record
}

fn signoff_page() -> String {
    let dir = project();
    signoff_report::html(
        &signoff_record(),
        "2026-01-01.json",
        &mut StepSource::new(dir.path()),
    )
}

fn verify_page() -> String {
    let dir = project();
    verify_report::html(
        &verify_fixture(),
        &mut StepSource::new(dir.path()),
        GENERATED,
    )
}

fn coverage_page() -> String {
    let dir = project();
    coverage_report::html(
        &coverage_fixture(),
        &mut StepSource::new(dir.path()),
        GENERATED,
    )
}

/// The page's structure for a snapshot: one tag a line, the stylesheet and version left out
/// (their changes are not changes of structure).
fn structure(page: &str) -> String {
    let start = page.find("<style>").expect("a stylesheet") + "<style>".len();
    let end = page.find("</style>").expect("a stylesheet");
    format!("{}[html.css]{}", &page[..start], &page[end..])
        .replace(env!("CARGO_PKG_VERSION"), "[version]")
        .replace("><", ">\n<")
}

#[test]
fn verify_page_structure() {
    insta::assert_snapshot!(structure(&verify_page()));
}

#[test]
fn coverage_page_structure() {
    insta::assert_snapshot!(structure(&coverage_page()));
}

#[test]
fn signoff_page_structure() {
    insta::assert_snapshot!(structure(&signoff_page()));
}

#[test]
fn the_signoff_page_shows_answers_evidence_and_the_record_it_views() {
    let page = signoff_page();
    let record = signoff_record();
    assert!(page.contains(&record.record_sha256), "the record's hash");
    assert!(
        page.contains("answered yes — note: checked in the console"),
        "{page}"
    );
    assert!(
        page.contains("<dt>Error code</dt><dd>login/invalid_client</dd>"),
        "{page}"
    );
    assert!(page.contains("<dt>Role</dt><dd>admin</dd>"), "{page}");
    assert!(page.contains("incomplete (--partial)"), "{page}");
    assert!(
        page.contains("&lt;b&gt;[manual]&lt;/b&gt;"),
        "escaped: {page}"
    );
}

#[test]
fn values_are_escaped() {
    let page = verify_page();
    assert!(!page.contains("<script"), "markup in an item's text ran");
    assert!(
        page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;"),
        "{page}"
    );
}

#[test]
fn a_redacted_secret_in_a_failure_reason_stays_redacted() {
    for page in [verify_page(), coverage_page(), signoff_page()] {
        assert!(!page.contains(CLIENT_SECRET), "the secret leaked");
        // Both forms, `Display` and `redact_all`, show as the marker in the failure's reason.
        assert!(
            page.contains("with client secret [redacted] was refused"),
            "{page}"
        );
        assert!(
            page.contains("&quot;client_secret&quot;:&quot;[redacted]&quot;"),
            "{page}"
        );
    }
}

/// Every `src`, `href` and CSS `url(…)` of a page.
fn references(page: &str) -> Vec<String> {
    let pattern = regex::Regex::new(r#"(?i)\b(?:src|href)\s*=\s*"([^"]*)"|url\(|@import"#).unwrap();
    pattern
        .captures_iter(page)
        .map(|c| {
            c.get(1)
                .map_or(c[0].to_string(), |m| m.as_str().to_string())
        })
        .collect()
}

#[test]
fn the_page_loads_nothing_from_anywhere() {
    for page in [verify_page(), coverage_page(), signoff_page()] {
        let outside: Vec<String> = references(&page)
            .into_iter()
            .filter(|r| !r.starts_with('#'))
            .collect();
        assert!(outside.is_empty(), "{outside:?}");
        assert!(
            page.contains("content=\"default-src 'none'; style-src 'unsafe-inline'\""),
            "the CSP forbids every fetch"
        );
    }
    // The check itself sees an asset when there is one.
    assert_eq!(
        references(
            "<img src=\"https://x/y.png\"><a href=\"#a\"></a><style>b{background:url(x)}</style>"
        ),
        ["https://x/y.png", "#a", "url("]
    );
}

#[test]
fn steps_come_from_the_scenario_a_line_falls_in() {
    let dir = project();
    let mut steps = StepSource::new(dir.path());
    let feature = Path::new("features/login.feature");
    let alice = steps.steps(feature, 8).unwrap();
    assert_eq!(
        alice.background,
        ["Given the Keycloak realm from the runbook"]
    );
    assert_eq!(
        alice.steps,
        ["When alice signs in", "Then her role is \"admin\""]
    );
    // An outline's example row (line 26) is its outline's.
    assert_eq!(
        steps.steps(feature, 26).unwrap().steps[0],
        "Given the IdP signs ID tokens with <alg>"
    );
    let before = steps.steps(feature, 3).unwrap_err();
    assert_eq!(before, "features/login.feature:3: no scenario there");
    let missing = steps
        .steps(Path::new("features/gone.feature"), 3)
        .unwrap_err();
    assert!(missing.contains("gone.feature"), "{missing}");
}

fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("workspace root")
}

fn ssoproof(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .current_dir(repository())
        .args(args)
        // The live backend must be unconfigured here whatever the caller's environment holds.
        .env_remove("SSOPROOF_LIVE_ISSUER")
        .env_remove("SSOPROOF_LIVE_CLIENT_ID")
        .output()
        .expect("ssoproof runs");
    (
        out.status.code().expect("exit code"),
        String::from_utf8(out.stdout).expect("utf-8"),
    )
}

#[test]
fn verify_and_coverage_take_format_html() {
    // Only the live backend, unconfigured here: every scenario skipped, quickly.
    let (code, page) = ssoproof(&["verify", "--backend", "live", "--format", "html"]);
    assert_eq!(code, 1, "nothing ran");
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(page.contains("verify: NOTHING RAN"), "{page}");
    assert!(page.contains("<h2>runbooks/keycloak.md</h2>"), "{page}");
    assert!(
        page.contains("SSOPROOF_LIVE_ISSUER"),
        "the skip reason: {page}"
    );
    assert!(page.contains("<ol class=\"steps\">"), "the steps: {page}");
    let (code, page) = ssoproof(&["coverage", "--format", "html"]);
    assert_eq!(code, 0);
    assert!(page.contains("<h2>runbooks/keycloak.md</h2>"), "{page}");
    assert!(page.contains("<h2>Scenarios no runbook cites"), "{page}");
    assert!(!page.contains("steps unavailable"), "{page}");
}

// The browser.

/// The target folder, where the pages, screenshots and PDF are kept for review.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_ssoproof"))
        .ancestors()
        .nth(2)
        .expect("the binary is in target/<profile>/")
        .to_path_buf()
}

/// Debian's `chromium` (or `SSOPROOF_CHROMIUM`), if there is one.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SSOPROOF_CHROMIUM") {
        return Some(path.into());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

struct Rendered {
    /// What `--dump-dom` printed, if asked.
    dom: String,
    /// The page's console messages: Chromium logs each as `…:CONSOLE…] "message", source: …`.
    console: Vec<String>,
    /// The URLs the page asked for, from Chromium's network log.
    requests: Vec<String>,
}

/// Renders `page` headless with `extra` arguments (`--dump-dom`, `--screenshot=…`). Every host
/// name resolves to nothing, so no request leaves the machine; the network log still records
/// each one the page made.
fn render(chromium: &Path, page: &Path, extra: &[String]) -> Rendered {
    let scratch = tempfile::tempdir().unwrap();
    let net_log = scratch.path().join("net-log.json");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!(
            "--user-data-dir={}",
            scratch.path().join("profile").display()
        ))
        .arg(format!("--log-net-log={}", net_log.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    // Read both pipes while it runs, so neither fills up and blocks it.
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let err = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    // A browser that never finishes must fail the test, not hang it.
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().expect("chromium runs") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish with {} in 120 s", page.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let (dom, log) = (out.join().unwrap(), err.join().unwrap());
    assert!(status.success(), "chromium failed ({status}):\n{log}");
    let console = log
        .lines()
        .filter(|line| line.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    Rendered {
        dom,
        console,
        requests: page_requests(&net_log),
    }
}

/// The requests made for a `file://` page: those whose network isolation key is the file
/// origin. The browser's own background requests (updates, accounts) have another.
fn page_requests(net_log: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(net_log).expect("chromium wrote its network log");
    let log: serde_json::Value = serde_json::from_str(&text).expect("a whole network log");
    let start_job = &log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"];
    assert!(
        start_job.is_number(),
        "the network log names its event types"
    );
    log["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| &e["type"] == start_job)
        .filter(|e| {
            e["params"]["network_isolation_key"]
                .as_str()
                .is_some_and(|key| key.starts_with("file://"))
        })
        .filter_map(|e| e["params"]["url"].as_str())
        .filter(|url| !url.starts_with("file:"))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_page_renders_in_chromium_without_console_errors_or_requests() {
    let Some(chromium) = chromium() else {
        if std::env::var_os("SSOPROOF_REQUIRE_CHROMIUM").is_some_and(|v| !v.is_empty()) {
            panic!("SSOPROOF_REQUIRE_CHROMIUM is set and there is no `chromium` on PATH");
        }
        println!("SKIPPED: no `chromium` on PATH (apt-get install chromium; .ci/run does)");
        return;
    };
    let target = target_dir();
    let scratch = tempfile::tempdir().unwrap();

    // First the checks themselves: a page with a script error and an external image must show
    // both, or a clean result below would mean nothing.
    let broken = scratch.path().join("broken.html");
    std::fs::write(
        &broken,
        "<!DOCTYPE html><title>x</title><img src=\"https://assets.example/x.png\"><script>console.error('boom'); nosuch();</script>",
    )
    .unwrap();
    let control = render(&chromium, &broken, &["--dump-dom".into()]);
    assert!(
        control.console.iter().any(|l| l.contains("boom"))
            && control.console.iter().any(|l| l.contains("nosuch")),
        "console messages are not where this test looks: {:?}",
        control.console
    );
    assert_eq!(control.requests, ["https://assets.example/x.png"]);

    // The fixed verify page (every status) and this repository's coverage page.
    let verify = target.join("report.html");
    std::fs::write(&verify, verify_page()).unwrap();
    let (_, coverage_html) = ssoproof(&["coverage", "--format", "html"]);
    let coverage = target.join("report-coverage.html");
    std::fs::write(&coverage, &coverage_html).unwrap();
    let signoff = target.join("report-signoff.html");
    std::fs::write(&signoff, signoff_page()).unwrap();
    for (page, titles) in [
        (&verify, &["runbooks/keycloak.md", "runbooks/live.md"][..]),
        (&coverage, &["runbooks/keycloak.md", "runbooks/okta.md"][..]),
        (&signoff, &["runbooks/keycloak.md"][..]),
    ] {
        let rendered = render(&chromium, page, &["--dump-dom".into()]);
        assert!(
            rendered.console.is_empty(),
            "{}: {:?}",
            page.display(),
            rendered.console
        );
        assert!(
            rendered.requests.is_empty(),
            "{}: {:?}",
            page.display(),
            rendered.requests
        );
        let dom = &rendered.dom;
        for title in titles {
            assert!(
                dom.contains(&format!("<h2>{title}</h2>")),
                "{title} in {dom}"
            );
        }
        assert!(dom.contains("<svg class=\"chart\""), "the chart: {dom}");
        assert!(dom.contains("<rect "), "the chart's bars: {dom}");
        assert!(dom.contains("<details class=\"proof\">"), "{dom}");
    }
    // The sign-off page's items, as the browser built them.
    let rendered = render(&chromium, &signoff, &["--dump-dom".into()]);
    for item in signoff_record().items {
        let text = item.item.text.replace('<', "&lt;").replace('>', "&gt;");
        assert!(
            rendered
                .dom
                .contains(&format!("<span class=\"text\">{text}</span>")),
            "{text} in {}",
            rendered.dom
        );
    }

    let screenshot = target.join("report-screenshot.png");
    let _ = std::fs::remove_file(&screenshot);
    let shot = render(
        &chromium,
        &verify,
        &[
            format!("--screenshot={}", screenshot.display()),
            "--window-size=1280,2000".into(),
            "--hide-scrollbars".into(),
        ],
    );
    assert!(shot.console.is_empty(), "{:?}", shot.console);
    let png = std::fs::read(&screenshot).expect("the screenshot was written");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");

    let pdf = target.join("report.pdf");
    let _ = std::fs::remove_file(&pdf);
    render(
        &chromium,
        &verify,
        &[
            format!("--print-to-pdf={}", pdf.display()),
            "--no-pdf-header-footer".into(),
        ],
    );
    let bytes = std::fs::read(&pdf).expect("the PDF was written");
    assert!(bytes.starts_with(b"%PDF-"), "a PDF");
    println!(
        "screenshot: {}\nPDF: {}",
        screenshot.display(),
        pdf.display()
    );
}

/// issue 14: the Markdown summary for `$GITHUB_STEP_SUMMARY` names each failed item's runbook
/// and line with the reason (secret redacted, `|` escaped so the table holds), and the shard.
#[test]
fn the_markdown_summary_names_failed_rows() {
    let mut report = verify_fixture();
    report.shard = Some("2/3".parse().unwrap());
    let text = ssoproof::report::verify::markdown(&report);
    assert!(!text.contains(CLIENT_SECRET), "{text}");
    assert!(
        text.contains("| `runbooks/keycloak.md:41` | checklist item |"),
        "{text}"
    );
    assert!(text.contains("shard 2/3"), "{text}");
    insta::assert_snapshot!(text);
}
