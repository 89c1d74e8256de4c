//! SARIF 2.1.0, for code-scanning dashboards: one rule per case run, one result per case that
//! did not pass, located at the application under test. Tokens are never written.

use serde_json::{json, Value};

use crate::{ProbeReport, Verdict};

pub fn render(report: &ProbeReport) -> String {
    let rules: Vec<Value> = report
        .cases
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "shortDescription": {"text": c.title},
                "fullDescription": {"text": c.meaning},
                "help": {"text": c.fix},
            })
        })
        .collect();
    let results: Vec<Value> = report
        .cases
        .iter()
        .enumerate()
        .filter(|(_, c)| c.verdict() != Verdict::Pass)
        .map(|(index, c)| {
            let level = match c.verdict() {
                Verdict::Error => "warning",
                _ => "error",
            };
            json!({
                "ruleId": c.id,
                "ruleIndex": index,
                "level": level,
                "message": {"text": format!(
                    "{}: {} ({}). {}",
                    c.verdict().label(), c.title, super::observation(c), c.fix
                )},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": report.target}}}],
            })
        })
        .collect();
    let sarif = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "ssoproof probe",
                "semanticVersion": report.tool_version,
                "rules": rules,
            }},
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&sarif).expect("plain data always serializes");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use crate::report::{render, tests::sample, Format};

    #[test]
    fn one_result_per_failing_case() {
        let text = render(&sample(), Format::Sarif, true);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let results = value["runs"][0]["results"].as_array().unwrap();
        let ids: Vec<&str> = results
            .iter()
            .map(|r| r["ruleId"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["alg-none", "key-rotation", "jku-header"]);
        assert_eq!(results[0]["ruleIndex"], 1);
        assert_eq!(results[2]["level"], "warning");
        assert!(!text.contains("eyJ"));
    }
}
