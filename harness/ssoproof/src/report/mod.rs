//! Rendering the harness's results: `ssoproof verify`'s per-runbook report and `ssoproof
//! coverage`, as text, JSON or an HTML page (`html`), and a sign-off record's page. (Lint
//! output lives with the linter, in `ssoproof_lint::report`; a record's Markdown with the
//! record, in `ssoproof_signoff`.)

pub mod coverage;
pub mod html;
pub mod signoff;
pub mod verify;

/// `text` cut to `max` characters, the last an ellipsis when anything was cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max - 1).collect();
    format!("{cut}…")
}
