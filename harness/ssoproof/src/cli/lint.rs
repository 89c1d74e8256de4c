//! `ssoproof lint`: the linter's own command line (`ssoproof_lint::cli`), so that `ssoproof
//! lint` and the pre-commit hook's `ssoproof-lint` behave identically.

use std::path::PathBuf;

pub use ssoproof_lint::cli::LintArgs;

pub fn run(config: Option<PathBuf>, args: LintArgs) -> anyhow::Result<u8> {
    Ok(ssoproof_lint::cli::run(config, args)?)
}
