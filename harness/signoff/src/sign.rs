//! SSH signatures over the JSON evidence, made and checked with `ssh-keygen -Y` as git does for
//! commits (`gpg.format ssh`), in the [`crate::NAMESPACE`] namespace.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::{SignoffError, NAMESPACE};

/// Runs `ssh-keygen` with `data` on stdin; its stdout, or its stderr as the problem.
fn ssh_keygen(
    args: &[&std::ffi::OsStr],
    data: &[u8],
    about: &Path,
) -> Result<String, SignoffError> {
    let problem = |problem: String| SignoffError::Signature {
        path: about.to_path_buf(),
        problem,
    };
    let mut child = Command::new("ssh-keygen")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            problem(format!(
                "cannot run ssh-keygen (install OpenSSH's client): {e}"
            ))
        })?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    // A write error means ssh-keygen exited early; its stderr says why.
    let _ = stdin.write_all(data);
    drop(stdin);
    let output = child
        .wait_with_output()
        .map_err(|e| problem(format!("ssh-keygen: {e}")))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(problem(format!("ssh-keygen: {}", stderr.trim())))
    }
}

/// `ssh-keygen -Y sign -f KEY -n ssoproof-signoff` over `data`: the armoured signature.
pub fn sign(key: &Path, data: &[u8]) -> Result<String, SignoffError> {
    ssh_keygen(
        &[
            "-Y".as_ref(),
            "sign".as_ref(),
            "-f".as_ref(),
            key.as_os_str(),
            "-n".as_ref(),
            NAMESPACE.as_ref(),
        ],
        data,
        key,
    )
}

/// Verifies `signature` (the `.sig` file) over `data` against an allowed-signers file: first
/// finds the principal the signing key belongs to (`-Y find-principals`, as git does), then
/// `ssh-keygen -Y verify -I <principal>`. Returns the principal.
pub fn verify(
    allowed_signers: &Path,
    signature: &Path,
    data: &[u8],
) -> Result<String, SignoffError> {
    if !ssoproof_config::fs::is_regular(signature) {
        return Err(SignoffError::Signature {
            path: signature.to_path_buf(),
            problem: "no signature: sign the record with `ssoproof signoff --sign-with KEY`".into(),
        });
    }
    let found = ssh_keygen(
        &[
            "-Y".as_ref(),
            "find-principals".as_ref(),
            "-f".as_ref(),
            allowed_signers.as_os_str(),
            "-s".as_ref(),
            signature.as_os_str(),
        ],
        b"",
        signature,
    )
    .map_err(|_| SignoffError::Signature {
        path: signature.to_path_buf(),
        problem: format!(
            "signed by a key that is not in the allowed signers ({})",
            allowed_signers.display()
        ),
    })?;
    let principal = found.lines().next().unwrap_or_default().trim().to_string();
    ssh_keygen(
        &[
            "-Y".as_ref(),
            "verify".as_ref(),
            "-f".as_ref(),
            allowed_signers.as_os_str(),
            "-I".as_ref(),
            principal.as_ref(),
            "-n".as_ref(),
            NAMESPACE.as_ref(),
            "-s".as_ref(),
            signature.as_os_str(),
        ],
        data,
        signature,
    )?;
    Ok(principal)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A throwaway ed25519 key, or `None` (said aloud) where ssh-keygen is absent.
    fn key(dir: &Path, name: &str) -> Option<(std::path::PathBuf, String)> {
        let path = dir.join(name);
        let made = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
            .arg(&path)
            .status();
        match made {
            Ok(s) if s.success() => {
                let public = std::fs::read_to_string(path.with_extension("pub")).unwrap();
                Some((path, public))
            }
            _ => {
                eprintln!("skipped: ssh-keygen is not installed");
                None
            }
        }
    }

    #[test]
    fn a_signature_verifies_only_by_an_allowed_key_and_over_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let Some((ada, ada_pub)) = key(dir.path(), "ada") else {
            return;
        };
        let Some((eve, _)) = key(dir.path(), "eve") else {
            return;
        };
        let signers = dir.path().join("allowed_signers");
        std::fs::write(&signers, format!("ada@example.com {ada_pub}")).unwrap();
        let sig = dir.path().join("r.json.sig");

        std::fs::write(&sig, sign(&ada, b"record").unwrap()).unwrap();
        assert_eq!(
            verify(&signers, &sig, b"record").unwrap(),
            "ada@example.com"
        );
        let err = verify(&signers, &sig, b"edited").unwrap_err();
        assert_eq!(err.code(), "signoff/signature");

        std::fs::write(&sig, sign(&eve, b"record").unwrap()).unwrap();
        let err = verify(&signers, &sig, b"record").unwrap_err();
        assert!(
            err.to_string().contains("not in the allowed signers"),
            "{err}"
        );
        let err = verify(&signers, &dir.path().join("none.sig"), b"record").unwrap_err();
        assert!(err.to_string().contains("no signature"), "{err}");
    }
}
