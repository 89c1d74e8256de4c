//! `ssoproof signoff RUNBOOK`: run the scenarios bound to a runbook's checklist, take the
//! operator's answers to its `[manual]` items, and write the sign-off record (Markdown and
//! JSON evidence, optionally SSH-signed, optionally with an HTML page). `ssoproof signoff check`: whether the latest records
//! still cover the runbooks that require one. The record model lives in `ssoproof-signoff`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::backend::BackendKind;
use crate::report::html::StepSource;
use crate::scenario::{self, OnResult, Outcome, RunOptions, ScenarioError, ScenarioResult};
use crate::verify::{item_report, ItemStatus};
use ssoproof_config::{absolute, LoadedConfig};
use ssoproof_lint::binding::{self, FeatureError, ItemKind, Sections};
use ssoproof_signoff::stale::{self, Finding, Policy};
use ssoproof_signoff::store::{self, AnswerEntry, RecordPaths};
use ssoproof_signoff::{
    sha256_hex, sign, Answer, Checklist, Evidence, FileHash, ItemFingerprint, ItemRecord, Record,
    RunbookRef, SignoffError, Verdict,
};

#[derive(Debug, thiserror::Error)]
pub enum SignoffRunError {
    #[error(transparent)]
    Signoff(#[from] SignoffError),
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error("no operator name: pass --operator NAME or set git's `user.name`")]
    NoOperator,
}

impl SignoffRunError {
    pub fn code(&self) -> &'static str {
        match self {
            SignoffRunError::Signoff(e) => e.code(),
            SignoffRunError::Scenario(e) => e.code(),
            SignoffRunError::NoOperator => "signoff/operator",
        }
    }
}

impl From<FeatureError> for SignoffRunError {
    fn from(e: FeatureError) -> Self {
        SignoffRunError::Scenario(e.into())
    }
}

pub struct SignoffOptions {
    /// As given on the command line (relative to the current folder).
    pub runbook: PathBuf,
    pub backend: BackendKind,
    pub answers: Option<PathBuf>,
    pub operator: Option<String>,
    pub partial: bool,
    pub force: bool,
    pub sign_with: Option<PathBuf>,
    /// Overrides `signoff.dir`.
    pub out: Option<PathBuf>,
    /// Also write the record's HTML page (`<date>.html`) beside it.
    pub html: bool,
}

/// Asks one `[manual]` item.
pub type Ask<'a> = dyn FnMut(&ItemFingerprint) -> std::io::Result<AnswerEntry> + 'a;

/// How the run talks to the operator: progress, and the `[manual]` questions.
pub struct Operator<'a> {
    /// How many scenario runs are coming.
    pub started: &'a dyn Fn(usize),
    /// Each scenario as it finishes.
    pub finished: Option<OnResult>,
    /// Asks a `[manual]` item, or `None` when nobody can be asked (stdin is not a terminal).
    pub ask: Option<&'a mut Ask<'a>>,
}

/// What the run came to.
pub struct SignoffOutcome {
    pub record: Record,
    /// Where it was written; `None` when the sign-off was refused.
    pub written: Option<RecordPaths>,
}

/// A runbook's checklist and the facts a record names about it.
struct Prepared {
    relative: String,
    text: String,
    checklist: Checklist,
    items: Vec<binding::BoundItem>,
}

fn prepare(config: &LoadedConfig, runbook: &Path) -> Result<Prepared, SignoffRunError> {
    let root = absolute(&config.root);
    let path = absolute(runbook);
    let text = ssoproof_config::fs::read_to_string(&path).map_err(|source| SignoffError::Read {
        path: runbook.to_path_buf(),
        source,
    })?;
    let within = path
        .strip_prefix(&root)
        .map_err(|_| SignoffError::NotBound {
            path: runbook.to_path_buf(),
            problem: format!("it is outside the project ({})", root.display()),
        })?;
    let relative = binding::relative(within, Path::new(""));
    let runbooks = &config.config.runbooks;
    let kind = runbooks.kinds.iter().find(|k| k.matches(within));
    if !kind.is_some_and(|k| k.bindings) {
        let problem = match kind {
            Some(kind) => format!(
                "its runbook kind `{}` does not have `bindings: true`",
                kind.name
            ),
            None => "no runbook kind in ssoproof.yaml matches it".to_string(),
        };
        return Err(SignoffError::NotBound {
            path: runbook.to_path_buf(),
            problem,
        }
        .into());
    }
    let sections = Sections {
        checklist: &runbooks.checklist.section,
        troubleshooting: &runbooks.bindings.troubleshooting_section,
        manual_marker: &runbooks.bindings.manual_marker,
    };
    let doc = ssoproof_lint::Document::parse(&text);
    let checklist = binding::checklist(&doc, &text, &path, &root, &sections)?.ok_or_else(|| {
        SignoffError::NoChecklist {
            path: runbook.to_path_buf(),
            section: runbooks.checklist.section.clone(),
        }
    })?;
    let items = binding::items(&doc, &text, &path, &root, &sections)
        .into_iter()
        .filter(|i| i.kind == ItemKind::ChecklistItem)
        .collect();
    Ok(Prepared {
        relative,
        text,
        checklist,
        items,
    })
}

