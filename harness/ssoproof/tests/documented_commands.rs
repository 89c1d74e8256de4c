//! Every `ssoproof …` command that README.md and the runbooks show in a shell code block is run
//! here, as documented, against the emulators: a runbook's own `serve` commands are started
//! (and stopped at the end of the runbook), a `login` signs in at the emulated vendor, a
//! `doctor` runs on the profile the runbook shows. Only documented placeholders are replaced:
//! the vendor's origin (`https://acme.okta.com`, …) and `127.0.0.1:PORT` by the emulator's, the
//! cloud endpoints by the emulated ones, and `$VARIABLES` by the fixtures' secrets. A command
//! this test does not know fails it, so a new documented command cannot go unrun.
//!
//! The documents' commands are POSIX shell, run with `sh`.
#![cfg(unix)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A command as documented: where, and its text with continuation lines joined.
#[derive(Debug, Clone)]
struct Documented {
    file: String,
    line: usize,
    text: String,
}

/// The shell code blocks' commands that run `ssoproof` (directly, inside `$(…)`, or through
/// `cargo run … --bin ssoproof --`), in document order.
fn documented(file: &str) -> Vec<Documented> {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    let mut commands = Vec::new();
    let mut fence: Option<String> = None;
    let mut pending: Option<Documented> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with("```") {
            fence = match fence {
                None => Some(line.trim_start_matches('`').trim().to_string()),
                Some(_) => None,
            };
            continue;
        }
        if !matches!(fence.as_deref(), Some("sh" | "bash" | "shell" | "console")) {
            continue;
        }
        let current = pending.get_or_insert_with(|| Documented {
            file: file.to_string(),
            line: index + 1,
            text: String::new(),
        });
        let (part, continues) = match line.strip_suffix('\\') {
            Some(part) => (part.trim(), true),
            None => (line, false),
        };
        if !current.text.is_empty() {
            current.text.push(' ');
        }
        current.text.push_str(part);
        if !continues {
            let done = pending.take().unwrap();
            if done.text.contains("ssoproof") && !done.text.starts_with('#') {
                commands.push(done);
            }
        }
    }
    commands
}

/// The `ssoproof …` invocation inside a documented line: from `ssoproof` to the end of the
/// command substitution or pipeline it sits in.
fn invocation(text: &str) -> &str {
    let start = text
        .find("ssoproof ")
        .unwrap_or_else(|| panic!("no `ssoproof ` in {text}"));
    let rest = &text[start..];
    let end = rest.find(" | ").unwrap_or(rest.len());
    rest[..end].trim_end_matches(')').trim()
}

/// A server started from a documented `serve` command, stopped when dropped.
struct Served {
    child: Child,
    summary: String,
}

impl Served {
    fn start(command: &str, dir: &Path) -> Served {
        let mut child = shell(&format!("exec {command}"), dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut summary = String::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            let done = line == "Serving until Ctrl-C.";
            summary.push_str(&line);
            summary.push('\n');
            if done {
                // Keep reading what it prints so it never blocks on a full pipe.
                std::thread::spawn(move || lines.for_each(drop));
                return Served { child, summary };
            }
        }
        let status = child.wait().unwrap();
        panic!("`{command}` stopped ({status}) before serving:\n{summary}");
    }

    /// The first word after `label` on a summary line.
    fn value(&self, label: &str) -> String {
        self.summary
            .lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .and_then(|v| v.split_whitespace().next())
            .unwrap_or_else(|| panic!("no {label} in\n{}", self.summary))
            .to_string()
    }

