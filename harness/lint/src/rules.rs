//! The rule catalogue: every diagnostic the linter can emit, with its stable id.
//!
//! Ids are `family/name`; `--select` and `--ignore` match them by prefix. They are part of the
//! public interface (CI configurations name them), so never rename one.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

macro_rules! rules {
    ($($variant:ident = $id:literal, $severity:ident, $summary:literal;)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Rule { $($variant),* }

        impl Rule {
            pub const ALL: &'static [Rule] = &[$(Rule::$variant),*];

            pub fn id(self) -> &'static str {
                match self { $(Rule::$variant => $id),* }
            }

            /// The severity the rule reports at unless the check says otherwise
            /// (only `date/stale` varies, with the age of the review).
            pub fn default_severity(self) -> Severity {
                match self { $(Rule::$variant => Severity::$severity),* }
            }

            pub fn summary(self) -> &'static str {
                match self { $(Rule::$variant => $summary),* }
            }
        }
    };
}

rules! {
    MissingFile = "link/missing-file", Error,
        "A relative link or image points at a file or directory that does not exist.";
    MissingFragment = "link/missing-fragment", Error,
        "A `#fragment` names no heading anchor (GitHub's slug rules) or explicit HTML anchor in its target.";
    FragmentCase = "link/fragment-case", Warning,
        "A `#fragment` matches an anchor only when case is ignored: github.com's script lower-cases fragments, GitLab, mdBook and browsers do not.";
    HeadingAttribute = "link/heading-attribute", Warning,
        "A heading ends in a `{#id}` attribute, which GitHub ignores: the anchor is the slug of the whole text.";
    UndefinedReference = "link/undefined-reference", Error,
        "A `[text][label]` or `[label][]` reference uses a label that is never defined.";
    UnusedDefinition = "link/unused-definition", Warning,
        "A `[label]: target` reference definition is never used.";
    DuplicateDefinition = "link/duplicate-definition", Warning,
        "A reference definition repeats an earlier label (ignoring case and spacing); only the first one counts.";
    EmptyTarget = "link/empty-target", Warning,
        "A link has an empty destination.";
    InsecureHttp = "link/insecure-http", Warning,
        "An external link uses `http://` (loopback hosts and `lint.allowed_http` excepted); runbooks should link over https.";
    LocalPath = "link/local-path", Error,
        "A link leaks a local workspace or home directory path (see `lint.local_path_patterns`).";
    DateMissing = "date/missing", Error,
        "A runbook lacks the `> Last reviewed: YYYY-MM-DD` line right under its title (or its front matter).";
    DateMalformed = "date/malformed", Error,
        "The last-reviewed line is not exactly `> Last reviewed: YYYY-MM-DD` with a real date.";
    DateFuture = "date/future", Error,
        "The last-reviewed date is after today.";
    DateStale = "date/stale", Warning,
        "The last review is older than the warn threshold (a warning) or the fail threshold (an error).";
    ExceptionExpired = "date/exception-expired", Error,
        "A review-date exception in the config has passed its expiry date.";
    MissingTitle = "layout/missing-title", Error,
        "A runbook does not start with a `# Title` heading (or front matter with a `title:`).";
    MissingSection = "layout/missing-section", Error,
        "A section required for the runbook's kind is absent.";
    SectionOrder = "layout/section-order", Error,
        "Required sections appear out of the configured order.";
    ChecklistEmpty = "checklist/no-items", Error,
        "The validation checklist has no `- [ ]` item.";
    ChecklistPrechecked = "checklist/prechecked", Warning,
        "A checklist item in the runbook itself is already ticked; operators tick items in their own copy.";
    ChecklistSignOff = "checklist/sign-off", Error,
        "The validation checklist does not end with the sign-off line.";
    IndexMissingEntry = "index/missing-entry", Error,
        "A runbook in the index's folder is not linked from the index.";
    IndexDanglingEntry = "index/dangling-entry", Error,
        "The index links a runbook that does not exist.";
    Unbound = "binding/unbound", Error,
        "A checklist item or troubleshooting row is bound to no scenario and not marked `[manual]`.";
    UnknownScenario = "binding/unknown-scenario", Error,
        "A binding names a feature file or scenario tag that does not exist.";
    AmbiguousScenario = "binding/ambiguous-scenario", Error,
        "A binding's tag is carried by several scenarios of the feature file.";
    FeatureSyntax = "binding/feature-syntax", Error,
        "A feature file a binding points at is not valid Gherkin.";
    SignoffStale = "signoff/stale", Error,
        "A runbook in `signoff.required` has no current sign-off: none, incomplete, too old, unsigned, edited, or its checklist items or their scenarios changed since.";
}

