//! Explicit anchors in raw HTML: `<a name="x">` and any element's `id="x"` are valid fragment
//! targets on GitHub (which prefixes them with `user-content-`; links omit the prefix).
//!
//! Only start tags' attributes matter, so a WHATWG tokenizer (html5gum) is enough: it decodes
//! entities, lower-cases names and skips comments as browsers do, without building a tree.

use std::convert::Infallible;

use html5gum::emitters::callback::{CallbackEmitter, CallbackEvent};
use html5gum::{Span, Tokenizer};

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

/// A start tag being read: its anchors count once its `>` is seen.
struct OpenTag {
    is_a: bool,
    id: Option<String>,
    name: Option<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum Reading {
    Id,
    Name,
    Other,
}

/// The anchors declared in an HTML fragment.
pub fn anchors(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut tag: Option<OpenTag> = None;
    let mut reading = Reading::Other;
    let text = |value: &[u8]| String::from_utf8_lossy(value).into_owned();
    // Events rather than tokens: no attribute map or token queue is built per tag.
    let mut emitter = CallbackEmitter::new(
        |event: CallbackEvent<'_>, _: Span<()>| -> Option<Infallible> {
            match event {
                CallbackEvent::OpenStartTag { name } => {
                    tag = Some(OpenTag {
                        is_a: name == b"a",
                        id: None,
                        name: None,
                    });
                }
                // The first of duplicate attributes wins, as in browsers; a bare `id` is "".
                CallbackEvent::AttributeName { name } => {
                    reading = Reading::Other;
                    if let Some(tag) = tag.as_mut() {
                        if name == b"id" && tag.id.is_none() {
                            tag.id = Some(String::new());
                            reading = Reading::Id;
                        } else if name == b"name" && tag.is_a && tag.name.is_none() {
                            tag.name = Some(String::new());
                            reading = Reading::Name;
                        }
                    }
                }
                CallbackEvent::AttributeValue { value } => {
                    if let Some(tag) = tag.as_mut() {
                        match reading {
                            Reading::Id => tag.id = Some(text(value)),
                            Reading::Name => tag.name = Some(text(value)),
                            Reading::Other => {}
                        }
                    }
                    reading = Reading::Other;
                }
                CallbackEvent::CloseStartTag { .. } => {
                    if let Some(tag) = tag.take() {
                        found.extend(tag.id);
                        found.extend(tag.name);
                    }
                }
                // Attributes seen in an end tag belong to no element.
                CallbackEvent::EndTag { .. } => tag = None,
                _ => {}
            }
            None
        },
    );
    // Text inside `<script>`, `<style>`, `<textarea>`… is not markup, as in a browser.
    emitter.naively_switch_states(true);
    // Reading a `&str` cannot fail.
    let Ok(()) = Tokenizer::new_with_emitter(html, emitter).finish();
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
        assert!(anchors(r#"</span id="z">"#).is_empty());
    }

    #[test]
    fn prefilter_is_case_insensitive() {
        assert!(may_hold_anchor(r#"<DIV ID="x">"#));
        assert!(may_hold_anchor("<A NAME=x>"));
        assert!(!may_hold_anchor("<br>"));
    }
}
