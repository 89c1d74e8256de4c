//! The human report: one row per case, totals, then what each failing case means and how to
//! fix it, so the reader does not need the documentation to act on it.

use std::fmt::Write;

use crate::{ProbeReport, Verdict};

pub fn render(report: &ProbeReport, show_tokens: bool) -> String {
    let mut out = String::new();
    let _ = match report.probe {
        crate::ProbeKind::Api | crate::ProbeKind::App => writeln!(
            out,
            "ssoproof probe {} {} — issuer {} ({})\n",
            if report.probe == crate::ProbeKind::Api {
                "api"
            } else {
                "app"
            },
            report.target,
            report.issuer,
            report.vendor
        ),
        // A SCIM probe has no issuer; its vendor is the client dialect it speaks.
        crate::ProbeKind::Scim => writeln!(
            out,
            "ssoproof probe scim {} — dialect {}\n",
            report.target, report.vendor
        ),
    };
    let rows: Vec<[String; 4]> = report
        .cases
        .iter()
        .map(|c| {
            [
                c.id.clone(),
                c.observed_label().to_string(),
                c.verdict().label().to_string(),
                super::observation(c),
            ]
        })
        .collect();
    let header = ["CASE", "OBSERVED", "VERDICT", "DETAIL"];
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([header[i].len()])
            .max()
            .unwrap_or(0)
    };
    let widths = [width(0), width(1), width(2)];
    let mut line = |cells: [&str; 4]| {
        let _ = writeln!(
            out,
            "{:w0$}  {:w1$}  {:w2$}  {}",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
    };
    line(header);
    for row in &rows {
        line([&row[0], &row[1], &row[2], &row[3]]);
    }
    let _ = writeln!(
        out,
        "\n{} cases: {} pass, {} vulnerable, {} broken, {} error",
        report.cases.len(),
        report.count(Verdict::Pass),
        report.count(Verdict::Vulnerable),
        report.count(Verdict::Broken),
        report.count(Verdict::Error),
    );
    for case in &report.cases {
        let verdict = case.verdict();
        if verdict == Verdict::Pass {
            continue;
        }
        let _ = writeln!(out, "\n{} {}: {}", verdict.label(), case.id, case.title);
        match verdict {
            Verdict::Error => {}
            _ => {
                let _ = writeln!(out, "  what it means: {}", case.meaning);
            }
        }
        let _ = writeln!(out, "  how to fix it: {}", case.fix);
        if show_tokens {
            if let Some(token) = &case.token {
                let _ = writeln!(out, "  token sent: {}", token.expose());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::report::{render, tests::sample, Format};

    #[test]
    fn table_explains_failures_and_hides_tokens() {
        let text = render(&sample(), Format::Table, false);
        insta::assert_snapshot!(text);
        assert!(!text.contains("eyJ"), "{text}");
        let shown = render(&sample(), Format::Table, true);
        assert!(shown.contains("token sent: eyJhbGciOiJub25lIn0"), "{shown}");
    }
}