    /// `scheme://host:port` of the issuer it serves (the last one printed: upstreams come
    /// first).
    fn origin(&self) -> String {
        let issuer = self
            .summary
            .lines()
            .filter_map(|l| l.trim().strip_prefix("issuer "))
            .next_back()
            .unwrap_or_else(|| panic!("no issuer in\n{}", self.summary))
            .trim();
        let url = url::Url::parse(issuer).unwrap();
        url.origin().ascii_serialization()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `sh -c text` in `dir`, with this build's `ssoproof` first on PATH and the fixtures' secrets
/// in the variables the runbooks name.
fn shell(text: &str, dir: &Path) -> Command {
    let bin = Path::new(env!("CARGO_BIN_EXE_ssoproof")).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(text)
        .current_dir(dir)
        .env("PATH", path)
        .stdin(Stdio::null());
    for name in ["ALICE_PASSWORD", "ALICE_GOOGLE_PASSWORD", "BOB_PASSWORD"] {
        let user = name.split('_').next().unwrap().to_lowercase();
        command.env(name, format!("{user}-password"));
    }
    command
}

/// How a runbook's `login` commands reach their vendor when the runbook starts no IdP itself:
/// the `serve idp` arguments and the application's client secret.
fn vendor(file: &str) -> (Vec<&'static str>, &'static str) {
    let realm = vec!["--realm", "fixtures/keycloak-realm.json"];
    match file {
        "runbooks/keycloak.md" | "runbooks/aws-bedrock.md" | "runbooks/gcp-vertex.md" => {
            (realm, "acme-app-secret")
        }
        "runbooks/okta.md" => (
            vec!["--persona", "fixtures/idp/okta.yaml"],
            "acme-okta-client-secret",
        ),
        "runbooks/auth0.md" => (
            vec!["--persona", "fixtures/idp/auth0.yaml"],
            "acme-auth0-client-secret",
        ),
        "runbooks/entra-id.md" => (
            vec!["--persona", "fixtures/idp/entra-id.yaml"],
            "acme-entra-client-secret",
        ),
        "runbooks/authentik.md" => (
            vec!["--persona", "fixtures/idp/authentik.yaml"],
            "acme-authentik-client-secret",
        ),
        "runbooks/cognito.md" => (
            vec!["--persona", "fixtures/idp/cognito.yaml"],
            "acme-cognito-client-secret",
        ),
        "runbooks/google-workspace.md" => (
            vec![
                "--realm",
                "fixtures/keycloak-google-broker.json",
                "--upstream",
                "google=fixtures/idp/google-workspace.yaml",
            ],
            "acme-app-secret",
        ),
        other => panic!("{other} documents `ssoproof login`: say here which emulator serves it"),
    }
}

/// The value of `--flag` in a command.
fn flag<'a>(command: &'a str, name: &str) -> &'a str {
    let mut words = command.split_whitespace();
    words
        .by_ref()
        .find(|w| *w == name)
        .unwrap_or_else(|| panic!("no {name} in {command}"));
    words
        .next()
        .unwrap_or_else(|| panic!("{name} has no value in {command}"))
}

