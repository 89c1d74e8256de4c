//! Where records live, reading them back (with the checks that catch a hand edit), writing them
//! without ever leaving half a record, and the operator's answers file.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use ssoproof_config::{yaml::Step, FileDomain, FileError};

use crate::{markdown, Answer, ItemFingerprint, Record, SignoffError};

/// The folder of one runbook's records: `<signoff.dir>/<runbook path without .md>/`, so two
/// runbooks with the same file name in different folders do not share one.
pub fn runbook_dir(records: &Path, runbook: &str) -> PathBuf {
    let without = runbook.strip_suffix(".md").unwrap_or(runbook);
    records.join(without)
}

/// A record's files: `<date>.json`, the `.md` beside it, the `.json.sig` signature, and the
/// `.html` page (`--format html`), a view for people that no check reads (see [`write`]).
#[derive(Debug, Clone)]
pub struct RecordPaths {
    pub json: PathBuf,
    pub markdown: PathBuf,
    pub signature: PathBuf,
    pub html: PathBuf,
}

impl RecordPaths {
    pub fn of_json(json: PathBuf) -> RecordPaths {
        RecordPaths {
            markdown: json.with_extension("md"),
            signature: json.with_extension("json.sig"),
            html: json.with_extension("html"),
            json,
        }
    }

    pub fn for_date(dir: &Path, date: &str) -> RecordPaths {
        RecordPaths::of_json(dir.join(format!("{date}.json")))
    }
}

/// The newest record of a runbook (names are ISO dates, which sort by time), if any.
pub fn latest(dir: &Path) -> Result<Option<RecordPaths>, SignoffError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(SignoffError::Read {
                path: dir.into(),
                source,
            })
        }
    };
    Ok(entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .max()
        .map(RecordPaths::of_json))
}

