//! Heading anchors, reproduced exactly for each renderer.
//!
//! GitHub: the reference is github-slugger v2 (whose fixtures were scraped from GitHub):
//! lower-case the rendered heading text, drop every character that is not a letter, mark,
//! decimal digit, connector punctuation, hyphen or ASCII space, turn each space into `-` with no
//! trimming or collapsing, and make duplicates unique by looping until the candidate is unused.
//!
//! mdBook: `id_from_content` and `unique_id` in mdBook's `crates/mdbook-html/src/utils.rs`
//! (rust-lang/mdBook at 641d06a): trim, lower-case, keep alphanumerics, `_` and `-`, turn any
//! white space into `-`, fall back to `section` when nothing is left; a taken id gets `-1`,
//! `-2`, … until unused.

use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};
use ssoproof_config::Renderer;
use unicode_general_category::{get_general_category, GeneralCategory as Gc};

/// The slug of one heading's rendered text, ignoring duplicates.
#[cfg(test)]
fn slug(rendered: &str) -> String {
    let mut out = String::new();
    slug_into(rendered, &mut out);
    out
}

/// Writes the slug of `rendered` into `out` (cleared first): one buffer serves every heading.
fn slug_into(rendered: &str, out: &mut String) {
    out.clear();
    if rendered.is_ascii() {
        // Most headings: a byte loop, no case tables.
        for b in rendered.bytes() {
            match b {
                b' ' => out.push('-'),
                b'-' | b'_' | b'0'..=b'9' | b'a'..=b'z' => out.push(char::from(b)),
                b'A'..=b'Z' => out.push(char::from(b.to_ascii_lowercase())),
                _ => {}
            }
        }
        return;
    }
    for c in rendered.chars().flat_map(char::to_lowercase) {
        if c == ' ' {
            out.push('-');
        } else if keeps(c) {
            out.push(c);
        }
    }
}

fn keeps(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '-' || c == '_';
    }
    matches!(
        get_general_category(c),
        Gc::UppercaseLetter
            | Gc::LowercaseLetter
            | Gc::TitlecaseLetter
            | Gc::ModifierLetter
            | Gc::OtherLetter
            | Gc::NonspacingMark
            | Gc::SpacingMark
            | Gc::EnclosingMark
            | Gc::DecimalNumber
            | Gc::ConnectorPunctuation
    )
}

/// Hands out unique slugs for the headings of one document, in document order.
#[derive(Debug, Default)]
pub struct Slugger {
    /// Every slug handed out; it becomes the document's anchor set (see [`Anchors::into_set`]).
    /// Shared with the headings, so each anchor is stored once.
    taken: FxHashSet<Arc<str>>,
    /// github-slugger's occurrence count, for the slugs that were asked for more than once.
    counts: FxHashMap<String, usize>,
    /// The slug being built, reused from heading to heading.
    scratch: String,
}

impl Slugger {
    /// The anchor GitHub gives the next heading with this rendered text.
    pub fn next(&mut self, rendered: &str) -> Arc<str> {
        slug_into(rendered, &mut self.scratch);
        let original = self.scratch.as_str();
        if !self.taken.contains(original) {
            return take(&mut self.taken, original);
        }
        // Loop until unique, as github-slugger does: `A`, `A`, `A 1` → `a`, `a-1`, `a-1-1`.
        let count = self.counts.entry(original.to_string()).or_insert(0);
        let candidate = loop {
            *count += 1;
            let candidate = format!("{original}-{count}");
            if !self.taken.contains(candidate.as_str()) {
                break candidate;
            }
        };
        take(&mut self.taken, &candidate)
    }
}

/// Records `anchor` as taken and returns the shared copy.
fn take(taken: &mut FxHashSet<Arc<str>>, anchor: &str) -> Arc<str> {
    let anchor: Arc<str> = Arc::from(anchor);
    taken.insert(anchor.clone());
    anchor
}

/// mdBook's id for one heading's rendered text, ignoring duplicates.
pub fn mdbook_id(rendered: &str) -> String {
    let id: String = rendered
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c)
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect();
    if id.is_empty() {
        "section".to_string()
    } else {
        id
    }
}

/// Hands out unique heading anchors in document order, by the renderer's rules.
#[derive(Debug)]
pub enum Anchors {
    Github(Slugger),
    Mdbook(FxHashSet<Arc<str>>),
}

