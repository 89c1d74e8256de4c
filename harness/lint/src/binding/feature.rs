//! Feature files as the bindings see them: scenarios, their tags and lines.

use std::path::{Path, PathBuf};

use gherkin::{Feature, GherkinEnv};

#[derive(Debug, Clone)]
pub struct ScenarioRef {
    pub name: String,
    /// Tags without the leading `@`, including those inherited from the feature and rule.
    pub tags: Vec<String>,
    pub line: usize,
    /// How many times it runs: the rows of a Scenario Outline's examples, else 1.
    pub runs: usize,
    /// The steps of the feature's and rule's `Background`, which run first, as written (see
    /// `steps`).
    pub background: Vec<String>,
    /// Its steps as written: keyword and text, then any data table's rows or doc string on
    /// lines of their own. An outline's keep their `<placeholders>`.
    pub steps: Vec<String>,
    /// What a sign-off records of it (see [`scenario_hash`]).
    pub sha256: String,
}

#[derive(Debug, Clone)]
pub struct FeatureFile {
    pub path: PathBuf,
    pub name: String,
    pub scenarios: Vec<ScenarioRef>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum FeatureError {
    #[error("cannot read {}: {message}", path.display())]
    Read { path: PathBuf, message: String },
    #[error("{}:{line}:{column}: not valid Gherkin: {message}", path.display())]
    Syntax {
        path: PathBuf,
        /// 1-based, always a line of the file.
        line: usize,
        column: usize,
        message: String,
    },
}

impl FeatureFile {
    /// Reads and parses a feature file. Anything but a regular UTF-8 file is a read error (a
    /// FIFO would block the read), and tables are held to the reference parser's rule that
    /// every row has as many cells as the first, which the `gherkin` crate does not hold them to.
    pub fn load(path: &Path) -> Result<FeatureFile, FeatureError> {
        Ok(FeatureFile::from_feature(&parse(path)?, path))
    }

    pub fn from_feature(feature: &Feature, path: &Path) -> FeatureFile {
        // The backgrounds that run before a scenario: the feature's, then its rule's (`None`
        // where there is none, which the hash tells apart from an empty one).
        let scenario = |s: &gherkin::Scenario,
                        inherited: &[String],
                        backgrounds: &[Option<&gherkin::Background>]| {
            let tags: Vec<String> = inherited.iter().chain(&s.tags).cloned().collect();
            ScenarioRef {
                name: s.name.clone(),
                sha256: scenario_hash(s, &tags, backgrounds),
                tags,
                line: s.position.line,
                runs: s
                    .examples
                    .iter()
                    .map(|e| {
                        e.table
                            .as_ref()
                            .map_or(0, |t| t.rows.len().saturating_sub(1))
                    })
                    .sum::<usize>()
                    .max(1),
                background: backgrounds
                    .iter()
                    .flatten()
                    .flat_map(|b| &b.steps)
                    .map(step_text)
                    .collect(),
                steps: s.steps.iter().map(step_text).collect(),
            }
        };
        let outer = feature.background.as_ref();
        let mut scenarios: Vec<ScenarioRef> = feature
            .scenarios
            .iter()
            .map(|s| scenario(s, &feature.tags, &[outer]))
            .collect();
        for rule in &feature.rules {
            let inherited: Vec<String> = feature.tags.iter().chain(&rule.tags).cloned().collect();
            let backgrounds = [outer, rule.background.as_ref()];
            scenarios.extend(
                rule.scenarios
                    .iter()
                    .map(|s| scenario(s, &inherited, &backgrounds)),
            );
        }
        FeatureFile {
            path: path.to_path_buf(),
            name: feature.name.clone(),
            scenarios,
        }
    }