/// Reads a record and holds it to what `ssoproof signoff` wrote: its JSON parses into the
/// record model (no field added or removed), its own hash matches its content, and the
/// Markdown beside it is exactly the rendering of the JSON.
pub fn load(paths: &RecordPaths) -> Result<(Record, String), SignoffError> {
    let text =
        ssoproof_config::fs::read_to_string(&paths.json).map_err(|source| SignoffError::Read {
            path: paths.json.clone(),
            source,
        })?;
    let record: Record = serde_json::from_str(&text).map_err(|e| SignoffError::Record {
        path: paths.json.clone(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let line_of = |needle: &str| {
        text.lines()
            .position(|l| l.contains(needle))
            .map_or(1, |n| n + 1)
    };
    if !record.is_sealed() {
        return Err(SignoffError::Edited {
            path: paths.json.clone(),
            line: line_of("\"record_sha256\""),
            problem: "its content no longer matches its `record_sha256`".into(),
        });
    }
    let expected = markdown(&record, &file_name(&paths.json));
    let found = ssoproof_config::fs::read_to_string(&paths.markdown).map_err(|source| {
        SignoffError::Read {
            path: paths.markdown.clone(),
            source,
        }
    })?;
    if found != expected {
        let line = found
            .lines()
            .zip(expected.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| found.lines().count().min(expected.lines().count()))
            + 1;
        return Err(SignoffError::Edited {
            path: paths.markdown.clone(),
            line,
            problem: "this line differs from the rendering of its JSON evidence".into(),
        });
    }
    Ok((record, text))
}

pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// What [`write`] would refuse, found before a run so the operator does not wait for the
/// scenarios to learn it: an existing record (unless `force`), or a record folder that cannot
/// be created or written. Leaves nothing behind, not even the folder: a sign-off refused later
/// writes nothing.
pub fn preflight(paths: &RecordPaths, force: bool) -> Result<(), SignoffError> {
    if !force {
        refuse_existing(paths)?;
    }
    let dir = paths.json.parent().unwrap_or(Path::new("."));
    let write_error = |source| SignoffError::Write {
        dir: dir.to_path_buf(),
        source,
    };
    // The folder, or the nearest existing one `create_dir_all` would create it in.
    let existing = dir
        .ancestors()
        .map(|a| {
            if a.as_os_str().is_empty() {
                Path::new(".")
            } else {
                a
            }
        })
        .find(|a| a.symlink_metadata().is_ok())
        .unwrap_or(Path::new("."));
    if !existing.is_dir() {
        return Err(write_error(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            format!("{} is not a folder", existing.display()),
        )));
    }
    // Permission bits do not tell (root, ACLs, read-only mounts): create a file of our own and
    // remove it at once. By hand rather than with `tempfile`, which would add its dependencies
    // to the pre-commit hook's cold build (the linter depends on this crate).
    let probe = existing.join(format!(
        ".ssoproof-signoff-probe-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(write_error)?;
    std::fs::remove_file(&probe).map_err(write_error)?;
    Ok(())
}

fn refuse_existing(paths: &RecordPaths) -> Result<(), SignoffError> {
    match [&paths.json, &paths.markdown, &paths.signature, &paths.html]
        .into_iter()
        .find(|p| p.symlink_metadata().is_ok())
    {
        Some(existing) => Err(SignoffError::Exists {
            path: existing.clone(),
        }),
        None => Ok(()),
    }
}

/// Writes the record's files: each to a temporary file in the same folder first, then renamed
/// over its name, so a failed run leaves no half-written record. An existing record is only
/// replaced with `force`.
///
/// `html` is the record's page, written with it. It is a derived view and not evidence: it
/// shows the scenarios' steps as the feature files said when it was made, which the record
/// does not hold, so it cannot be re-rendered from the JSON, and `signoff check` ignores it.
pub fn write(
    paths: &RecordPaths,
    record: &Record,
    signature: Option<&str>,
    html: Option<&str>,
    force: bool,
) -> Result<(), SignoffError> {
    let dir = paths.json.parent().unwrap_or(Path::new("."));
    let write_error = |source| SignoffError::Write {
        dir: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(write_error)?;
    if !force {
        refuse_existing(paths)?;
    }
    let json = record.to_json();
    let md = markdown(record, &file_name(&paths.json));
    let mut files: Vec<(&PathBuf, &str)> = vec![(&paths.markdown, &md)];
    if let Some(signature) = signature {
        files.push((&paths.signature, signature));
    }
    if let Some(html) = html {
        files.push((&paths.html, html));
    }
    // The JSON last: it is what `latest` finds, so a record is only seen once it is whole.
    files.push((&paths.json, &json));
    let mut staged = Vec::new();
    for (path, text) in &files {
        let partial = dir.join(format!(".{}.partial", file_name(path)));
        let staged_one = std::fs::File::create(&partial).and_then(|mut f| {
            f.write_all(text.as_bytes())?;
            f.sync_all()
        });
        if let Err(e) = staged_one {
            staged.push(partial);
            staged.iter().for_each(|p| drop(std::fs::remove_file(p)));
            return Err(write_error(e));
        }
        staged.push(partial);
    }
    if force {
        // A replaced record must not keep the old record's signature or page beside it.
        if signature.is_none() {
            let _ = std::fs::remove_file(&paths.signature);
        }
        if html.is_none() {
            let _ = std::fs::remove_file(&paths.html);
        }
    }
    for ((path, _), partial) in files.iter().zip(&staged) {
        std::fs::rename(partial, path).map_err(write_error)?;
    }
    Ok(())
}

/// The answers file's error codes: every problem with it is `signoff/answers`.
pub enum AnswersFile {}

impl FileDomain for AnswersFile {
    const READ: &'static str = "signoff/answers";
    const SYNTAX: &'static str = "signoff/answers";
    const INVALID: &'static str = "signoff/answers";
}

pub type AnswersError = FileError<AnswersFile>;

/// One entry of `--answers FILE`: `<item text or id>: {answer: yes|no|skip, note: …}`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AnswerEntry {
    pub answer: Answer,
    #[serde(default)]
    pub note: Option<String>,
}

/// The answers file, parsed strictly, with each key matched to a checklist item (by id or
/// text, with or without the `[manual]` marker): a key naming no item is an error at its line.
/// Returns the answers by item id.
pub fn read_answers(
    path: &Path,
    items: &[ItemFingerprint],
    manual_marker: &str,
) -> Result<BTreeMap<String, AnswerEntry>, AnswersError> {
    let text = ssoproof_config::read_text::<AnswersFile>(path)?;
    let entries: BTreeMap<String, AnswerEntry> = if text.trim().is_empty() {
        BTreeMap::new()
    } else {
        ssoproof_config::from_yaml::<_, AnswersFile>(&text, path)?
    };
    let plain = |t: &str| {
        t.replace(manual_marker, "")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut by_id = BTreeMap::new();
    for (key, entry) in entries {
        let Some(item) = items
            .iter()
            .find(|i| i.id == key || i.text == key || plain(&i.text) == plain(&key))
        else {
            let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
            return Err(AnswersError::invalid_at(
                path,
                &text,
                &[Step::Key(key.clone())],
                &key,
                format!(
                    "names no checklist item of the runbook; use an item's text or id ({})",
                    ids.join(", ")
                ),
            ));
        };
        if !item.manual || !item.scenarios.is_empty() {
            return Err(AnswersError::invalid_at(
                path,
                &text,
                &[Step::Key(key.clone())],
                &key,
                format!(
                    "`{}` is proved by its scenario, not answered; answer only `{manual_marker}` items",
                    item.text
                ),
            ));
        }
        by_id.insert(item.id.clone(), entry);
    }
    Ok(by_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Verdict;

    #[test]
    fn a_written_record_loads_and_an_edit_to_either_file_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let paths = RecordPaths::for_date(&runbook_dir(dir.path(), "runbooks/kc.md"), "2026-12-01");
        let record = crate::tests::record();
        write(&paths, &record, None, None, false).unwrap();
        assert!(paths.json.ends_with("runbooks/kc/2026-12-01.json"));
        assert_eq!(load(&paths).unwrap().0, record);
        assert_eq!(
            latest(paths.json.parent().unwrap()).unwrap().unwrap().json,
            paths.json
        );

        // Nothing is overwritten without force, and no partial file is left behind.
        let err = write(&paths, &record, None, None, false).unwrap_err();
        assert_eq!(err.code(), "signoff/exists");
        write(&paths, &record, None, None, true).unwrap();
        let names: Vec<String> = std::fs::read_dir(paths.json.parent().unwrap())
            .unwrap()
            .map(|e| file_name(&e.unwrap().path()))
            .collect();
        assert!(names.iter().all(|n| !n.contains("partial")), "{names:?}");

        let md = std::fs::read_to_string(&paths.markdown).unwrap();
        std::fs::write(
            &paths.markdown,
            md.replace("- [x] item admin", "- [x] item ADMIN"),
        )
        .unwrap();
        let err = load(&paths).unwrap_err();
        assert_eq!(err.code(), "signoff/edited");
        assert!(err.to_string().contains(".md:"), "{err}");

        let mut failed = record.clone();
        failed.items[0].result = Verdict::Failed;
        write(&paths, &record, None, None, true).unwrap();
        let json = std::fs::read_to_string(&paths.json).unwrap();
        std::fs::write(&paths.json, json.replacen("\"passed\"", "\"failed\"", 1)).unwrap();
        let err = load(&paths).unwrap_err();
        assert_eq!(err.code(), "signoff/edited");
        assert!(err.to_string().contains("record_sha256"), "{err}");

        std::fs::write(&paths.json, "{\"format\": 1}").unwrap();
        assert_eq!(load(&paths).unwrap_err().code(), "signoff/record");
    }

    #[test]
    fn the_page_is_written_with_the_record_and_not_kept_past_it() {
        let dir = tempfile::tempdir().unwrap();
        let paths = RecordPaths::for_date(&runbook_dir(dir.path(), "runbooks/kc.md"), "2026-12-01");
        let record = crate::tests::record();
        write(&paths, &record, None, Some("<!DOCTYPE html>"), false).unwrap();
        assert!(paths.html.ends_with("runbooks/kc/2026-12-01.html"));
        assert_eq!(
            std::fs::read_to_string(&paths.html).unwrap(),
            "<!DOCTYPE html>"
        );
        // The page is no evidence: the record loads whatever it says.
        std::fs::write(&paths.html, "edited").unwrap();
        assert_eq!(load(&paths).unwrap().0, record);

        // A page alone is a record not to overwrite.
        std::fs::remove_file(&paths.json).unwrap();
        std::fs::remove_file(&paths.markdown).unwrap();
        let err = write(&paths, &record, None, None, false).unwrap_err();
        assert_eq!(err.code(), "signoff/exists");
        assert!(err.to_string().contains("2026-12-01.html"), "{err}");
        // A record replaced without a page does not keep the old one's.
        write(&paths, &record, None, None, true).unwrap();
        assert!(!paths.html.exists());
    }

    #[test]
    fn an_unwritable_folder_is_a_write_error_naming_it() {
        // A file where the folder should be: refused even for root, whom permissions do not stop.
        let dir = tempfile::tempdir().unwrap();
        let blocked = dir.path().join("signoffs");
        std::fs::write(&blocked, "a file").unwrap();
        let paths = RecordPaths::for_date(&blocked.join("runbooks/kc"), "2026-12-01");
        let err = write(&paths, &crate::tests::record(), None, None, false).unwrap_err();
        assert_eq!(err.code(), "signoff/write");
        assert!(err.to_string().contains("signoffs/runbooks/kc"), "{err}");
        assert_eq!(std::fs::read_to_string(&blocked).unwrap(), "a file");
    }

    #[test]
    fn preflight_refuses_what_write_would_and_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let paths = RecordPaths::for_date(
            &runbook_dir(&dir.path().join("signoffs"), "runbooks/kc.md"),
            "2026-12-01",
        );
        // A folder yet to be made, in a writable one: fine, and still not made.
        preflight(&paths, false).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

        // A file where a folder should be, the record's folder or one above it.
        std::fs::write(dir.path().join("signoffs"), "a file").unwrap();
        let err = preflight(&paths, false).unwrap_err();
        assert_eq!(err.code(), "signoff/write");
        assert!(err.to_string().contains("signoffs/runbooks/kc"), "{err}");
        assert!(err.to_string().contains("is not a folder"), "{err}");
        std::fs::remove_file(dir.path().join("signoffs")).unwrap();

        // Any file of the day's record, unless forced; the probe leaves no file behind.
        write(&paths, &crate::tests::record(), None, None, false).unwrap();
        std::fs::remove_file(&paths.json).unwrap();
        assert_eq!(
            preflight(&paths, false).unwrap_err().code(),
            "signoff/exists"
        );
        preflight(&paths, true).unwrap();
        let names: Vec<String> = std::fs::read_dir(paths.json.parent().unwrap())
            .unwrap()
            .map(|e| file_name(&e.unwrap().path()))
            .collect();
        assert_eq!(names, ["2026-12-01.md"]);
    }

    #[test]
    fn answers_match_items_by_id_or_text_and_an_unknown_one_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("answers.yaml");
        let mut items = crate::tests::record()
            .items
            .into_iter()
            .map(|i| i.item)
            .collect::<Vec<_>>();
        std::fs::write(&path, "admin-role: {answer: yes}\n").unwrap();
        let err = read_answers(&path, &items, "[manual]").unwrap_err();
        assert!(err.to_string().contains("proved by its scenario"), "{err}");
        for item in &mut items {
            item.manual = true;
            item.scenarios.clear();
        }
        std::fs::write(
            &path,
            "admin-role: {answer: yes}\n\"item wrong-password\":\n  answer: no\n  note: not yet\n",
        )
        .unwrap();
        let answers = read_answers(&path, &items, "[manual]").unwrap();
        assert_eq!(answers["admin-role"].answer, Answer::Yes);
        assert_eq!(answers["wrong-password"].note.as_deref(), Some("not yet"));

        std::fs::write(
            &path,
            "admin-role: {answer: yes}\nno such item: {answer: yes}\n",
        )
        .unwrap();
        let err = read_answers(&path, &items, "[manual]").unwrap_err();
        assert_eq!(err.code(), "signoff/answers");
        assert!(err.to_string().contains("answers.yaml:2"), "{err}");

        std::fs::write(&path, "admin-role: yes\n").unwrap();
        let err = read_answers(&path, &items, "[manual]").unwrap_err();
        assert!(err.to_string().contains("answers.yaml:1"), "{err}");
        std::fs::write(&path, "admin-role: {answer: maybe}\n").unwrap();
        assert_eq!(
            read_answers(&path, &items, "[manual]").unwrap_err().code(),
            "signoff/answers"
        );
    }
}