/// What a finished scenario's world showed, kept for the evidence.
#[derive(Default, Clone)]
struct Seen {
    issuer: Option<String>,
    client_id: Option<String>,
    role: Option<String>,
    error_code: Option<String>,
    claims: serde_json::Map<String, serde_json::Value>,
    at: String,
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

pub async fn signoff(
    config: &LoadedConfig,
    options: &SignoffOptions,
    operator: Operator<'_>,
) -> Result<SignoffOutcome, SignoffRunError> {
    let root = absolute(&config.root);
    let prepared = prepare(config, &options.runbook)?;
    let manual_marker = &config.config.runbooks.bindings.manual_marker;
    let mut answers: BTreeMap<String, AnswerEntry> = match &options.answers {
        Some(path) => store::read_answers(path, &prepared.checklist.items, manual_marker)
            .map_err(SignoffError::from)?,
        None => BTreeMap::new(),
    };
    let manual: Vec<&ItemFingerprint> = prepared
        .checklist
        .items
        .iter()
        .filter(|i| i.manual && i.scenarios.is_empty())
        .collect();
    let unanswered: Vec<String> = manual
        .iter()
        .filter(|i| !answers.contains_key(&i.id))
        .map(|i| format!("{} ({})", i.text, i.id))
        .collect();
    // Before anything runs: a CI job missing an answer learns it at once.
    if operator.ask.is_none() && !unanswered.is_empty() {
        return Err(SignoffError::Unanswered { items: unanswered }.into());
    }
    let records = options
        .out
        .clone()
        .unwrap_or_else(|| root.join(&config.config.signoff.dir));
    let records = store::runbook_dir(&records, &prepared.relative);
    // Refused before anything runs; `store::write` checks again when it writes.
    store::preflight(
        &RecordPaths::for_date(&records, now().get(..10).unwrap_or_default()),
        options.force,
    )?;
    let operator_name = match &options.operator {
        Some(name) => name.clone(),
        None => git_user_name(&root).ok_or(SignoffRunError::NoOperator)?,
    };

    // The scenarios, one cucumber run per bound feature file, only the bound tags.
    let mut by_feature: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    for target in prepared.items.iter().flat_map(|i| &i.scenarios) {
        by_feature
            .entry(target.feature.clone())
            .or_default()
            .push(target.id.clone());
    }
    let mut total = 0;
    for (feature, tags) in &by_feature {
        // A missing file is run as nothing, and its items fail below with the reason.
        if let Ok(file) = binding::FeatureFile::load(feature) {
            total += file
                .scenarios
                .iter()
                .filter(|s| s.tags.iter().any(|t| tags.contains(t)))
                .map(|s| s.runs)
                .sum::<usize>();
        }
    }
    (operator.started)(total);
    // Keyed by the feature relative to the root and the scenario's line, as reports name them.
    let seen: Arc<Mutex<HashMap<(String, usize), Seen>>> = Arc::default();
    let record_seen = {
        let seen = seen.clone();
        let root = root.clone();
        let finished = operator.finished.clone();
        Arc::new(
            move |result: &ScenarioResult, world: Option<&scenario::RunbookWorld>| {
                let mut entry = Seen {
                    at: now(),
                    ..Seen::default()
                };
                if let Some(world) = world {
                    if let Some(idp) = &world.idp {
                        entry.issuer = Some(idp.issuer());
                        entry.client_id = Some(idp.client().client_id);
                    }
                    match &world.login {
                        Some(Ok(outcome)) => {
                            entry.role = Some(outcome.role.to_string());
                            entry.claims = ssoproof_signoff::redact_claims(&outcome.claims);
                        }
                        Some(Err(error)) => entry.error_code = Some(error.code().to_string()),
                        // A SAML scenario (runbooks/saml.md) signs in over SAML instead.
                        None => match &world.saml_login {
                            Some(Ok(login)) => entry.role = Some(login.role.to_string()),
                            Some(Err(error)) => entry.error_code = Some(error.code().to_string()),
                            None => {}
                        },
                    }
                }
                seen.lock().unwrap_or_else(|e| e.into_inner()).insert(
                    (binding::relative(&result.feature, &root), result.line),
                    entry,
                );
                if let Some(finished) = &finished {
                    finished(result, world);
                }
            },
        ) as OnResult
    };
    let backend = options.backend.build(&root);
    let mut results = Vec::new();
    let mut features = Vec::new();
    for (feature, tags) in &by_feature {
        let Ok(bytes) = ssoproof_config::fs::read(feature) else {
            continue;
        };
        features.push(FileHash {
            path: binding::relative(feature, &root),
            sha256: sha256_hex(&bytes),
        });
        let run = RunOptions {
            root: root.clone(),
            features: feature.clone(),
            junit: None,
            verbose: false,
            tags: Some(tags.clone()),
            shard: None,
            on_result: Some(record_seen.clone()),
        };
        results.extend(scenario::run(backend.clone(), &run).await?);
    }

    // The manual items, asked after the scenarios ran (what the operator watched for).
    let mut ask = operator.ask;
    for item in &manual {
        if answers.contains_key(&item.id) {
            continue;
        }
        if let Some(ask) = ask.as_mut() {
            let entry = ask(item).map_err(|source| SignoffError::Read {
                path: PathBuf::from("<stdin>"),
                source,
            })?;
            answers.insert(item.id.clone(), entry);
        }
    }

    let seen = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut items = Vec::new();
    for (bound, fingerprint) in prepared.items.into_iter().zip(&prepared.checklist.items) {
        let report = item_report(bound, &results, &root);
        let evidence: Vec<Evidence> = report
            .scenarios
            .iter()
            .map(|r| {
                evidence(
                    r,
                    seen.get(&(binding::relative(&r.feature, &root), r.line)),
                    &root,
                )
            })
            .collect();
        let answer = answers.get(&fingerprint.id);
        let (result, reason) = match &report.status {
            ItemStatus::Passed => (Verdict::Passed, None),
            ItemStatus::Failed(reason) => (Verdict::Failed, Some(reason.clone())),
            ItemStatus::Skipped(reason) => (Verdict::Skipped, Some(reason.clone())),
            ItemStatus::Manual => match answer {
                Some(entry) => (entry.answer.verdict(), None),
                None => (Verdict::Skipped, Some("not answered".into())),
            },
            ItemStatus::Unbound => (
                Verdict::Failed,
                Some("bound to no scenario and not marked manual (see `ssoproof lint`)".into()),
            ),
        };
        let checked_at = evidence
            .iter()
            .filter_map(|e| seen.get(&(e.feature.clone(), e.line)).map(|s| s.at.clone()))
            .max()
            .unwrap_or_else(now);
        let manual = matches!(report.status, ItemStatus::Manual);
        items.push(ItemRecord {
            item: fingerprint.clone(),
            result,
            reason,
            answer: answer.filter(|_| manual).map(|e| e.answer),
            note: answer.filter(|_| manual).and_then(|e| e.note.clone()),
            checked_at,
            evidence,
        });
    }
    let first_seen = seen.values().find(|s| s.issuer.is_some());
    let mut record = Record {
        format: ssoproof_signoff::FORMAT,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        runbook: RunbookRef {
            path: prepared.relative.clone(),
            sha256: sha256_hex(prepared.text.as_bytes()),
            checklist_sha256: prepared.checklist.sha256(),
        },
        backend: backend.name().to_string(),
        issuer: first_seen.and_then(|s| s.issuer.clone()),
        client_id: first_seen.and_then(|s| s.client_id.clone()),
        operator: operator_name,
        signed_at: now(),
        complete: true,
        features,
        items,
        record_sha256: String::new(),
    };
    let blocking = !record.blocking_items().is_empty();
    if blocking && !options.partial {
        record.seal();
        return Ok(SignoffOutcome {
            record,
            written: None,
        });
    }
    record.complete = !blocking;
    record.seal();
    let signature = match &options.sign_with {
        Some(key) => Some(sign::sign(key, record.to_json().as_bytes())?),
        None => None,
    };
    let date = record.signed_at.get(..10).unwrap_or("undated").to_string();
    let paths = RecordPaths::for_date(&records, &date);
    let page = options.html.then(|| {
        crate::report::signoff::html(
            &record,
            &store::file_name(&paths.json),
            &mut StepSource::new(&root),
        )
    });
    store::write(
        &paths,
        &record,
        signature.as_deref(),
        page.as_deref(),
        options.force,
    )?;
    Ok(SignoffOutcome {
        record,
        written: Some(paths),
    })
}

fn evidence(result: &ScenarioResult, seen: Option<&Seen>, root: &Path) -> Evidence {
    let (verdict, reason) = match &result.outcome {
        Outcome::Passed => (Verdict::Passed, None),
        Outcome::Failed(reason) => (Verdict::Failed, Some(reason.clone())),
        Outcome::Skipped(reason) => (Verdict::Skipped, Some(reason.clone())),
    };
    let seen = seen.cloned().unwrap_or_default();
    Evidence {
        scenario: result.scenario.clone(),
        feature: binding::relative(&result.feature, root),
        line: result.line,
        backend: result.backend.clone(),
        result: verdict,
        reason,
        role: seen.role,
        error_code: seen.error_code,
        claims: seen.claims,
    }
}

/// `git config user.name` in the project, as git would sign a commit.
fn git_user_name(root: &Path) -> Option<String> {
    let output = std::process::Command::new("git")
        .args(["config", "user.name"])
        .current_dir(root)
        .output()
        .ok()?;
    let name = String::from_utf8_lossy(&output.stdout).trim().to_string();
    (output.status.success() && !name.is_empty()).then_some(name)
}

/// One runbook's findings from `signoff check`.
pub struct CheckReport {
    pub runbook: String,
    pub findings: Vec<Finding>,
}

/// `ssoproof signoff check [RUNBOOK...]`: the given runbooks, else `signoff.required`.
pub fn check(
    config: &LoadedConfig,
    runbooks: &[PathBuf],
    today: time::Date,
) -> Result<Vec<CheckReport>, SignoffRunError> {
    let root = absolute(&config.root);
    let signoff = &config.config.signoff;
    let named: Vec<PathBuf> = if runbooks.is_empty() {
        signoff.required.iter().map(|r| root.join(r)).collect()
    } else {
        runbooks.to_vec()
    };
    let allowed_signers = signoff
        .require_signature
        .then(|| signoff.allowed_signers.as_ref().map(|p| root.join(p)))
        .flatten();
    let policy = Policy {
        review_days: signoff.review_days,
        today,
        allowed_signers: allowed_signers.as_deref(),
    };
    let mut reports = Vec::new();
    for runbook in named {
        let prepared = prepare(config, &runbook)?;
        let findings = stale::check(
            &prepared.relative,
            &root.join(&signoff.dir),
            &prepared.checklist,
            &policy,
        );
        reports.push(CheckReport {
            runbook: prepared.relative,
            findings,
        });
    }
    Ok(reports)
}

/// Asks one `[manual]` item on `output` and reads the answer from `input` until it is yes, no
/// or skip, then an optional note (an empty line: none).
pub fn ask(
    item: &ItemFingerprint,
    input: &mut impl std::io::BufRead,
    output: &mut impl std::io::Write,
) -> std::io::Result<AnswerEntry> {
    let mut line = |prompt: &str| -> std::io::Result<String> {
        write!(output, "{prompt}")?;
        output.flush()?;
        let mut typed = String::new();
        if input.read_line(&mut typed)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("input ended before `{}` was answered", item.text),
            ));
        }
        Ok(typed.trim().to_string())
    };
    let mut prompt = format!("[manual] {}\n  checked? [y]es / [n]o / [s]kip: ", item.text);
    let answer = loop {
        match parse_answer(&line(&prompt)?) {
            Some(answer) => break answer,
            None => prompt = "  answer y, n or s: ".to_string(),
        }
    };
    let note = line("  note (optional, Enter for none): ").unwrap_or_default();
    Ok(AnswerEntry {
        answer,
        note: (!note.is_empty()).then_some(note),
    })
}