    /// Scenarios carrying the tag `id` (without `@`).
    pub fn tagged(&self, id: &str) -> Vec<&ScenarioRef> {
        self.scenarios
            .iter()
            .filter(|s| s.tags.iter().any(|t| t == id))
            .collect()
    }
}

/// A step as written: `Keyword text`, then its data table's rows or its doc string.
fn step_text(step: &gherkin::Step) -> String {
    let mut text = format!("{} {}", step.keyword.trim(), step.value);
    for row in step.table.iter().flat_map(|t| &t.rows) {
        let cells: Vec<String> = row.iter().map(|c| c.replace('|', "\\|")).collect();
        text.push_str(&format!("\n| {} |", cells.join(" | ")));
    }
    if let Some(doc) = &step.docstring {
        text.push_str(&format!("\n\"\"\"\n{}\n\"\"\"", doc.trim_matches('\n')));
    }
    text
}

/// Reads and parses a feature file (see [`FeatureFile::load`]).
fn parse(path: &Path) -> Result<Feature, FeatureError> {
    let text = ssoproof_config::fs::read_to_string(path).map_err(|e| FeatureError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let syntax = |(line, column), message| FeatureError::Syntax {
        path: path.to_path_buf(),
        line,
        column,
        message,
    };
    if let Some((position, message)) = ragged_row(&text) {
        return Err(syntax(position, message));
    }
    Feature::parse(&text, GherkinEnv::default())
        .map_err(|e| syntax(parse_error_position(&e, &text), expectation(&text, &e)))
}

/// The SHA-256 of what a scenario runs: the backgrounds before it, its keyword, name and tags
/// (inherited ones included), its steps (keyword, text, doc string, table) and its examples.
/// Descriptions, comments, blank lines and indentation are left out, and so is every other
/// scenario of the file: editing one scenario changes only its own hash.
fn scenario_hash(
    s: &gherkin::Scenario,
    tags: &[String],
    backgrounds: &[Option<&gherkin::Background>],
) -> String {
    use serde_json::json;
    let steps = |steps: &[gherkin::Step]| -> Vec<serde_json::Value> {
        steps
            .iter()
            .map(|s| {
                json!([
                    s.keyword,
                    s.value,
                    s.docstring,
                    s.table.as_ref().map(|t| &t.rows)
                ])
            })
            .collect()
    };
    let backgrounds: Vec<_> = backgrounds
        .iter()
        .map(|b| b.map(|b| steps(&b.steps)))
        .collect();
    let examples: Vec<_> = s
        .examples
        .iter()
        .map(|e| json!([e.tags, e.table.as_ref().map(|t| &t.rows)]))
        .collect();
    let canonical = json!([
        backgrounds,
        s.keyword,
        s.name,
        tags,
        steps(&s.steps),
        examples
    ]);
    ssoproof_signoff::sha256_hex(canonical.to_string())
}

/// Where a parse error is, as a line and column of the file. The crate's error exposes its
/// position only in its message (`Error at 3:5: …`), and counts a line past the end when the
/// file ends early (it parses the text with a newline added): that is moved to the end of the
/// last line.
fn parse_error_position(error: &gherkin::ParseError, text: &str) -> (usize, usize) {
    let message = error.to_string();
    let mut numbers = message
        .strip_prefix("Error at ")
        .and_then(|rest| rest.split(':').next().zip(rest.split(':').nth(1)))
        .map(|(l, c)| (l.trim().parse().unwrap_or(1), c.trim().parse().unwrap_or(1)))
        .unwrap_or((1, 1));
    let lines = text.lines().count().max(1);
    if numbers.0 > lines {
        let last = text.lines().last().unwrap_or_default();
        numbers = (lines, last.chars().count() + 1);
    }
    numbers
}

/// What the parser wanted, in words, with the line it stopped at.
fn expectation(text: &str, error: &gherkin::ParseError) -> String {
    let (line, _) = parse_error_position(error, text);
    let found = text.lines().nth(line - 1).unwrap_or_default().trim();
    let found = if found.is_empty() {
        "the end of the file or an empty line".to_string()
    } else {
        format!("`{}`", found.chars().take(60).collect::<String>())
    };
    format!(
        "found {found} where a Gherkin line was expected: a keyword line (Feature:, Rule:, \
         Background:, Scenario:, Scenario Outline:, Examples:), a step (Given, When, Then, And, \
         But), a table row (`| … |`), a doc string, a tag (`@…`) or a comment (`# …`)"
    )
}

/// The first table row whose cell count differs from the first row of its table: its position
/// and the message. Read from the text: the `gherkin` crate cuts a longer row to the first
/// row's width without a word, and reports a shorter one past the end of the file.
fn ragged_row(text: &str) -> Option<((usize, usize), String)> {
    let mut doc_string: Option<&str> = None;
    let mut width: Option<usize> = None;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(delimiter) = doc_string {
            if trimmed.starts_with(delimiter) {
                doc_string = None;
            }
            continue;
        }
        if let Some(delimiter) = ["\"\"\"", "```"]
            .into_iter()
            .find(|d| trimmed.starts_with(d))
        {
            doc_string = Some(delimiter);
            width = None;
        } else if trimmed.starts_with('|') {
            let cells = cells(trimmed);
            match width {
                None => width = Some(cells),
                Some(first) if first != cells => {
                    let column = line.len() - trimmed.len() + 1;
                    return Some((
                        (index + 1, column),
                        format!(
                            "this table row has {cells} cells and the table's first row {first}; give every row as many cells as the first"
                        ),
                    ));
                }
                Some(_) => {}
            }
        } else if !trimmed.is_empty() && !trimmed.starts_with('#') {
            // Comments and empty lines may stand between rows; anything else ends the table.
            width = None;
        }
    }
    None
}

/// The cells of a table row: its unescaped `|`s, less the closing one.
fn cells(row: &str) -> usize {
    let mut pipes = 0usize;
    let mut chars = row.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '|' => pipes += 1,
            _ => {}
        }
    }
    if row.trim_end().ends_with('|') {
        pipes.saturating_sub(1)
    } else {
        pipes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_scenarios_with_inherited_tags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.feature");
        std::fs::write(
            &path,
            "@kc\nFeature: X\n\n  @one @emulator\n  Scenario: First\n    Given a\n\n  Rule: R\n    @two\n    Scenario: Second\n      Given b\n",
        )
        .unwrap();
        let file = FeatureFile::load(&path).unwrap();
        assert_eq!(file.scenarios.len(), 2);
        assert_eq!(file.tagged("one")[0].name, "First");
        assert_eq!(file.tagged("one")[0].line, 5);
        assert_eq!(file.tagged("two")[0].tags, ["kc", "two"]);
        assert_eq!(file.tagged("kc").len(), 2);
    }

    #[test]
    fn keeps_each_scenarios_steps_with_the_backgrounds_that_run_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.feature");
        std::fs::write(
            &path,
            "Feature: X
  Background:
    Given the realm

  Scenario: First
    When alice signs in
      | user  | group |
      | alice | admin |
    Then she sees
      \"\"\"
      welcome
      \"\"\"

  Rule: R
    Background:
      Given a rule setup
    Scenario: Second
      But nothing else
",
        )
        .unwrap();
        let file = FeatureFile::load(&path).unwrap();
        let (first, second) = (&file.scenarios[0], &file.scenarios[1]);
        assert_eq!(first.background, ["Given the realm"]);
        assert_eq!(
            first.steps,
            [
                "When alice signs in\n| user | group |\n| alice | admin |",
                "Then she sees\n\"\"\"\nwelcome\n\"\"\""
            ]
        );
        assert_eq!(second.background, ["Given the realm", "Given a rule setup"]);
        assert_eq!(second.steps, ["But nothing else"]);
    }

    #[test]
    fn scenario_hashes_are_pinned_so_existing_sign_offs_keep_matching() {
        // Values from the hashing as first released: a change here makes every sign-off
        // record stale, so it must be a deliberate one (and the record format bumped).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.feature");
        std::fs::write(&path, FEATURE_WITH_RULES).unwrap();
        let file = FeatureFile::load(&path).unwrap();
        let hashes: Vec<(&[String], &str)> = file
            .scenarios
            .iter()
            .map(|s| (&s.tags[..], s.sha256.as_str()))
            .collect();
        assert_eq!(
            hashes,
            [
                (
                    &["kc".to_string(), "one".into()][..],
                    "bbfdb90a406f09a94a58a3e10fe3df2ccf881bc0c5d43da6fed1e4b3edced63c"
                ),
                (
                    &["kc".to_string(), "two".into()][..],
                    "03ea61e921416c23eb328105c2ff7ecf2e3031d3bf6dfb7da781b6e9c01d2841"
                ),
                (
                    &["kc".to_string(), "three".into()][..],
                    "89bf6550296241a25561cbe7decedc32aff6fcd0f9ac6fcf6bf1a0d3eeaec7f9"
                ),
            ]
        );
    }

    /// A feature background, a rule with one and a rule without, a table, a doc string and an
    /// outline with tagged examples: every part the hash takes in.
    const FEATURE_WITH_RULES: &str = r#"@kc
