//! JUnit XML: one test case per probe case; an accepted forgery or a refused valid token is a
//! failure, an undecided case an error. Tokens are never written.

use std::fmt::Write;

use quick_xml::escape::escape;

use crate::{ProbeReport, Verdict};

pub fn render(report: &ProbeReport) -> String {
    let tests = report.cases.len();
    let failures = report.count(Verdict::Vulnerable) + report.count(Verdict::Broken);
    let errors = report.count(Verdict::Error);
    let suite = escape(format!("ssoproof probe {}", report.target).as_str()).into_owned();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"{suite}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\">"
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{suite}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\">"
    );
    for case in &report.cases {
        let _ = write!(
            out,
            "    <testcase classname=\"ssoproof.probe\" name=\"{}\"",
            escape(case.id.as_str())
        );
        let verdict = case.verdict();
        let what =
            escape(format!("{}: {}", case.title, super::observation(case)).as_str()).into_owned();
        let advice =
            escape(format!("{}\nhow to fix it: {}", case.meaning, case.fix).as_str()).into_owned();
        match verdict {
            Verdict::Pass => out.push_str("/>\n"),
            Verdict::Vulnerable | Verdict::Broken => {
                let _ = writeln!(
                    out,
                    ">\n      <failure type=\"{}\" message=\"{what}\">{advice}</failure>\n    </testcase>",
                    verdict.label().to_ascii_lowercase()
                );
            }
            Verdict::Error => {
                let _ = writeln!(
                    out,
                    ">\n      <error message=\"{what}\">{}</error>\n    </testcase>",
                    escape(case.fix.as_str())
                );
            }
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use crate::report::{render, tests::sample, Format};

    #[test]
    fn failures_and_errors_are_counted_and_escaped() {
        let text = render(&sample(), Format::Junit, true);
        assert!(
            text.contains("tests=\"5\" failures=\"2\" errors=\"1\""),
            "{text}"
        );
        assert!(text.contains("name=\"alg-none\">\n      <failure type=\"vulnerable\""));
        assert!(
            text.contains("&lt;unsigned&gt; &amp; &quot;quoted&quot;"),
            "{text}"
        );
        assert!(text.contains("<error message="), "{text}");
        assert!(!text.contains("eyJ"), "JUnit never carries tokens");
        // Well-formed: quick-xml reads it to the end.
        let mut reader = quick_xml::Reader::from_str(&text);
        loop {
            match reader.read_event().unwrap() {
                quick_xml::events::Event::Eof => break,
                _ => continue,
            }
        }
    }
}