impl Anchors {
    pub fn new(renderer: Renderer) -> Anchors {
        match renderer {
            Renderer::Github => Anchors::Github(Slugger::default()),
            Renderer::Mdbook => Anchors::Mdbook(FxHashSet::default()),
        }
    }

    /// Every anchor handed out so far.
    pub fn into_set(self) -> FxHashSet<Arc<str>> {
        match self {
            Anchors::Github(slugger) => slugger.taken,
            Anchors::Mdbook(used) => used,
        }
    }

    pub fn next(&mut self, rendered: &str) -> Arc<str> {
        match self {
            Anchors::Github(slugger) => slugger.next(rendered),
            Anchors::Mdbook(used) => {
                let id = mdbook_id(rendered);
                if !used.contains(id.as_str()) {
                    return take(used, &id);
                }
                let candidate = (1..)
                    .map(|n| format!("{id}-{n}"))
                    .find(|candidate| !used.contains(candidate.as_str()))
                    .expect("some suffix is unused");
                take(used, &candidate)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slugs(headings: &[&str]) -> Vec<String> {
        let mut slugger = Slugger::default();
        headings
            .iter()
            .map(|h| slugger.next(h).to_string())
            .collect()
    }

    #[test]
    fn basic_punctuation_and_case() {
        assert_eq!(slug("1. Create the realm"), "1-create-the-realm");
        assert_eq!(slug("Keycloak vs. Okta"), "keycloak-vs-okta");
        assert_eq!(slug("Hello, World!"), "hello-world");
        assert_eq!(slug("snake_case stays"), "snake_case-stays");
    }

    #[test]
    fn no_trimming_or_collapsing() {
        assert_eq!(slug("a - b"), "a---b");
        assert_eq!(slug(" leading"), "-leading");
        assert_eq!(slug("trailing "), "trailing-");
        assert_eq!(slug("two  spaces"), "two--spaces");
    }

    #[test]
    fn emoji_and_symbols_are_dropped() {
        assert_eq!(slug("🚀 Launch"), "-launch");
        assert_eq!(slug("Launch 🚀"), "launch-");
        assert_eq!(slug("m² area"), "m-area");
        assert_eq!(slug("½ cup"), "-cup");
        assert_eq!(slug("Fish & Chips"), "fish--chips");
    }

    #[test]
    fn tabs_and_non_breaking_spaces_are_dropped_not_dashed() {
        assert_eq!(slug("tab\there"), "tabhere");
        assert_eq!(slug("nbsp\u{a0}here"), "nbsphere");
    }

    #[test]
    fn unicode_letters_marks_and_digits_survive() {
        assert_eq!(slug("Café Über"), "café-über");
        assert_eq!(slug("日本語の見出し"), "日本語の見出し");
        assert_eq!(slug("Ünïcödé ٣"), "ünïcödé-٣");
        // U+0301 is a combining mark: kept.
        assert_eq!(slug("e\u{301}te\u{301}"), "e\u{301}te\u{301}");
    }

    #[test]
    fn duplicates_loop_until_unique() {
        assert_eq!(slugs(&["A", "A", "A 1"]), ["a", "a-1", "a-1-1"]);
        assert_eq!(slugs(&["A 1", "A", "A"]), ["a-1", "a", "a-2"]);
        assert_eq!(slugs(&["x", "x", "x", "x-1"]), ["x", "x-1", "x-2", "x-1-1"]);
    }

    #[test]
    fn mdbook_ids_follow_mdbooks_rules() {
        // Cases from mdBook's own `it_normalizes_ids` test.
        assert_eq!(
            mdbook_id("--passes: add more rustdoc passes"),
            "--passes-add-more-rustdoc-passes"
        );
        assert_eq!(
            mdbook_id("Method-call 🐙 expressions \u{1f47c}"),
            "method-call--expressions-"
        );
        assert_eq!(mdbook_id("中文標題 CJK title"), "中文標題-cjk-title");
        assert_eq!(mdbook_id("!.():"), "section");
        // Where GitHub differs: trimming, `²`/`½` kept, tabs become `-`.
        assert_eq!(mdbook_id(" m² and ½ "), "m²-and-½");
        assert_eq!(mdbook_id("tab\there"), "tab-here");
        let mut anchors = Anchors::new(Renderer::Mdbook);
        let ids: Vec<_> = ["A", "A", "A 1", "::", "!!"]
            .iter()
            .map(|h| anchors.next(h).to_string())
            .collect();
        assert_eq!(ids, ["a", "a-1", "a-1-1", "section", "section-1"]);
    }
}