/// The YAML code block of `file` that begins with `# name` (a profile the runbook shows),
/// without the indentation of its fence.
fn shown_file(file: &str, name: &str) -> String {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .windows(2)
        .position(|w| w[0].trim() == "```yaml" && w[1].trim() == format!("# {name}"))
        .unwrap_or_else(|| panic!("{file} shows no {name}"));
    let indent = lines[start].len() - lines[start].trim_start().len();
    lines[start + 1..]
        .iter()
        .take_while(|l| l.trim() != "```")
        .map(|l| l.get(indent..).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// What one runbook's lab holds while its commands run.
struct Lab {
    dir: tempfile::TempDir,
    idp: Option<Served>,
    clouds: Vec<Served>,
}

impl Lab {
    fn new() -> Lab {
        let dir = tempfile::tempdir().unwrap();
        // Documented paths are relative to the repository root.
        for folder in ["fixtures", "runbooks"] {
            std::os::unix::fs::symlink(root().join(folder), dir.path().join(folder)).unwrap();
        }
        Lab {
            dir,
            idp: None,
            clouds: Vec::new(),
        }
    }

    fn idp(&self) -> Option<&Served> {
        self.idp.as_ref()
    }

    /// The `serve clouds` summary line's URL after `label`.
    fn cloud(&self, label: &str) -> String {
        let served = self
            .clouds
            .iter()
            .find(|s| s.summary.contains(label))
            .unwrap_or_else(|| panic!("no running cloud prints {label}"));
        served.value(label)
    }

    fn run(&mut self, command: &Documented) {
        let what = format!("{}:{}: {}", command.file, command.line, command.text);
        let invocation = invocation(&command.text);
        let words: Vec<&str> = invocation.split_whitespace().collect();
        match words.get(1..3) {
            Some(["serve", "idp"]) => {
                self.idp = Some(Served::start(invocation, self.dir.path()));
            }
            Some(["serve", "clouds"]) => {
                let origin = self
                    .idp()
                    .expect("no IdP started before the clouds")
                    .origin();
                let command = invocation
                    .replace("https://127.0.0.1:PORT", &origin)
                    .replace("http://127.0.0.1:PORT", &origin);
                self.clouds.push(Served::start(&command, self.dir.path()));
            }
            Some(["login", ..]) => self.login(&command.file, invocation, &what),
            Some(["doctor", ..]) => self.doctor(&command.file, invocation, &what),
            _ => panic!("{what}: this test does not know how to run it; teach it"),
        }
    }

    fn login(&mut self, file: &str, invocation: &str, what: &str) {
        let (serve, secret) = vendor(file);
        if self.idp.is_none() {
            let command = format!("ssoproof serve idp {}", serve.join(" "));
            self.idp = Some(Served::start(&command, self.dir.path()));
        }
        let documented = url::Url::parse(flag(invocation, "--issuer")).unwrap();
        let lab = self.idp().unwrap().origin();
        let command = invocation.replace(&documented.origin().ascii_serialization(), &lab);
        let out = shell(&command, self.dir.path())
            .env("ACME_OIDC_CLIENT_SECRET", secret)
            // A command that names no secret or password reads them from these.
            .env("SSOPROOF_CLIENT_SECRET", secret)
            .env("SSOPROOF_PASSWORD", "alice-password")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{what}\n{stdout}{stderr}");
        let answer: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(answer["outcome"], "ok", "{what}\n{stdout}");
    }

    fn doctor(&mut self, file: &str, invocation: &str, what: &str) {
        let name = flag(invocation, "--profile");
        let mut profile = shown_file(file, name);
        let idp = self
            .idp()
            .unwrap_or_else(|| panic!("{what}: the runbook starts no IdP before its doctor"));
        let issuer = url::Url::parse(&shown_value(&profile, "issuer")).unwrap();
        profile = profile.replace(&issuer.origin().ascii_serialization(), &idp.origin());
        if idp.summary.contains("local CA") {
            // The lab IdP's certificate comes from the CA `serve idp --tls` wrote; the profile
            // and the CA are in the same folder.
            let ca = idp.value("certificate");
            profile = profile.replace("\nidp:\n", &format!("\nidp:\n  ca_file: {ca}\n"));
        }
        // The real endpoints the profile names, and the emulated ones that stand in for them.
        let endpoints: [(&str, &dyn Fn() -> String); 4] = [
            ("https://sts.amazonaws.com", &|| {
                self.cloud("STS (AssumeRoleWithWebIdentity):")
            }),
            ("https://bedrock-runtime.us-east-1.amazonaws.com", &|| {
                self.cloud("STS (AssumeRoleWithWebIdentity):")
            }),
            ("https://sts.googleapis.com/v1/token", &|| {
                self.cloud("STS     POST")
            }),
            ("https://us-central1-aiplatform.googleapis.com", &|| {
                self.cloud("STS     POST")
                    .trim_end_matches("/v1/token")
                    .to_string()
            }),
        ];
        for (real, lab) in endpoints {
            if profile.contains(real) {
                profile = profile.replace(real, &lab());
            }
        }
        std::fs::write(self.dir.path().join(name), &profile).unwrap();
        let (_, secret) = vendor(file);
        let out = shell(invocation, self.dir.path())
            .env("ACME_OIDC_CLIENT_SECRET", secret)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{what}\n{profile}\n{stdout}{stderr}"
        );
    }
}

/// The value of `key:` on the first line that sets it.
fn shown_value(yaml: &str, key: &str) -> String {
    yaml.lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{key}:")))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("no {key} in\n{yaml}"))
}

fn documented_files() -> Vec<String> {
    let mut files = vec!["README.md".to_string()];
    let mut runbooks: Vec<String> = std::fs::read_dir(root().join("runbooks"))
        .unwrap()
        .map(|e| format!("runbooks/{}", e.unwrap().file_name().to_string_lossy()))
        .filter(|f| f.ends_with(".md"))
        .collect();
    runbooks.sort();
    files.extend(runbooks);
    files
}

#[test]
fn every_documented_command_runs_as_documented() {
    let mut ran: HashMap<&str, usize> = HashMap::new();
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    for file in documented_files() {
        let mut lab = Lab::new();
        for command in documented(&file) {
            // `cargo run … --bin ssoproof -- ARGS` are CI's own steps: CI runs each one.
            if let Some((_, args)) = command.text.split_once("--bin ssoproof -- ") {
                let args = args.split('#').next().unwrap().trim();
                assert!(
                    ci.lines()
                        .any(|l| l.trim_end().ends_with(&format!("--bin ssoproof -- {args}"))),
                    "{}:{}: .ci/run does not run `ssoproof {args}`",
                    command.file,
                    command.line
                );
                *ran.entry("ci").or_default() += 1;
                continue;
            }
            lab.run(&command);
            let kind = invocation(&command.text).split_whitespace().nth(1).unwrap();
            *ran.entry(match kind {
                "serve" => "serve",
                "login" => "login",
                _ => "doctor",
            })
            .or_default() += 1;
        }
    }
    // Guards the parser: these are what the documents show today.
    assert!(ran["login"] >= 7, "{ran:?}");
    assert!(ran["serve"] >= 4, "{ran:?}");
    assert!(ran["doctor"] >= 2, "{ran:?}");
    assert!(ran["ci"] >= 2, "{ran:?}");
}

#[test]
fn commands_are_read_from_shell_blocks_only_with_continuations_joined() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.md");
    std::fs::write(
        &file,
        "`ssoproof inline` is prose.\n```yaml\nssoproof: no\n```\n```sh\n# ssoproof comment\nX=$(ssoproof login --a 1 \\\n  --b 2 | jq .x)\necho other\n```\n",
    )
    .unwrap();
    let commands = documented(file.to_str().unwrap());
    assert_eq!(commands.len(), 1, "{commands:?}");
    assert_eq!(commands[0].line, 7);
    assert_eq!(invocation(&commands[0].text), "ssoproof login --a 1 --b 2");
}
