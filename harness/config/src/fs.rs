//! Reading a file a user named, safely: the one helper every file read in ssoproof goes
//! through. A FIFO, a socket or a device would block `read` forever (or never end), and a
//! directory fails with an obscure `EISDIR`; all are refused up front with what they are. Files
//! are also capped in size, so a mistaken `--realm /dev/zero`-like input or a runaway generated
//! file is an error, not gigabytes of memory.
//!
//! Errors are plain [`std::io::Error`]s (kind `InvalidInput` for a non-regular file,
//! `FileTooLarge` for the cap) so every caller's existing "cannot read PATH: …" shape and code
//! carry them unchanged.

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::Path;

/// The default cap: far above any real runbook, realm export (100,000 users is about 30 MB) or
/// configuration, far below what would exhaust memory.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Reads a regular file whole, at most [`MAX_FILE_BYTES`].
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    read_limited(path, MAX_FILE_BYTES)
}

/// Reads a regular file whole as UTF-8 text, at most [`MAX_FILE_BYTES`].
pub fn read_to_string(path: &Path) -> io::Result<String> {
    String::from_utf8(read(path)?).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// Reads a regular file whole, refusing anything else and anything over `max_bytes`.
pub fn read_limited(path: &Path, max_bytes: u64) -> io::Result<Vec<u8>> {
    let mut file = open_regular(path)?;
    let len = file.metadata()?.len();
    if len > max_bytes {
        return Err(too_large(len, max_bytes));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    // `take` guards against a file that grows while it is read.
    (&mut file).take(max_bytes + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_large(bytes.len() as u64, max_bytes));
    }
    Ok(bytes)
}

/// Opens `path` for reading if, once opened, it is a regular file. On Unix the open itself does
/// not block: `O_NONBLOCK` keeps a FIFO without a writer from hanging the open, and the check
/// is made on the opened handle, so a file swapped in between cannot slip through.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "it is {}, not a regular file: give the path of a file",
                describe(&metadata)
            ),
        ));
    }
    #[cfg(unix)]
    clear_nonblock(&file)?;
    Ok(file)
}

/// Whether `path` (following symlinks) is a regular file; `false` when it cannot be stat'ed.
pub fn is_regular(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// What a non-regular file is, for messages: "a directory", "a FIFO (named pipe)", …
pub fn describe(metadata: &Metadata) -> &'static str {
    let kind = metadata.file_type();
    if kind.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
    }
    if kind.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

fn too_large(len: u64, max: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        format!("{len} bytes, over the {max}-byte limit for one input file"),
    )
}

#[cfg(unix)]
fn clear_nonblock(file: &File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own, with flags read from it.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.md");
        std::fs::write(&path, "# A\n").unwrap();
        assert_eq!(read_to_string(&path).unwrap(), "# A\n");
        assert!(is_regular(&path));
    }

    #[test]
    fn refuses_a_directory_with_what_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let err = read(dir.path()).unwrap_err();
        assert!(err.to_string().contains("it is a directory"), "{err}");
        assert!(!is_regular(dir.path()));
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_fifo_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pipe");
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = read(&path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("a FIFO"), "{err}");
        assert!(!is_regular(&path));
    }

    #[test]
    fn refuses_a_file_over_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        std::fs::write(&path, vec![b'x'; 11]).unwrap();
        assert_eq!(read_limited(&path, 11).unwrap().len(), 11);
        let err = read_limited(&path, 10).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::FileTooLarge);
    }

    #[test]
    fn names_invalid_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latin1.feature");
        std::fs::write(&path, b"Feature: caf\xe9\n").unwrap();
        let err = read_to_string(&path).unwrap_err();
        assert!(err.to_string().contains("not UTF-8"), "{err}");
    }
}
