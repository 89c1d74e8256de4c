//! `ssoproof signoff RUNBOOK` and `ssoproof signoff check`: progress on stderr (a bar on a
//! terminal, plain lines elsewhere), `[manual]` questions on the terminal, the verdict on stdout.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use ssoproof::backend::BackendKind;
use ssoproof::scenario::{Outcome, ScenarioResult};
use ssoproof::signoff::{self, Operator, SignoffOptions};
use ssoproof_config::IsoDate;
use ssoproof_signoff::store::{AnswerEntry, RecordPaths};
use ssoproof_signoff::{ItemFingerprint, Verdict};

use super::{load_config, FOUND_ERRORS, OK};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SignoffArgs {
    #[command(subcommand)]
    command: Option<SignoffCommand>,
    /// The runbook to sign off (its kind must have `bindings: true`).
    #[arg(required = true, value_name = "RUNBOOK")]
    runbook: Option<PathBuf>,
    /// Where the bound scenarios run.
    #[arg(long, value_enum, default_value_t = BackendKind::Emulator)]
    backend: BackendKind,
    /// Answers to the `[manual]` items (YAML: item text or id → {answer: yes|no|skip, note: …}).
    #[arg(long, value_name = "FILE")]
    answers: Option<PathBuf>,
    /// Who signs (default: git's `user.name`).
    #[arg(long, value_name = "NAME")]
    operator: Option<String>,
    /// Write the record, marked incomplete, even when items failed, were skipped or answered no.
    #[arg(long)]
    partial: bool,
    /// Replace a record of the same day.
    #[arg(long)]
    force: bool,
    /// Sign the JSON evidence with this SSH private key (`ssh-keygen -Y sign`).
    #[arg(long, value_name = "KEY")]
    sign_with: Option<PathBuf>,
    /// Write under this folder instead of `signoff.dir`.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// The record's rendering for people: `md` (always written; `signoff check` holds it to
    /// the JSON) or `html`, which also writes `<date>.html`, a page not checked as evidence.
    #[arg(long, value_enum, default_value_t = RecordFormat::Md)]
    format: RecordFormat,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum RecordFormat {
    Md,
    Html,
}

#[derive(Subcommand)]
enum SignoffCommand {
    /// Whether each runbook's latest sign-off still covers it (default: `signoff.required`).
    Check(CheckArgs),
}

#[derive(Args)]
struct CheckArgs {
    runbooks: Vec<PathBuf>,
    /// The date the review period is counted to (default: the HEAD commit's date).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = IsoDate::parse)]
    today: Option<IsoDate>,
}

pub fn run(config: Option<PathBuf>, args: SignoffArgs) -> anyhow::Result<u8> {
    let config = load_config(config)?;
    let edge = |e: signoff::SignoffRunError| anyhow::anyhow!("[{}] {e}", e.code());
    if let Some(SignoffCommand::Check(check)) = args.command {
        let today = ssoproof_lint::today::today(&config.root, check.today.map(|d| d.0)).0;
        let reports = signoff::check(&config, &check.runbooks, today).map_err(edge)?;
        let mut out = std::io::stdout().lock();
        let mut stale = 0;
        for report in &reports {
            if report.findings.is_empty() {
                writeln!(out, "{}: signed off", report.runbook)?;
            }
            for finding in &report.findings {
                stale += 1;
                writeln!(
                    out,
                    "{}:{}: [{}] {}",
                    report.runbook, finding.line, finding.code, finding.message
                )?;
            }
        }
        writeln!(
            out,
            "signoff check: {} runbook(s), {stale} finding(s)",
            reports.len()
        )?;
        return Ok(if stale == 0 { OK } else { FOUND_ERRORS });
    }
    let runbook = args
        .runbook
        .expect("clap requires RUNBOOK without a subcommand");
    let options = SignoffOptions {
        runbook: runbook.clone(),
        backend: args.backend,
        answers: args.answers,
        operator: args.operator,
        partial: args.partial,
        force: args.force,
        sign_with: args.sign_with,
        out: args.out,
        html: args.format == RecordFormat::Html,
    };
    let terminal = std::io::stderr().is_terminal();
    let bar = if terminal {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg}")
                .expect("a valid template"),
        );
        Some(bar)
    } else {
        None
    };
    let started_bar = bar.clone();
    let started = move |total: usize| match &started_bar {
        Some(bar) => bar.set_length(total as u64),
        None => eprintln!("signoff: running {total} scenario(s)"),
    };
    let finished_bar = bar.clone();
    let finished = Arc::new(
        move |result: &ScenarioResult, _: Option<&ssoproof::scenario::RunbookWorld>| {
            let label = match &result.outcome {
                Outcome::Passed => "PASS",
                Outcome::Failed(_) => "FAIL",
                Outcome::Skipped(_) => "SKIP",
            };
            match &finished_bar {
                Some(bar) => {
                    bar.inc(1);
                    bar.set_message(format!("{label} {}", result.scenario));
                }
                None => eprintln!("  {label} {}", result.scenario),
            }
        },
    );
    let mut ask_terminal = |item: &ItemFingerprint| ask(item, bar.as_ref());
    let interactive = std::io::stdin().is_terminal();
    let operator = Operator {
        started: &started,
        finished: Some(finished),
        ask: if interactive {
            Some(&mut ask_terminal)
        } else {
            None
        },
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let outcome = runtime.block_on(signoff::signoff(&config, &options, operator));
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let outcome = outcome.map_err(edge)?;
    let mut out = std::io::stdout().lock();
    let blocking = outcome.record.blocking_items();
    for item in &blocking {
        let what = match item.result {
            Verdict::Failed if item.answer.is_some() => "answered no",
            Verdict::Failed => "failed",
            _ => "skipped",
        };
        writeln!(
            out,
            "  {what}: {} (line {}){}",
            item.item.text,
            item.item.line,
            item.reason
                .as_ref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        )?;
    }
    match &outcome.written {
        Some(paths) if outcome.record.complete => {
            writeln!(
                out,
                "signed off {} by {}: {}",
                outcome.record.runbook.path,
                outcome.record.operator,
                paths.markdown.display()
            )?;
            page_line(&mut out, &options, paths)?;
            Ok(OK)
        }
        Some(paths) => {
            writeln!(
                out,
                "not signed off: {} item(s) did not pass; incomplete record written (--partial): {}",
                blocking.len(),
                paths.markdown.display()
            )?;
            page_line(&mut out, &options, paths)?;
            Ok(FOUND_ERRORS)
        }
        None => {
            writeln!(
                out,
                "not signed off: {} item(s) did not pass (listed above); nothing written (--partial writes an incomplete record)",
                blocking.len()
            )?;
            Ok(FOUND_ERRORS)
        }
    }
}

/// Where the page went, when one was asked for.
fn page_line(
    out: &mut impl Write,
    options: &SignoffOptions,
    paths: &RecordPaths,
) -> std::io::Result<()> {
    if options.html {
        writeln!(out, "page: {}", paths.html.display())?;
    }
    Ok(())
}

/// Asks one `[manual]` item on the terminal, with the progress bar out of the way.
fn ask(item: &ItemFingerprint, bar: Option<&ProgressBar>) -> std::io::Result<AnswerEntry> {
    let prompt = || signoff::ask(item, &mut std::io::stdin().lock(), &mut std::io::stderr());
    match bar {
        Some(bar) => bar.suspend(prompt),
        None => prompt(),
    }
}