Feature: X
  Background:
    Given the realm

  @one
  Scenario: First
    When alice signs in
      | user  | group |
      | alice | admin |
    Then she sees
      """
      welcome
      """

  Rule: R
    Background:
      Given a rule setup
    @two
    Scenario Outline: Second <a>
      But nothing <a>
      @ex
      Examples:
        | a |
        | 1 |

  Rule: S
    @three
    Scenario: Third
      Then done
"#;

    #[test]
    fn an_early_end_is_reported_inside_the_file_in_words() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("short.feature");
        // The crate counts a line past the end for this one.
        std::fs::write(&path, "Feature: X\n  Scenario: Y\n    Given a\n  Nonsense").unwrap();
        let err = FeatureFile::load(&path).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("{}:4:11: ", path.display())),
            "{err}"
        );
        assert!(err.to_string().contains("found `Nonsense`"), "{err}");
        assert!(!err.to_string().contains('{'), "no raw token set: {err}");
    }

    #[test]
    fn a_row_with_more_or_fewer_cells_than_the_first_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rows.feature");
        let outline = "Feature: X\n  Scenario Outline: Y\n    Given <a>\n    Examples:\n      | a | b |\n      # a comment\n      | 1 | 2 |\n      | 3 | 4 | 5 |\n";
        std::fs::write(&path, outline).unwrap();
        let err = FeatureFile::load(&path).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("{}:8:7: ", path.display())),
            "{err}"
        );
        assert!(err.to_string().contains("has 3 cells"), "{err}");
        std::fs::write(&path, outline.replace("| 3 | 4 | 5 |", "| 3 |")).unwrap();
        assert!(FeatureFile::load(&path).is_err());
        // An escaped `\|` is inside a cell; a doc string holds text, not rows.
        std::fs::write(
            &path,
            "Feature: X\n  Scenario: Y\n    Given a table\n      | a\\|b |\n\n      | 1 |\n    And text\n      \"\"\"\n      | x | y |\n      \"\"\"\n",
        )
        .unwrap();
        FeatureFile::load(&path).unwrap();
        // Data tables of steps too.
        std::fs::write(
            &path,
            "Feature: X\n  Scenario: Y\n    Given a table\n      | a |\n      | 1 | 2 |\n",
        )
        .unwrap();
        let err = FeatureFile::load(&path).unwrap_err();
        assert!(err.to_string().contains(":5:7: "), "{err}");
        std::fs::write(&path, outline.replace("| 3 | 4 | 5 |", "| 3 | 4 |")).unwrap();
        assert_eq!(FeatureFile::load(&path).unwrap().scenarios[0].runs, 2);
    }

    #[test]
    fn non_regular_and_non_utf8_files_are_read_errors() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("folder.feature");
        std::fs::create_dir(&folder).unwrap();
        let err = FeatureFile::load(&folder).unwrap_err();
        assert!(err.to_string().contains("a directory"), "{err}");
        let latin1 = dir.path().join("latin1.feature");
        std::fs::write(&latin1, b"Feature: caf\xe9\n").unwrap();
        let err = FeatureFile::load(&latin1).unwrap_err();
        assert!(matches!(err, FeatureError::Read { .. }), "{err}");
        assert!(err.to_string().contains("not UTF-8"), "{err}");
        #[cfg(unix)]
        {
            let fifo = dir.path().join("pipe.feature");
            let made = std::process::Command::new("mkfifo").arg(&fifo).status();
            assert!(made.unwrap().success());
            let err = FeatureFile::load(&fifo).unwrap_err();
            assert!(err.to_string().contains("a FIFO"), "{err}");
        }
    }

    #[test]
    fn bad_gherkin_is_a_syntax_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.feature");
        std::fs::write(
            &path,
            "Feature: X\n  Scenario: Y\n    Given a\n  Nonsense here\n",
        )
        .unwrap();
        let err = FeatureFile::load(&path).unwrap_err();
        assert!(matches!(err, FeatureError::Syntax { line: 4, .. }), "{err}");
        assert!(err.to_string().contains("found `Nonsense here`"), "{err}");
        assert!(matches!(
            FeatureFile::load(&dir.path().join("missing.feature")),
            Err(FeatureError::Read { .. })
        ));
    }
}
