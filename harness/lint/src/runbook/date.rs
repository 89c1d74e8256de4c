//! `> Last reviewed: YYYY-MM-DD` right under the title, not in the future, not stale.

use std::sync::LazyLock;

use regex::Regex;
use time::Date;

use super::{line_position, Runbook};
use crate::diagnostic::{Diagnostic, FILE_START};
use crate::rules::{Rule, Severity};
use ssoproof_config::{IsoDate, ReviewConfig, ReviewException};

/// The exact line certctl's doc-rot detector accepts: trailing text fails.
static DATE_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^>\s*Last reviewed:\s*(\d{4}-\d{2}-\d{2})\s*$").expect("valid"));

pub struct DatePolicy<'a> {
    pub today: Date,
    pub review: &'a ReviewConfig,
    pub exceptions: &'a [ReviewException],
}

pub fn check(runbook: &Runbook, policy: &DatePolicy, out: &mut Vec<Diagnostic>) {
    let exception = policy
        .exceptions
        .iter()
        .find(|e| e.path.matches_path(runbook.relative));
    if let Some(exception) = exception {
        if exception.expires.0 >= policy.today {
            return;
        }
        out.push(
            Diagnostic::new(
                Rule::ExceptionExpired,
                FILE_START,
                format!(
                    "the review-date exception for `{}` expired on {}",
                    exception.path.as_str(),
                    exception.expires
                ),
            )
            .help("review the runbook and remove the exception, or extend it with a new justification"),
        );
    }

    let Some(title) = runbook.title() else {
        // layout/missing-title reports this; without a title there is no "right under" it.
        return;
    };
    // Comments and blank lines may come between the title and the date line: GitHub shows
    // neither.
    let (line, text) = runbook
        .next_rendered(title.last_line(runbook))
        .unwrap_or((title.last_line(runbook), ""));
    let expected = format!("> Last reviewed: {}", IsoDate(policy.today));

    if !looks_like_date_line(text) {
        let under = title.under();
        let elsewhere = (1..=runbook.line_count()).find(|&n| looks_like_date_line(runbook.line(n)));
        let help = match elsewhere {
            Some(n) => format!("line {n} has a last-reviewed line: move it right {under}"),
            None => format!("add `{expected}` {}, once reviewed", title.add_at()),
        };
        out.push(
            Diagnostic::new(
                Rule::DateMissing,
                title.position(runbook),
                format!("no `> Last reviewed:` line {under}"),
            )
            .help(help),
        );
        return;
    }
    let position = line_position(line, text);
    let Some(date) = DATE_LINE
        .captures(text)
        .and_then(|c| IsoDate::parse(&c[1]).ok())
    else {
        out.push(
            Diagnostic::new(
                Rule::DateMalformed,
                position,
                format!("`{}` is not a valid review line", text.trim()),
            )
            .help(format!(
                "write exactly `{expected}`: a real date and nothing after it"
            )),
        );
        return;
    };
    let age = (policy.today - date.0).whole_days();
    if age < 0 {
        out.push(
            Diagnostic::new(
                Rule::DateFuture,
                position,
                format!(
                    "last reviewed {date}, which is after today ({})",
                    IsoDate(policy.today)
                ),
            )
            .help("use the date the review actually happened"),
        );
        return;
    }
    let severity = if age >= i64::from(policy.review.fail_after_days) {
        Severity::Error
    } else if age >= i64::from(policy.review.warn_after_days) {
        Severity::Warning
    } else {
        return;
    };
    let threshold = match severity {
        Severity::Error => policy.review.fail_after_days,
        Severity::Warning => policy.review.warn_after_days,
    };
    out.push(
        Diagnostic::new(
            Rule::DateStale,
            position,
            format!("last reviewed {date}, {age} days ago (limit {threshold} days)"),
        )
        .severity(severity)
        .help(format!(
            "review the runbook against the IdP and the application, then set `{expected}`"
        )),
    );
}

fn looks_like_date_line(text: &str) -> bool {
    let text = text.trim_start();
    text.starts_with('>') && text.to_ascii_lowercase().contains("last reviewed")
}
