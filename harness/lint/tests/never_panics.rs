//! Property tests: whatever a Markdown tree holds, the linter parses it and reports on it, and
//! never panics (issue 11: a did-you-mean cut inside a multi-byte character did).
//!
//! Bounded for `cargo test`: proptest's default of 256 cases per property, a few seconds in
//! all; `PROPTEST_CASES=20000 cargo test -p ssoproof-lint --test never_panics` runs longer.

use proptest::prelude::*;
use ssoproof_config::{LoadedConfig, Renderer};
use ssoproof_lint::{lint, Document, LintRequest};

/// Pieces that reach the linter's own code paths (links, fragments, references, headings,
/// HTML anchors, front matter, tables, tasks, multi-byte names) rather than plain prose.
const PIECES: &[&str] = &[
    "[x](",
    ")",
    "](",
    "[",
    "]",
    "[x]: ",
    "[x][y]",
    "#",
    "# ",
    "## ",
    "ééé",
    "日本",
    "a/",
    "../",
    "/",
    "b.md",
    "dir/",
    "#frag",
    "%C3%A9",
    "%ZZ",
    "{#id}",
    "<a name=\"n\">",
    "<div id=x>",
    "---\n",
    "title: t\n",
    "\n",
    "\n\n",
    "- [ ] ",
    "- [x] ",
    "| a | b |\n",
    "|---|---|\n",
    "`",
    "```\n",
    "<!-- c -->",
    "http://localhost/",
    "https://x.test/#A",
    " ",
    "\t",
    "\r\n",
    "\u{feff}",
    "> Last reviewed: 2026-01-01\n",
    "*",
    "_",
    "!",
    "\\",
];

fn markdown() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            3 => prop::sample::select(PIECES).prop_map(str::to_string),
            1 => any::<String>(),
        ],
        0..60,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #[test]
    fn any_text_parses_for_every_renderer(text in any::<String>()) {
        Document::parse_for(&text, Renderer::Github);
        Document::parse_for(&text, Renderer::Mdbook);
    }

    #[test]
    fn any_markdown_tree_lints_without_panicking(a in markdown(), b in markdown(), name in "[a-zé]{1,4}") {
        let dir = tempfile::tempdir().unwrap();
        let docs = dir.path().join("docs");
        std::fs::create_dir_all(docs.join(format!("{name}b"))).unwrap();
        std::fs::write(docs.join("a.md"), &a).unwrap();
        std::fs::write(docs.join(format!("{name}.md")), &b).unwrap();
        std::fs::write(dir.path().join("ssoproof.yaml"), "lint:\n  roots: [docs]\n").unwrap();
        let config = LoadedConfig::load(&dir.path().join("ssoproof.yaml")).unwrap();
        let report = lint(&config, &LintRequest::default());
        prop_assert!(report.is_ok(), "{:?}", report.err());
        // Every finding points inside its file.
        for d in &report.unwrap().diagnostics {
            prop_assert!(d.position.line >= 1 && d.position.column >= 1, "{d:?}");
        }
    }
}
