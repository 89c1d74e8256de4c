//! Exact-case file lookups, one directory listing at a time, shared between threads.
//!
//! GitHub paths are case-sensitive even when the local file system is not (macOS, Windows), so
//! existence is decided from directory listings rather than `stat`. Each directory is listed
//! once, which is also cheaper than a `stat` per link on a large tree, and the listing doubles as
//! the candidate list for "did you mean" suggestions.

use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustc_hash::FxHashMap;
use ssoproof_config::suggest::Candidates;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
}

pub type Listing = FxHashMap<String, EntryKind>;

/// A map keyed by normalized paths, hashed as bytes (see [`key`]).
pub type PathMap<V> = FxHashMap<Box<[u8]>, V>;

/// A normalized path as a hash key. `Path`'s own `Hash` re-parses the components on every call;
/// the paths here are already normalized, so byte equality is path equality.
pub fn key(path: &Path) -> &[u8] {
    path.as_os_str().as_encoded_bytes()
}

/// `path` below `base`, both normalized: what `Path::strip_prefix` answers, compared as bytes.
/// It runs for every file, where the component-wise comparison of two deep paths cost more than
/// the rest of the file's bookkeeping.
pub fn strip_base<'a>(path: &'a Path, base: &Path) -> Option<&'a Path> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let rest = key(path).strip_prefix(key(base))?;
        let rest = match rest {
            [] => rest,
            [b'/', tail @ ..] => tail,
            _ if key(base).ends_with(b"/") => rest,
            _ => return None,
        };
        Some(Path::new(std::ffi::OsStr::from_bytes(rest)))
    }
    #[cfg(not(unix))]
    {
        path.strip_prefix(base).ok()
    }
}

#[derive(Debug, Default)]
pub struct FsIndex {
    listings: RwLock<PathMap<Option<Arc<Listing>>>>,
    /// Each listing's names prepared for "did you mean", once per folder that a broken link
    /// points into: every broken link into a large folder asks again.
    candidates: RwLock<PathMap<Option<Arc<Candidates>>>>,
    /// Results by full path: many links share a target.
    resolved: RwLock<PathMap<Option<EntryKind>>>,
}

impl FsIndex {
    /// What is at `path` (absolute and normalized), matching every component's case exactly.
    pub fn lookup(&self, path: &Path) -> Option<EntryKind> {
        if let Some(known) = read(&self.resolved).get(key(path)) {
            return *known;
        }
        let found = self.walk(path);
        write(&self.resolved).insert(key(path).into(), found);
        found
    }

    fn walk(&self, path: &Path) -> Option<EntryKind> {
        let mut current = PathBuf::new();
        let mut kind = EntryKind::Dir;
        for component in path.components() {
            match component {
                Component::Prefix(_) | Component::RootDir => {
                    current.push(component.as_os_str());
                    continue;
                }
                Component::Normal(name) => {
                    if kind != EntryKind::Dir {
                        return None;
                    }
                    let name = name.to_str()?;
                    kind = *self.listing(&current)?.get(name)?;
                    current.push(name);
                }
                Component::CurDir | Component::ParentDir => return None,
            }
        }
        Some(kind)
    }

    /// The names in a directory ready for [`Candidates::nearest`], or `None` when it cannot be
    /// listed.
    pub fn candidates(&self, dir: &Path) -> Option<Arc<Candidates>> {
        if let Some(known) = read(&self.candidates).get(key(dir)) {
            return known.clone();
        }
        let prepared = self
            .listing(dir)
            .map(|names| Arc::new(Candidates::new(names.keys().map(String::as_str))));
        write(&self.candidates).insert(key(dir).into(), prepared.clone());
        prepared
    }

    /// The names in a directory, or `None` when it cannot be listed.
    pub fn listing(&self, dir: &Path) -> Option<Arc<Listing>> {
        if let Some(known) = read(&self.listings).get(key(dir)) {
            return known.clone();
        }
        let listing = read_listing(dir).map(Arc::new);
        write(&self.listings).insert(key(dir).into(), listing.clone());
        listing
    }
}

/// A poisoned lock only means another thread panicked mid-insert into a cache; the map is
/// still a valid cache.
fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

fn read_listing(dir: &Path) -> Option<Listing> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut names = Listing::default();
    for entry in entries.flatten() {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let is_dir = match entry.file_type() {
            Ok(t) if t.is_symlink() => entry.path().is_dir(),
            Ok(t) => t.is_dir(),
            Err(_) => continue,
        };
        names.insert(
            name,
            if is_dir {
                EntryKind::Dir
            } else {
                EntryKind::File
            },
        );
    }
    Some(names)
}

/// Removes `.` and folds `..` without touching the file system. Returns `None` when `..`
/// climbs above the path's root.
pub fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() || out.as_os_str().is_empty() {
                    return None;
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_base_agrees_with_strip_prefix() {
        for (path, base) in [
            ("/repo/docs/a.md", "/repo"),
            ("/repo/docs/a.md", "/repo/"),
            ("/repo/docs/a.md", "/"),
            ("/repo", "/repo"),
            ("/repository/a.md", "/repo"),
            ("/other/a.md", "/repo"),
            ("/repo/docs", "/repo/docs/a.md"),
        ] {
            let (path, base) = (Path::new(path), Path::new(base));
            assert_eq!(
                strip_base(path, base),
                path.strip_prefix(base).ok(),
                "{path:?} {base:?}"
            );
        }
    }

    #[test]
    fn normalize_folds_dots() {
        assert_eq!(
            normalize(Path::new("/a/b/../c/./d")),
            Some(PathBuf::from("/a/c/d"))
        );
        assert_eq!(normalize(Path::new("/a/../..")), None);
    }

    #[test]
    fn lookup_is_case_exact() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("Sub")).unwrap();
        std::fs::write(dir.path().join("Sub/Okta.md"), "x").unwrap();
        let index = FsIndex::default();
        let root = dir.path().canonicalize().unwrap();
        assert_eq!(
            index.lookup(&root.join("Sub/Okta.md")),
            Some(EntryKind::File)
        );
        assert_eq!(index.lookup(&root.join("Sub")), Some(EntryKind::Dir));
        assert_eq!(index.lookup(&root.join("sub/Okta.md")), None);
        assert_eq!(index.lookup(&root.join("Sub/okta.md")), None);
        assert_eq!(index.lookup(&root.join("Sub/Okta.md/x")), None);
    }
}
