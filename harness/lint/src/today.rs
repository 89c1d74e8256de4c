//! "Today" for the review-date rules: the HEAD commit's date inside a git repository, so that a
//! run on an old commit gives the same answer tomorrow; the system date elsewhere.

use std::path::Path;
use std::process::Command;

use time::{Date, OffsetDateTime};

use ssoproof_config::IsoDate;

/// Where the date came from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TodaySource {
    Flag,
    HeadCommit,
    SystemClock,
}

pub fn today(root: &Path, flag: Option<Date>) -> (Date, TodaySource) {
    if let Some(date) = flag {
        return (date, TodaySource::Flag);
    }
    match head_commit_date(root) {
        Some(date) => (date, TodaySource::HeadCommit),
        None => (OffsetDateTime::now_utc().date(), TodaySource::SystemClock),
    }
}

/// `git log -1 --format=%cs`: the committer date of HEAD, in the committer's time zone.
fn head_commit_date(root: &Path) -> Option<Date> {
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["log", "-1", "--format=%cs"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    IsoDate::parse(String::from_utf8_lossy(&output.stdout).trim())
        .ok()
        .map(|d| d.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_wins_and_plain_folders_use_the_clock() {
        let dir = tempfile::tempdir().unwrap();
        let flag = time::macros::date!(2026 - 01 - 02);
        assert_eq!(today(dir.path(), Some(flag)), (flag, TodaySource::Flag));
        assert_eq!(today(dir.path(), None).1, TodaySource::SystemClock);
    }

    #[test]
    fn head_commit_date_inside_git() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let status = Command::new("git")
                .arg("-C")
                .arg(dir.path())
                .args(args)
                .env("GIT_COMMITTER_DATE", "2024-03-05T10:00:00+00:00")
                .env("GIT_AUTHOR_DATE", "2024-03-05T10:00:00+00:00")
                .status()
                .unwrap();
            assert!(status.success());
        };
        git(&["init", "-q"]);
        git(&[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "x",
        ]);
        assert_eq!(
            today(dir.path(), None),
            (time::macros::date!(2024 - 03 - 05), TodaySource::HeadCommit)
        );
    }
}
