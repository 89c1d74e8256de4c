//! Where the current refresh token lives. With rotation every refresh returns a new refresh token
//! and invalidates the old one, so the new one is saved the instant it arrives, before anything
//! uses it: a crash after the refresh must not leave only a dead token behind.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rand::RngCore;

use super::RpError;
use ssoproof_secret::Secret;

/// Persists the current refresh token.
pub trait TokenStore: Send + Sync {
    /// Saves `token`, replacing the previous one. An error aborts the refresh that got it.
    fn save_refresh_token(&self, token: &Secret) -> Result<(), RpError>;
    /// The saved token, if any.
    fn load_refresh_token(&self) -> Result<Option<Secret>, RpError>;
}

/// A store in memory, for tests and short-lived processes.
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    token: Mutex<Option<Secret>>,
}

impl MemoryTokenStore {
    pub fn new() -> MemoryTokenStore {
        MemoryTokenStore::default()
    }
}

impl TokenStore for MemoryTokenStore {
    fn save_refresh_token(&self, token: &Secret) -> Result<(), RpError> {
        *self.token.lock().unwrap_or_else(|p| p.into_inner()) = Some(token.clone());
        Ok(())
    }

    fn load_refresh_token(&self) -> Result<Option<Secret>, RpError> {
        Ok(self.token.lock().unwrap_or_else(|p| p.into_inner()).clone())
    }
}

/// A store in one file, replaced atomically: the token is written to a temporary file in the
/// same folder, flushed to disk and renamed over the old file, so a reader (or a crash) sees the
/// old token or the new one, never half of one. On Unix the file is readable by its owner only.
#[derive(Debug, Clone)]
pub struct FileTokenStore {
    path: PathBuf,
}

impl FileTokenStore {
    pub fn new(path: impl Into<PathBuf>) -> FileTokenStore {
        FileTokenStore { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn failed(&self, doing: &str, error: std::io::Error) -> RpError {
        RpError::TokenStoreFailed {
            problem: format!("{doing} {}: {error}", self.path.display()),
        }
    }

    fn temp_path(&self) -> PathBuf {
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "refresh-token".to_string());
        let tag = rand::rngs::OsRng.next_u64();
        self.path
            .with_file_name(format!(".{name}.{}.{tag:016x}.tmp", std::process::id()))
    }
}

impl TokenStore for FileTokenStore {
    fn save_refresh_token(&self, token: &Secret) -> Result<(), RpError> {
        let temp = self.temp_path();
        let write = || -> std::io::Result<()> {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(&temp)?;
            file.write_all(token.expose().as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&temp, &self.path)?;
            // Make the rename itself durable where the platform allows opening a folder.
            #[cfg(unix)]
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::File::open(dir)?.sync_all()?;
            }
            Ok(())
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            self.failed("cannot write", e)
        })
    }

    fn load_refresh_token(&self) -> Result<Option<Secret>, RpError> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) if text.trim().is_empty() => Ok(None),
            Ok(text) => Ok(Some(Secret::new(text.trim()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.failed("cannot read", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_store_round_trip() {
        let store = MemoryTokenStore::new();
        assert!(store.load_refresh_token().unwrap().is_none());
        store.save_refresh_token(&Secret::new("rt-1")).unwrap();
        store.save_refresh_token(&Secret::new("rt-2")).unwrap();
        assert_eq!(
            store.load_refresh_token().unwrap().unwrap().expose(),
            "rt-2"
        );
    }

    #[test]
    fn file_store_replaces_atomically_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileTokenStore::new(dir.path().join("refresh"));
        assert!(store.load_refresh_token().unwrap().is_none());
        store.save_refresh_token(&Secret::new("rt-1")).unwrap();
        store.save_refresh_token(&Secret::new("rt-2")).unwrap();
        assert_eq!(
            store.load_refresh_token().unwrap().unwrap().expose(),
            "rt-2"
        );
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["refresh"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn file_store_failure_is_typed_and_names_no_token() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileTokenStore::new(dir.path().join("missing-folder").join("refresh"));
        let err = store
            .save_refresh_token(&Secret::new("rt-secret"))
            .unwrap_err();
        assert_eq!(err.code(), "token_store_failed");
        assert!(err.to_string().contains("missing-folder"), "{err}");
        assert!(!format!("{err} {err:?}").contains("rt-secret"));
    }
}
