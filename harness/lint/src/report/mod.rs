//! Rendering lint results: for people (rustc-style) and for machines (JSON, JUnit, SARIF,
//! GitHub workflow annotations). Every renderer is a pure function of the report, so the
//! output can be pinned by snapshot tests.

mod github;
mod human;
mod json;
mod junit;
mod sarif;

use crate::LintReport;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Format {
    Human,
    Json,
    Junit,
    Sarif,
    Github,
}
/// Renders a report; `color` only affects the human format.
pub fn render(report: &LintReport, format: Format, color: bool) -> String {
    match format {
        Format::Human => human::render(report, color),
        Format::Json => json::render(report),
        Format::Junit => junit::render(report),
        Format::Sarif => sarif::render(report),
        Format::Github => github::render(report),
    }
}
