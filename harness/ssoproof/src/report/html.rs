//! The `--format html` page of `verify`, `coverage` and `signoff`: one self-contained file —
//! inline CSS and SVG, no script, and a Content-Security-Policy that lets the browser load
//! nothing — that prints to PDF for an audit file. Each command maps its report onto a [`Page`]
//! (runbooks → items with a status, the reason, and the proving scenarios with their steps);
//! [`render`] draws it. maud escapes every value it writes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use maud::{html, Markup, PreEscaped, DOCTYPE};
use ssoproof_lint::binding::FeatureFile;

use super::truncate;

const CSS: &str = include_str!("html.css");

/// Forbids every fetch: a page that tried to load an asset would show it as a console error
/// rather than reach the network.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    Skip,
    Manual,
    /// Bound to no scenario where a binding is expected.
    Unbound,
    /// Bound, but no result is known (coverage before any `verify`).
    NotRun,
}

impl Status {
    /// In the order the totals and the chart show them.
    pub const ALL: [Status; 6] = [
        Status::Pass,
        Status::Fail,
        Status::Skip,
        Status::Manual,
        Status::Unbound,
        Status::NotRun,
    ];

    /// Written on the page, so the status reads without colour too (a black-and-white print).
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
            Status::Manual => "MANUAL",
            Status::Unbound => "UNBOUND",
            Status::NotRun => "NOT RUN",
        }
    }

    fn class(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skip => "skip",
            Status::Manual => "manual",
            Status::Unbound => "unbound",
            Status::NotRun => "not-run",
        }
    }

    /// The chart's fill; the same colours as the CSS badges.
    fn colour(self) -> &'static str {
        match self {
            Status::Pass => "#1a7f37",
            Status::Fail => "#cf222e",
            Status::Skip => "#9a6700",
            Status::Manual => "#0969da",
            Status::Unbound => "#6e7781",
            Status::NotRun => "#8c959f",
        }
    }
}

/// One run's page.
#[derive(Debug, Clone)]
pub struct Page {
    /// The document title and heading, e.g. `ssoproof verify`.
    pub title: String,
    /// The run's verdict as a banner, e.g. `(Status::Fail, "verify: FAILED")`.
    pub verdict: Option<(Status, String)>,
    /// Facts about the run shown under the heading: label and value (backends, when, counts).
    pub facts: Vec<(String, String)>,
    pub runbooks: Vec<Runbook>,
    /// Further lists after the runbooks (coverage's scenarios no runbook cites).
    pub lists: Vec<List>,
}

#[derive(Debug, Clone)]
pub struct Runbook {
    /// As the other formats name it, e.g. `runbooks/keycloak.md`.
    pub file: String,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone)]
pub struct Item {
    /// What the item is, e.g. `checklist` or `troubleshooting`.
    pub kind: String,
    pub line: usize,
    pub text: String,
    pub status: Status,
    /// Why it failed or was skipped, or a note (an operator's answer).
    pub reason: Option<String>,
    pub proofs: Vec<Proof>,
}

