//! Explicit anchors in raw HTML: `<a name="x">` and any element's `id="x"` are valid fragment
//! targets on GitHub (which prefixes them with `user-content-`; links omit the prefix).
//!
//! Only start tags' attributes matter, so a WHATWG tokenizer (html5gum) is enough: it decodes
//! entities, lower-cases names and skips comments as browsers do, without building a tree.

use html5gum::{DefaultEmitter, HtmlString, Token, Tokenizer};

/// A cheap test run on every HTML event so that the tokenizer only sees likely anchors.
/// Case-insensitive because HTML attribute names are (`ID="x"`).
pub fn may_hold_anchor(html: &str) -> bool {
    let has = |word: &[u8]| {
        html.as_bytes()
            .windows(word.len())
            .any(|w| w.eq_ignore_ascii_case(word))
    };
    has(b"id") || has(b"name")
}

/// The anchors declared in an HTML fragment.
pub fn anchors(html: &str) -> Vec<String> {
    let mut emitter = DefaultEmitter::default();
    // Text inside `<script>`, `<style>`, `<textarea>`… is not markup, as in a browser.
    emitter.naively_switch_states(true);
    let mut found = Vec::new();
    let text = |value: &HtmlString| String::from_utf8_lossy(value).into_owned();
    for token in Tokenizer::new_with_emitter(html, emitter) {
        let Ok(Token::StartTag(tag)) = token else {
            continue;
        };
        let attr = |name: &[u8]| tag.attributes.get(name).map(|a| text(&a.value));
        found.extend(attr(b"id"));
        if *tag.name == b"a" {
            found.extend(attr(b"name"));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_name_and_id_anchors() {
        let html =
            r#"<a name="legacy"></a><div id='block'>x</div><span name="not-an-anchor"></span>"#;
        let mut got = anchors(html);
        got.sort();
        assert_eq!(got, ["block", "legacy"]);
    }

    #[test]
    fn tolerates_broken_html() {
        assert_eq!(anchors(r#"<a name="x">never closed"#), ["x"]);
        // A tag cut off by the end of input is dropped, as browsers drop it.
        assert!(anchors(r#"<a name="x" <<<"#).is_empty());
        assert!(anchors("</div></div>").is_empty());
    }

    #[test]
    fn reads_attributes_as_browsers_do() {
        // Character references in values are decoded; names are case-insensitive.
        assert_eq!(anchors(r#"<span id="a&amp;b"></span>"#), ["a&b"]);
        assert_eq!(anchors(r#"<DIV ID="Upper"></DIV>"#), ["Upper"]);
        assert_eq!(anchors("<A NAME=bare>x</A>"), ["bare"]);
        assert_eq!(anchors("<p id=unquoted class=x>"), ["unquoted"]);
        // The first of duplicate attributes wins.
        assert_eq!(anchors(r#"<p id="first" id="second">"#), ["first"]);
    }

    #[test]
    fn ignores_what_is_not_a_start_tag() {
        assert!(anchors("<!-- <a name=x> -->").is_empty());
        assert!(anchors(r#"<script>let s = "<a id='y'>";</script>"#).is_empty());
        assert!(anchors(r#"&lt;a id="z"&gt;"#).is_empty());
    }

    #[test]
    fn prefilter_is_case_insensitive() {
        assert!(may_hold_anchor(r#"<DIV ID="x">"#));
        assert!(may_hold_anchor("<A NAME=x>"));
        assert!(!may_hold_anchor("<br>"));
    }
}