/// The `[manual]` answer parsed from what an operator typed: `y`/`yes`, `n`/`no`, `s`/`skip`.
pub fn parse_answer(typed: &str) -> Option<Answer> {
    match typed.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Some(Answer::Yes),
        "n" | "no" => Some(Answer::No),
        "s" | "skip" => Some(Answer::Skip),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_answers_are_read_leniently_and_anything_else_is_asked_again() {
        assert_eq!(parse_answer(" Y\n"), Some(Answer::Yes));
        assert_eq!(parse_answer("no"), Some(Answer::No));
        assert_eq!(parse_answer("skip"), Some(Answer::Skip));
        assert_eq!(parse_answer("maybe"), None);
    }

    #[test]
    fn asks_until_the_answer_is_yes_no_or_skip_then_takes_a_note() {
        let item = ItemFingerprint {
            id: "item-1".into(),
            text: "Store tokens is off. [manual]".into(),
            line: 3,
            sha256: String::new(),
            manual: true,
            scenarios: vec![],
        };
        let mut shown = Vec::new();
        let entry = ask(&item, &mut &b"maybe\nn\nnot yet\n"[..], &mut shown).unwrap();
        assert_eq!(
            entry,
            AnswerEntry {
                answer: Answer::No,
                note: Some("not yet".into())
            }
        );
        let shown = String::from_utf8(shown).unwrap();
        assert!(
            shown.starts_with("[manual] Store tokens is off. [manual]\n"),
            "{shown}"
        );
        assert!(shown.contains("answer y, n or s"), "{shown}");
        let entry = ask(&item, &mut &b"y\n\n"[..], &mut Vec::new()).unwrap();
        assert_eq!(entry.note, None);
        // A closed input is an error, never a loop.
        assert!(ask(&item, &mut &b""[..], &mut Vec::new()).is_err());
    }
}
