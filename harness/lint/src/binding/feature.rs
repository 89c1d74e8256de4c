//! Feature files as the bindings see them: scenarios, their tags and lines.

use std::path::{Path, PathBuf};

use gherkin::{Feature, GherkinEnv, ParseFileError};

#[derive(Debug, Clone)]
pub struct ScenarioRef {
    pub name: String,
    /// Tags without the leading `@`, including those inherited from the feature and rule.
    pub tags: Vec<String>,
    pub line: usize,
    /// How many times it runs: the rows of a Scenario Outline's examples, else 1.
    pub runs: usize,
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
    #[error("{}: not valid Gherkin: {message}", path.display())]
    Syntax { path: PathBuf, message: String },
}

impl FeatureFile {
    pub fn load(path: &Path) -> Result<FeatureFile, FeatureError> {
        let feature = Feature::parse_path(path, GherkinEnv::default()).map_err(|e| match e {
            ParseFileError::Reading { source, .. } => FeatureError::Read {
                path: path.to_path_buf(),
                message: source.to_string(),
            },
            ParseFileError::Parsing { source, .. } => FeatureError::Syntax {
                path: path.to_path_buf(),
                message: source.to_string(),
            },
        })?;
        Ok(FeatureFile::from_feature(&feature, path))
    }

    pub fn from_feature(feature: &Feature, path: &Path) -> FeatureFile {
        let scenario = |s: &gherkin::Scenario, inherited: &[String]| ScenarioRef {
            name: s.name.clone(),
            tags: inherited.iter().chain(&s.tags).cloned().collect(),
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
        };
        let mut scenarios: Vec<ScenarioRef> = feature
            .scenarios
            .iter()
            .map(|s| scenario(s, &feature.tags))
            .collect();
        for rule in &feature.rules {
            let inherited: Vec<String> = feature.tags.iter().chain(&rule.tags).cloned().collect();
            scenarios.extend(rule.scenarios.iter().map(|s| scenario(s, &inherited)));
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
    fn bad_gherkin_is_a_syntax_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.feature");
        std::fs::write(
            &path,
            "Feature: X\n  Scenario: Y\n    Given a\n  Nonsense here\n",
        )
        .unwrap();
        assert!(matches!(
            FeatureFile::load(&path),
            Err(FeatureError::Syntax { .. })
        ));
        assert!(matches!(
            FeatureFile::load(&dir.path().join("missing.feature")),
            Err(FeatureError::Read { .. })
        ));
    }
}