impl Rule {
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.iter().copied().find(|r| r.id() == id)
    }
}

/// Which rules a run reports, by id prefix: `--select link --ignore link/insecure-http`.
#[derive(Debug, Clone, Default)]
pub struct RuleFilter {
    select: Vec<String>,
    ignore: Vec<String>,
}

impl RuleFilter {
    pub fn new(select: Vec<String>, ignore: Vec<String>) -> RuleFilter {
        RuleFilter { select, ignore }
    }

    pub fn add_ignores(&mut self, prefixes: &[String]) {
        self.ignore.extend(prefixes.iter().cloned());
    }

    pub fn enabled(&self, rule: Rule) -> bool {
        let id = rule.id();
        let selected = self.select.is_empty() || self.select.iter().any(|p| matches_prefix(id, p));
        selected && !self.ignore.iter().any(|p| matches_prefix(id, p))
    }

    /// Whether any rule of a family (`link`, `date`, …) is enabled, so whole passes can be skipped.
    pub fn any_in(&self, family: &str) -> bool {
        Rule::ALL
            .iter()
            .any(|r| r.id().starts_with(family) && self.enabled(*r))
    }

    /// Prefixes that match no rule at all (almost certainly a typo worth refusing), and the
    /// empty prefix, which matches every rule: `--ignore ''` would switch every check off.
    pub fn unknown_prefixes(&self) -> Vec<&str> {
        self.select
            .iter()
            .chain(&self.ignore)
            .filter(|p| !is_known_prefix(p))
            .map(String::as_str)
            .collect()
    }
}

/// Whether `prefix` is one that a filter accepts: non-empty, and the start of some rule's id.
pub fn is_known_prefix(prefix: &str) -> bool {
    !prefix.is_empty() && Rule::ALL.iter().any(|r| matches_prefix(r.id(), prefix))
}

/// A plain string prefix: `link`, `link/` and `link/missing` all select `link/missing-file`.
fn matches_prefix(id: &str, prefix: &str) -> bool {
    id.starts_with(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut ids: Vec<_> = Rule::ALL.iter().map(|r| r.id()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), Rule::ALL.len());
        for id in ids {
            let (family, name) = id.split_once('/').expect("family/name");
            assert!(
                [
                    "link",
                    "date",
                    "layout",
                    "checklist",
                    "index",
                    "binding",
                    "signoff"
                ]
                .contains(&family),
                "{id}"
            );
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{id}"
            );
        }
    }

    #[test]
    fn select_and_ignore_by_prefix() {
        let f = RuleFilter::new(vec!["link".into()], vec!["link/insecure-http".into()]);
        assert!(f.enabled(Rule::MissingFile));
        assert!(!f.enabled(Rule::InsecureHttp));
        assert!(!f.enabled(Rule::DateMissing));
        assert!(f.any_in("link"));
        assert!(!f.any_in("date"));
        let partial = RuleFilter::new(vec!["link/missing".into()], vec![]);
        assert!(partial.enabled(Rule::MissingFile) && partial.enabled(Rule::MissingFragment));
        assert!(!partial.enabled(Rule::FragmentCase));
        let typo = RuleFilter::new(vec!["links".into()], vec![]);
        assert!(!typo.enabled(Rule::MissingFile));
        assert_eq!(typo.unknown_prefixes(), ["links"]);
        // The empty prefix would match every rule: refused like a typo, never "ignore all".
        let empty = RuleFilter::new(vec![], vec![String::new()]);
        assert_eq!(empty.unknown_prefixes(), [""]);
    }
}
