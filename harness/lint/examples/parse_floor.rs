//! The parse floor for the lint benchmark (`scripts/bench-lint-floor.py`): the least work any
//! Markdown link checker must do. It walks a folder, reads every `.md` file, runs pulldown-cmark
//! over it with the linter's options and counts links and headings — no anchors, no
//! resolution, no report. The linter's instruction count is compared against this one's.
//!
//!     cargo run --release -p ssoproof-lint --example parse_floor -- FOLDER

use pulldown_cmark::{Event, Parser, Tag};

fn main() -> std::process::ExitCode {
    let Some(folder) = std::env::args_os().nth(1) else {
        eprintln!("usage: parse_floor FOLDER");
        return std::process::ExitCode::from(2);
    };
    let (mut files, mut links, mut headings) = (0usize, 0usize, 0usize);
    for entry in walkdir::WalkDir::new(folder).sort_by_file_name() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                eprintln!("error: {error}");
                return std::process::ExitCode::from(2);
            }
        };
        if !entry.file_type().is_file() || entry.path().extension() != Some("md".as_ref()) {
            continue;
        }
        let text = match std::fs::read(entry.path()) {
            Ok(bytes) => ssoproof_lint::Document::text(bytes),
            Err(error) => {
                eprintln!("error: {}: {error}", entry.path().display());
                return std::process::ExitCode::from(2);
            }
        };
        files += 1;
        for event in Parser::new_ext(
            &text,
            ssoproof_lint::document::options(ssoproof_config::Renderer::Github),
        ) {
            match event {
                Event::Start(Tag::Link { .. } | Tag::Image { .. }) => links += 1,
                Event::Start(Tag::Heading { .. }) => headings += 1,
                _ => {}
            }
        }
    }
    println!("{files} files, {links} links, {headings} headings");
    std::process::ExitCode::SUCCESS
}
