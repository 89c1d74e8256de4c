//! What a link destination points at, decided from its text alone.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use percent_encoding::percent_decode_str;

use super::fs_index::normalize;

#[derive(Debug, PartialEq, Eq)]
pub enum Target<'a> {
    Empty,
    /// Has a URL scheme (`https:`, `mailto:`, …) or is protocol-relative (`//host`).
    External {
        scheme: &'a str,
    },
    /// `#fragment` in the same file; the fragment is percent-decoded, possibly empty.
    SameFile {
        fragment: Cow<'a, str>,
    },
    /// A path in the repository, percent-decoded, with an optional fragment.
    Local {
        path: Cow<'a, str>,
        fragment: Option<Cow<'a, str>>,
    },
}

pub fn parse(raw: &str) -> Target<'_> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Target::Empty;
    }
    if raw.starts_with("//") {
        return Target::External { scheme: "" };
    }
    if let Some(scheme) = scheme(raw) {
        return Target::External { scheme };
    }
    if let Some(fragment) = raw.strip_prefix('#') {
        return Target::SameFile {
            fragment: decode(fragment),
        };
    }
    // Every link goes through here: byte searches (`memchr`) rather than `str`'s char
    // searcher, which costs more per call on strings this short. The bytes are ASCII, so the
    // offsets are character boundaries.
    let (path, fragment) = match split_at_byte(raw, b'#') {
        Some((path, fragment)) => (path, Some(decode(fragment))),
        None => (raw, None),
    };
    let path = split_at_byte(path, b'?').map_or(path, |(p, _)| p);
    if path.is_empty() {
        // `?query#frag` or `?query`: the same file.
        return Target::SameFile {
            fragment: fragment.unwrap_or(Cow::Borrowed("")),
        };
    }
    Target::Local {
        path: decode(path),
        fragment,
    }
}

/// A URL scheme per RFC 3986. A single letter is a Windows drive (`C:`), not a scheme.
fn scheme(raw: &str) -> Option<&str> {
    let (scheme, _) = split_at_byte(raw, b':')?;
    let mut chars = scheme.chars();
    let valid = scheme.len() > 1
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(scheme)
}

/// `text` before and after the first `byte` (ASCII).
fn split_at_byte(text: &str, byte: u8) -> Option<(&str, &str)> {
    let at = memchr::memchr(byte, text.as_bytes())?;
    Some((&text[..at], &text[at + 1..]))
}

fn decode(text: &str) -> Cow<'_, str> {
    if memchr::memchr(b'%', text.as_bytes()).is_none() {
        return Cow::Borrowed(text);
    }
    match percent_decode_str(text).decode_utf8() {
        Ok(decoded) => decoded,
        Err(_) => Cow::Borrowed(text),
    }
}

/// The absolute, normalized path a local link names: `/`-rooted paths resolve against the
/// project root, others against the linking file's folder. `None` when it climbs out of the
/// file system root.
pub fn resolve(path: &str, file_dir: &Path, root: &Path) -> Option<PathBuf> {
    resolve_in(path, file_dir, root, &mut String::new()).map(Cow::into_owned)
}

/// [`resolve`] for the link checker, which resolves every link: the path is built in
/// `scratch`, reused from link to link, and borrowed from it, so no link costs an allocation.
pub fn resolve_in<'s>(
    path: &str,
    file_dir: &Path,
    root: &Path,
    scratch: &'s mut String,
) -> Option<Cow<'s, Path>> {
    let (base, relative) = match path.strip_prefix('/') {
        Some(rooted) => (root, rooted),
        None => (file_dir, path),
    };
    // Join and fold the text directly instead of through `Path` components. Only for
    // `/`-separated UTF-8 bases; anything else takes the general route.
    match base.to_str() {
        Some(base) if std::path::MAIN_SEPARATOR == '/' && base.starts_with('/') => {
            join_normalized(base, relative, scratch)?;
            Some(Cow::Borrowed(Path::new(scratch.as_str())))
        }
        _ => normalize(&base.join(relative)).map(Cow::Owned),
    }
}

