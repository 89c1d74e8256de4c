//! `ssoproof-lint`: the runbook linter alone, for the pre-commit hook.
//!
//! The repository root is this package (so that pre-commit's `cargo install --path .` finds a
//! package, not a virtual manifest), and it depends on nothing but the lint library: installing
//! the hook compiles the linter, not the emulators, clouds or cucumber. Same arguments and output
//! as `ssoproof lint`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use ssoproof_lint::cli::{self, LintArgs};

#[derive(Parser)]
#[command(
    name = "ssoproof-lint",
    version,
    about = "Check Markdown runbooks: links, anchors, review dates, layout, checklists, index, bindings"
)]
struct Cli {
    /// The project configuration (default: `ssoproof.yaml` in this folder or an ancestor).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(flatten)]
    args: LintArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli::run(cli.config, cli.args) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(cli::TROUBLE)
        }
    }
}
