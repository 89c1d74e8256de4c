//! `verify --shard I/N`: a deterministic share of the scenarios, so matrix jobs can each run one.
//!
//! A scenario's shard is a stable hash of its feature file's path (relative to the feature
//! folder, with `/` separators) and its name, modulo N. The hash depends on nothing but those
//! two strings: not on run order, the machine, the checkout's absolute path or the other
//! scenarios, so adding a scenario never moves another to a different shard (round-robin over
//! the sorted list would move every scenario after it).

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// The start of the skip reason given to scenarios that another shard runs.
pub const NOT_IN_SHARD: &str = "not run in this shard";

/// One share `index` of `count` (1-based, as written on the command line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: u32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("--shard {given:?}: {problem}; write I/N with 1 <= I <= N, for example --shard 2/4")]
pub struct ShardError {
    given: String,
    problem: &'static str,
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(given: &str) -> Result<Self, ShardError> {
        let error = |problem| ShardError {
            given: given.to_string(),
            problem,
        };
        let (index, count) = given.split_once('/').ok_or_else(|| error("no `/`"))?;
        let number = |s: &str| {
            s.trim()
                .parse::<u32>()
                .map_err(|_| error("I and N must be whole numbers"))
        };
        let (index, count) = (number(index)?, number(count)?);
        if count == 0 {
            return Err(error("N must be at least 1"));
        }
        if index == 0 || index > count {
            return Err(error("I must be between 1 and N"));
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// The shard (1-based) that runs the scenario `name` of the feature file `feature`, which
    /// lies in (or is) the feature folder `features`.
    pub fn of(count: u32, features: &Path, feature: &Path, name: &str) -> u32 {
        // cucumber names features by their canonical path; the folder may be named otherwise.
        let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
        let (features, feature) = match feature.strip_prefix(features) {
            Ok(_) => (features.to_path_buf(), feature.to_path_buf()),
            Err(_) => (canonical(features), canonical(feature)),
        };
        let relative = feature
            .strip_prefix(&features)
            .ok()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| Path::new(feature.file_name().unwrap_or_default()));
        let key: Vec<String> = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let mut hash = Sha256::new();
        hash.update(key.join("/").as_bytes());
        hash.update([0]);
        hash.update(name.as_bytes());
        let digest = hash.finalize();
        let head = u64::from_be_bytes(digest[..8].try_into().expect("a SHA-256 has 32 bytes"));
        (head % u64::from(count)) as u32 + 1
    }

    /// Whether this shard runs the scenario (see [`Shard::of`]).
    pub fn runs(&self, features: &Path, feature: &Path, name: &str) -> bool {
        Shard::of(self.count, features, feature, name) == self.index
    }

    /// The skip reason of a scenario this shard leaves to another.
    pub fn skip_reason(&self, features: &Path, feature: &Path, name: &str) -> String {
        format!(
            "{NOT_IN_SHARD} ({self}): shard {}/{} runs it",
            Shard::of(self.count, features, feature, name),
            self.count
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn bad_shards_are_refused_naming_the_flag() {
        for bad in [
            "0/3", "4/3", "1/0", "0/0", "a/2", "1/b", "3", "", "1/2/3", "-1/2",
        ] {
            let error = bad.parse::<Shard>().unwrap_err().to_string();
            assert!(error.starts_with("--shard "), "{bad}: {error}");
            assert!(error.contains("I/N"), "{bad}: {error}");
        }
        assert_eq!("2/4".parse::<Shard>().unwrap().to_string(), "2/4");
        assert_eq!("1/1".parse::<Shard>().unwrap().to_string(), "1/1");
    }

    /// Every scenario of the project's own features falls in exactly one shard, for several N,
    /// so the shards' union is the whole set with no overlap.
    #[test]
    fn shards_partition_the_scenarios() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../features");
        let features = crate::scenario::feature_files(&root).unwrap();
        let all: Vec<(PathBuf, String)> = features
            .iter()
            .flat_map(|f| f.scenarios.iter().map(|s| (f.path.clone(), s.name.clone())))
            .collect();
        assert!(all.len() > 20, "the project has scenarios to split");
        for count in [1u32, 2, 3, 5, 8] {
            let shards: Vec<Shard> = (1..=count)
                .map(|i| format!("{i}/{count}").parse().unwrap())
                .collect();
            let mut sizes = vec![0usize; count as usize];
            for (feature, name) in &all {
                let owners: Vec<usize> = (0..shards.len())
                    .filter(|&i| shards[i].runs(&root, feature, name))
                    .collect();
                assert_eq!(owners.len(), 1, "{name} in {count} shards: {owners:?}");
                sizes[owners[0]] += 1;
            }
            assert_eq!(sizes.iter().sum::<usize>(), all.len());
            if count <= 3 {
                assert!(sizes.iter().all(|&n| n > 0), "{count} shards: {sizes:?}");
            }
        }
    }

    /// The shard depends on the path inside the feature folder, not on where the checkout is.
    #[test]
    fn the_shard_does_not_depend_on_the_checkout() {
        let a = Shard::of(
            7,
            Path::new("/a/features"),
            Path::new("/a/features/x/y.feature"),
            "s",
        );
        let b = Shard::of(
            7,
            Path::new("/tmp/b/features"),
            Path::new("/tmp/b/features/x/y.feature"),
            "s",
        );
        assert_eq!(a, b);
        // Pinned: a change here would move scenarios between matrix jobs' shards.
        let pinned: Vec<u32> = ["one", "two", "three", "four"]
            .iter()
            .map(|n| Shard::of(4, Path::new("f"), Path::new("f/a.feature"), n))
            .collect();
        assert_eq!(pinned, vec![2, 1, 1, 4]);
    }
}