/// A scenario that proves an item, with what it does and how it went.
#[derive(Debug, Clone)]
pub struct Proof {
    pub scenario: String,
    /// Where it is, e.g. `features/keycloak.feature:42 @kc-login`.
    pub place: String,
    pub results: Vec<RunResult>,
    /// What the run showed, label and value (a sign-off's role and error code); often none.
    pub evidence: Vec<(String, String)>,
    /// Its steps, or why they could not be read.
    pub steps: Result<ScenarioSteps, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunResult {
    pub backend: String,
    pub status: Status,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScenarioSteps {
    /// The Background steps that run first.
    pub background: Vec<String>,
    pub steps: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct List {
    pub title: String,
    pub entries: Vec<String>,
}

/// Reads feature files on demand, each once, for the steps of the scenarios a page shows.
pub struct StepSource {
    root: PathBuf,
    files: HashMap<PathBuf, Result<FeatureFile, String>>,
}

impl StepSource {
    /// Feature paths given to [`StepSource::steps`] are taken relative to `root`.
    pub fn new(root: &Path) -> StepSource {
        StepSource {
            root: root.to_path_buf(),
            files: HashMap::new(),
        }
    }

    /// The steps of the scenario of `feature` that `line` falls in: its own line, or for a
    /// Scenario Outline the line of an example row, which lies below the outline's.
    pub fn steps(&mut self, feature: &Path, line: usize) -> Result<ScenarioSteps, String> {
        let path = self.root.join(feature);
        let file = self
            .files
            .entry(path.clone())
            .or_insert_with(|| FeatureFile::load(&path).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(Clone::clone)?;
        file.scenarios
            .iter()
            .filter(|s| s.line <= line)
            .max_by_key(|s| s.line)
            .map(|s| ScenarioSteps {
                background: s.background.clone(),
                steps: s.steps.clone(),
            })
            .ok_or_else(|| format!("{}:{line}: no scenario there", feature.display()))
    }
}

/// The page as one HTML document.
pub fn render(page: &Page) -> String {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(CSP);
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (page.title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    h1 { (page.title) }
                    @if let Some((status, text)) = &page.verdict {
                        p class={ "verdict " (status.class()) } { (text) }
                    }
                    @if !page.facts.is_empty() {
                        dl class="facts" {
                            @for (label, value) in &page.facts {
                                dt { (label) }
                                dd { (value) }
                            }
                        }
                    }
                }
                @if !page.runbooks.is_empty() {
                    section class="overview" {
                        h2 { "Overview" }
                        (chart(&page.runbooks))
                        (totals_table(&page.runbooks))
                    }
                }
                @for (index, runbook) in page.runbooks.iter().enumerate() {
                    (runbook_section(index, runbook))
                }
                @for list in &page.lists {
                    section class="list" {
                        h2 { (list.title) " (" (list.entries.len()) ")" }
                        @if !list.entries.is_empty() {
                            ul { @for entry in &list.entries { li { (entry) } } }
                        }
                    }
                }
                footer { "ssoproof " (env!("CARGO_PKG_VERSION")) }
            }
        }
    };
    let mut text = markup.into_string();
    text.push('\n');
    text
}

/// How many items of a runbook have each status, in [`Status::ALL`]'s order.
fn counts(runbook: &Runbook) -> [usize; 6] {
    let mut counts = [0; 6];
    for item in &runbook.items {
        // ALL is in declaration order, so the discriminant is the index.
        counts[item.status as usize] += 1;
    }
    counts
}

/// The statuses any runbook has, so the table and legend leave out columns of zeros.
fn present(runbooks: &[Runbook]) -> Vec<(usize, Status)> {
    let all: Vec<[usize; 6]> = runbooks.iter().map(counts).collect();
    Status::ALL
        .iter()
        .enumerate()
        // Pass, fail, skip and manual always show: a zero there is news.
        .filter(|(i, _)| *i < 4 || all.iter().any(|c| c[*i] > 0))
        .map(|(i, s)| (i, *s))
        .collect()
}

const CHART_LABEL: f64 = 230.0;
const CHART_BAR: f64 = 420.0;
const CHART_ROW: f64 = 24.0;

/// A stacked bar per runbook, scaled to the longest runbook, with a legend.
fn chart(runbooks: &[Runbook]) -> Markup {
    let statuses = present(runbooks);
    let longest = runbooks
        .iter()
        .map(|r| r.items.len())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let width = CHART_LABEL + CHART_BAR + 50.0;
    let height = CHART_ROW * (runbooks.len() as f64 + 1.0) + 8.0;
    // Each bar's segments: status, count, left edge, width.
    let bars: Vec<Vec<(Status, usize, f64, f64)>> = runbooks
        .iter()
        .map(|runbook| {
            let c = counts(runbook);
            let mut x = CHART_LABEL;
            statuses
                .iter()
                .filter(|(i, _)| c[*i] > 0)
                .map(|(i, status)| {
                    let w = CHART_BAR * c[*i] as f64 / longest;
                    x += w;
                    (*status, c[*i], x - w, w)
                })
                .collect()
        })
        .collect();
    let legend = CHART_ROW * runbooks.len() as f64 + 8.0;
    html! {
        svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img"
            width=(px(width)) height=(px(height)) viewBox={ "0 0 " (px(width)) " " (px(height)) }
            aria-label="Items per runbook by status" {
            @for (row, (runbook, bar)) in runbooks.iter().zip(&bars).enumerate() {
                @let y = CHART_ROW * row as f64;
                // Cut to fit the label column; the totals table below has the whole name.
                text x=(px(CHART_LABEL - 8.0)) y=(px(y + 16.0)) text-anchor="end" { (truncate(&runbook.file, 34)) }
                @for (status, count, x, w) in bar {
                    rect x=(px(*x)) y=(px(y + 4.0)) width=(px(*w)) height="16" fill=(status.colour()) {
                        title { (runbook.file) ": " (count) " " (status.label()) }
                    }
                    @if *w >= 18.0 {
                        text class="count" x=(px(x + w / 2.0)) y=(px(y + 16.0)) text-anchor="middle" { (count) }
                    }
                }
                @let end = bar.last().map_or(CHART_LABEL, |(_, _, x, w)| x + w);
                text x=(px(end + 6.0)) y=(px(y + 16.0)) { (runbook.items.len()) }
            }
            @for (n, (_, status)) in statuses.iter().enumerate() {
                @let lx = CHART_LABEL + 90.0 * n as f64;
                rect x=(px(lx)) y=(px(legend + 4.0)) width="12" height="12" fill=(status.colour()) {}
                text x=(px(lx + 16.0)) y=(px(legend + 15.0)) { (status.label()) }
            }
        }
    }
}

/// An SVG coordinate, to a tenth: sums of fractions would otherwise print 17 digits.
fn px(value: f64) -> String {
    format!("{value:.1}")
}

fn totals_table(runbooks: &[Runbook]) -> Markup {
    let statuses = present(runbooks);
    html! {
        table class="totals" {
            thead {
                tr {
                    th { "Runbook" }
                    @for (_, status) in &statuses { th class=(status.class()) { (status.label()) } }
                    th { "Items" }
                }
            }
            tbody {
                @for (index, runbook) in runbooks.iter().enumerate() {
                    @let c = counts(runbook);
                    tr {
                        td { a href={ "#runbook-" (index + 1) } { (runbook.file) } }
                        @for (i, _) in &statuses { td class="number" { (c[*i]) } }
                        td class="number" { (runbook.items.len()) }
                    }
                }
            }
        }
    }
}

fn runbook_section(index: usize, runbook: &Runbook) -> Markup {
    let c = counts(runbook);
    html! {
        section class="runbook" id={ "runbook-" (index + 1) } {
            h2 { (runbook.file) }
            p class="summary" {
                @for (i, status) in Status::ALL.iter().enumerate() {
                    @if c[i] > 0 {
                        span class={ "status " (status.class()) } { (c[i]) " " (status.label()) }
                        " "
                    }
                }
                "— " (runbook.items.len()) @if runbook.items.len() == 1 { " item" } @else { " items" }
            }
            table class="items" {
                thead { tr { th { "Status" } th { "Line" } th { "Item" } } }
                tbody {
                    @for item in &runbook.items { (item_row(item)) }
                }
            }
        }
    }
}

fn item_row(item: &Item) -> Markup {
    html! {
        tr class={ "item " (item.status.class()) } {
            td { span class={ "status " (item.status.class()) } { (item.status.label()) } }
            td class="number" { (item.line) }
            td {
                span class="kind" { (item.kind) }
                " "
                span class="text" { (item.text) }
                @if let Some(reason) = &item.reason {
                    p class="reason" { (reason) }
                }
                // A failure's scenarios are open: what went wrong shows without a click.
                @for proof in &item.proofs { (proof_details(proof, item.status == Status::Fail)) }
            }
        }
    }
}

fn proof_details(proof: &Proof, open: bool) -> Markup {
    html! {
        details class="proof" open[open] {
            summary {
                "Scenario: " (proof.scenario)
                " "
                span class="place" { (proof.place) }
                @for result in &proof.results {
                    " "
                    span class={ "status " (result.status.class()) } {
                        (result.backend) ": " (result.status.label())
                    }
                }
            }
            @for (backend, reason) in proof.results.iter().filter_map(|r| Some((&r.backend, r.reason.as_ref()?))) {
                p class="reason" { (backend) ": " (reason) }
            }
            @if !proof.evidence.is_empty() {
                dl class="facts evidence" {
                    @for (label, value) in &proof.evidence {
                        dt { (label) }
                        dd { (value) }
                    }
                }
            }
            @match &proof.steps {
                Ok(steps) => {
                    ol class="steps" {
                        @for step in &steps.background { li class="background" { (step) } }
                        @for step in &steps.steps { li { (step) } }
                    }
                }
                Err(why) => { p class="reason" { "steps unavailable: " (why) } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_in_declaration_order_so_counts_index_by_discriminant() {
        for (index, status) in Status::ALL.iter().enumerate() {
            assert_eq!(*status as usize, index, "{status:?}");
        }
    }

    #[test]
    fn a_long_runbook_name_is_cut_in_the_chart_and_whole_in_the_table() {
        let file = format!("runbooks/{}.md", "very-long-name-".repeat(4));
        let runbooks = [Runbook {
            file: file.clone(),
            items: Vec::new(),
        }];
        let chart = chart(&runbooks).into_string();
        assert!(
            chart.contains(">runbooks/very-long-name-very-long…</text>"),
            "{chart}"
        );
        assert!(totals_table(&runbooks).into_string().contains(&file));
    }
}