/// `base` (absolute, normalized) joined with the `/`-separated `relative` into `out`, with `.`
/// and empty segments dropped and `..` folded; `None` when `..` climbs above `/`.
fn join_normalized(base: &str, relative: &str, out: &mut String) -> Option<()> {
    out.clear();
    out.push_str(base.trim_end_matches('/'));
    // Segments are split and folded on bytes (`/` is ASCII, so every cut is a character
    // boundary): `str::split` with a char pattern costs more than the rest of the resolution.
    let mut rest = relative;
    loop {
        let (segment, tail) = match memchr::memchr(b'/', rest.as_bytes()) {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        match segment {
            "" | "." => {}
            ".." => {
                let cut = memchr::memrchr(b'/', out.as_bytes())?;
                out.truncate(cut);
            }
            name => {
                out.push('/');
                out.push_str(name);
            }
        }
        match tail {
            Some(tail) => rest = tail,
            None => break,
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(path: &str, fragment: Option<&str>) -> Target<'static> {
        Target::Local {
            path: Cow::Owned(path.to_string()),
            fragment: fragment.map(|f| Cow::Owned(f.to_string())),
        }
    }

    #[test]
    fn classifies_destinations() {
        assert_eq!(parse(""), Target::Empty);
        assert_eq!(
            parse("https://x.test/a#b"),
            Target::External { scheme: "https" }
        );
        assert_eq!(parse("HTTP://x.test"), Target::External { scheme: "HTTP" });
        assert_eq!(parse("mailto:a@b.c"), Target::External { scheme: "mailto" });
        assert_eq!(parse("//cdn.test/x"), Target::External { scheme: "" });
        assert_eq!(
            parse("#Top"),
            Target::SameFile {
                fragment: "Top".into()
            }
        );
        assert_eq!(parse("okta.md"), local("okta.md", None));
        assert_eq!(parse("okta.md#groups"), local("okta.md", Some("groups")));
        assert_eq!(
            parse("a%20b.md?plain=1#caf%C3%A9"),
            local("a b.md", Some("café"))
        );
        assert_eq!(parse("C:/Users/x.md"), local("C:/Users/x.md", None));
        assert_eq!(parse("/docs/x.md"), local("/docs/x.md", None));
        assert_eq!(parse("bad%ZZ.md"), local("bad%ZZ.md", None));
    }

    #[test]
    fn resolves_relative_and_rooted() {
        let root = Path::new("/repo");
        let dir = Path::new("/repo/runbooks");
        assert_eq!(
            resolve("okta.md", dir, root),
            Some(PathBuf::from("/repo/runbooks/okta.md"))
        );
        assert_eq!(
            resolve("../README.md", dir, root),
            Some(PathBuf::from("/repo/README.md"))
        );
        assert_eq!(
            resolve("/docs/a.md", dir, root),
            Some(PathBuf::from("/repo/docs/a.md"))
        );
        assert_eq!(resolve("../../../../x", dir, root), None);
        assert_eq!(
            resolve("./a//b/./../c/", dir, root),
            Some(PathBuf::from("/repo/runbooks/a/c"))
        );
        assert_eq!(resolve("../..", dir, root), Some(PathBuf::from("/")));
        assert_eq!(resolve("/..", dir, root), Some(PathBuf::from("/")));
        assert_eq!(resolve("/../..", dir, root), None);
        assert_eq!(
            resolve("a", Path::new("/"), root),
            Some(PathBuf::from("/a"))
        );
    }

    /// The text route and the `Path` route agree.
    #[test]
    fn text_resolution_matches_path_normalization() {
        for base in ["/", "/repo", "/repo/a/b"] {
            for relative in [
                "",
                ".",
                "..",
                "../..",
                "../../..",
                "x/../y",
                "a b/c%d.md",
                "./x/",
                "x//y",
            ] {
                let mut out = String::new();
                assert_eq!(
                    join_normalized(base, relative, &mut out).map(|()| PathBuf::from(out)),
                    normalize(&Path::new(base).join(relative)),
                    "{base} + {relative}"
                );
            }
        }
    }
}
