//! Explicit anchors in raw HTML: `<a name="x">` and any element's `id="x"` are valid fragment
//! targets on GitHub (which prefixes them with `user-content-`; links omit the prefix).

use std::sync::LazyLock;

use scraper::{Html, Selector};

static ANCHORS: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("[id], a[name]").expect("static selector is valid"));

/// A cheap test run on every HTML event so that the HTML parser only sees likely anchors.
pub fn may_hold_anchor(html: &str) -> bool {
    html.contains("id") || html.contains("name")
}

/// The anchors declared in an HTML fragment.
pub fn anchors(html: &str) -> Vec<String> {
    let fragment = Html::parse_fragment(html);
    let mut found = Vec::new();
    for element in fragment.select(&ANCHORS) {
        let value = element.value();
        found.extend(value.attr("id").map(str::to_string));
        if value.name() == "a" {
            found.extend(value.attr("name").map(str::to_string));
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
}
