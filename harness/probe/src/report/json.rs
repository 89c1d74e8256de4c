//! JSON: the report as serialized, each case with its verdict, tokens redacted unless asked.

use serde_json::{json, Value};

use crate::ProbeReport;

pub fn render(report: &ProbeReport, show_tokens: bool) -> String {
    let cases: Vec<Value> = report
        .cases
        .iter()
        .map(|case| {
            let mut value = serde_json::to_value(case).expect("plain data always serializes");
            value["verdict"] = json!(case.verdict());
            if show_tokens {
                value["token"] = json!(case.token.as_ref().map(|t| t.expose()));
            }
            value
        })
        .collect();
    let mut value = serde_json::to_value(report).expect("plain data always serializes");
    value["cases"] = Value::Array(cases);
    value["passed"] = json!(report.passed());
    let mut text = serde_json::to_string_pretty(&value).expect("plain data always serializes");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use crate::report::{render, tests::sample, Format};

    #[test]
    fn cases_carry_verdicts_and_tokens_only_when_asked() {
        let text = render(&sample(), Format::Json, false);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["passed"], false);
        assert_eq!(value["cases"][1]["id"], "alg-none");
        assert_eq!(value["cases"][1]["verdict"], "vulnerable");
        assert_eq!(value["cases"][1]["observed"], "accepted");
        assert_eq!(value["cases"][3]["verdict"], "broken");
        assert_eq!(
            value["cases"][4]["hop"],
            "POST http://127.0.0.1:8080/v1/chat"
        );
        assert_eq!(value["cases"][1]["token"], "[redacted]");
        assert!(!text.contains("eyJ"));
        let shown: serde_json::Value =
            serde_json::from_str(&render(&sample(), Format::Json, true)).unwrap();
        assert_eq!(
            shown["cases"][1]["token"],
            "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0."
        );
    }
}
