//! A Keycloak server distribution on disk (`keycloak-quarkus-dist`, unpacked) and the Java that
//! runs it: where `scripts/fetch-keycloak` leaves them, or where the environment says.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use super::{secs, KEYCLOAK_VERSION};

pub(super) const HOME_VAR: &str = "SSOPROOF_KEYCLOAK_HOME";
pub(super) const JAVA_VAR: &str = "SSOPROOF_KEYCLOAK_JAVA_HOME";
pub(super) const FETCH_HINT: &str =
    "run `scripts/fetch-keycloak` (needs Maven and Python 3) or set SSOPROOF_KEYCLOAK_HOME to an unpacked keycloak-quarkus-dist";

/// Keycloak 26 refuses to start on anything older.
pub(super) const MIN_JAVA: u32 = 21;
/// The build-time options the fetch script bakes in with `kc.sh build`, recorded in
/// [`BUILT_MARK`]; a distribution built with exactly these starts `--optimized`.
pub(super) const BUILD_OPTIONS: [&str; 2] = ["--db=dev-mem", "--health-enabled=true"];
const BUILT_MARK: &str = ".ssoproof-built";
/// The Java home the fetch script picked (or installed).
const JAVA_MARK: &str = ".ssoproof-java-home";
const JAVA_PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// Where to look; every field is injectable so the search is testable.
#[derive(Debug, Clone, Default)]
pub(super) struct Lookup {
    pub(super) home: Option<PathBuf>,
    pub(super) cache: Option<PathBuf>,
    pub(super) java_homes: Vec<(String, PathBuf)>,
}

impl Lookup {
    pub(super) fn from_env() -> Lookup {
        let var = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let cache = var("SSOPROOF_CACHE").or_else(|| {
            var("XDG_CACHE_HOME")
                .or_else(|| var("HOME").map(|h| h.join(".cache")))
                .map(|c| c.join("ssoproof"))
        });
        let java_homes = [JAVA_VAR, "JAVA_HOME"]
            .into_iter()
            .filter_map(|name| var(name).map(|v| (format!("${name}"), v)))
            .collect();
        Lookup {
            home: var(HOME_VAR),
            cache,
            java_homes,
        }
    }
}

/// A distribution that can be started.
#[derive(Debug, Clone)]
pub(super) struct Distribution {
    pub(super) home: PathBuf,
    /// `Keycloak - Version 26.7.3` in `version.txt`, as `26.7.3`.
    pub(super) version: String,
    pub(super) java: Java,
    /// Built with [`BUILD_OPTIONS`]: start `--optimized` instead of re-augmenting every time.
    pub(super) optimized: bool,
}

#[derive(Debug, Clone)]
pub(super) struct Java {
    /// `None`: the `java` on PATH.
    pub(super) home: Option<PathBuf>,
    pub(super) major: u32,
}

impl Distribution {
    /// Finds the distribution and a Java 21+ for it, or says what was looked at and what to do.
    pub(super) async fn find(lookup: &Lookup) -> Result<Distribution, String> {
        let home = match (&lookup.home, &lookup.cache) {
            (Some(home), _) => {
                if !home.join("bin/kc.sh").is_file() {
                    return Err(format!(
                        "${HOME_VAR} is {} but that has no bin/kc.sh; point it at an unpacked keycloak-quarkus-dist",
                        home.display()
                    ));
                }
                home.clone()
            }
            (None, Some(cache)) => {
                let home = cache.join(format!("keycloak-{KEYCLOAK_VERSION}"));
                if !home.join("bin/kc.sh").is_file() {
                    return Err(format!(
                        "no local Keycloak ({HOME_VAR} unset, none in {}): {FETCH_HINT}",
                        home.display()
                    ));
                }
                home
            }
            (None, None) => {
                return Err(format!(
                    "no local Keycloak ({HOME_VAR}, SSOPROOF_CACHE and HOME unset): {FETCH_HINT}"
                ))
            }
        };
        let version = std::fs::read_to_string(home.join("version.txt"))
            .ok()
            .and_then(|text| text.rsplit(' ').next().map(|v| v.trim().to_string()))
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "of unknown version".into());
        let java = find_java(&home, &lookup.java_homes).await?;
        let optimized = std::fs::read_to_string(home.join(BUILT_MARK))
            .is_ok_and(|built| built.split_whitespace().eq(BUILD_OPTIONS));
        Ok(Distribution {
            home,
            version,
            java,
            optimized,
        })
    }

    pub(super) fn describe(&self) -> String {
        let java = match &self.java.home {
            Some(home) => format!("Java {} at {}", self.java.major, home.display()),
            None => format!("Java {} on PATH", self.java.major),
        };
        format!(
            "Keycloak {} at {} ({java}{})",
            self.version,
            self.home.display(),
            if self.optimized { ", optimized" } else { "" }
        )
    }
}

/// The first Java 21+ of: the configured homes, the one the fetch script recorded, `java` on
/// PATH. Older ones are named in the error so the user sees why they were passed over.
async fn find_java(home: &Path, configured: &[(String, PathBuf)]) -> Result<Java, String> {
    let mut candidates: Vec<(String, Option<PathBuf>)> = configured
        .iter()
        .map(|(source, path)| (source.clone(), Some(path.clone())))
        .collect();
    if let Ok(recorded) = std::fs::read_to_string(home.join(JAVA_MARK)) {
        let recorded = recorded.trim();
        if !recorded.is_empty() {
            candidates.push((JAVA_MARK.to_string(), Some(PathBuf::from(recorded))));
        }
    }
    candidates.push(("PATH".into(), None));
    let mut refused = Vec::new();
    for (source, java_home) in candidates {
        let binary = java_home
            .as_ref()
            .map_or_else(|| PathBuf::from("java"), |h| h.join("bin/java"));
        match java_major(&binary).await {
            Ok(major) if major >= MIN_JAVA => {
                return Ok(Java {
                    home: java_home,
                    major,
                })
            }
            Ok(major) => refused.push(format!("{} ({source}) is Java {major}", binary.display())),
            Err(e) => refused.push(format!("{} ({source}): {e}", binary.display())),
        }
    }
    Err(format!(
        "no Java {MIN_JAVA} or later for Keycloak 26 ({}): set {JAVA_VAR} to a Java {MIN_JAVA}+ home, or run `scripts/fetch-keycloak`, which installs one",
        refused.join("; ")
    ))
}

async fn java_major(binary: &Path) -> Result<u32, String> {
    let run = tokio::process::Command::new(binary)
        .arg("-version")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = match tokio::time::timeout(JAVA_PROBE_TIMEOUT, run).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => return Err(e.to_string()),
        Err(_) => {
            return Err(format!(
                "`java -version` took over {}",
                secs(JAVA_PROBE_TIMEOUT)
            ))
        }
    };
    let text = String::from_utf8_lossy(&output.stderr) + String::from_utf8_lossy(&output.stdout);
    parse_java_major(&text).ok_or_else(|| {
        format!(
            "`java -version` printed no version: {}",
            text.lines().next().unwrap_or("(nothing)")
        )
    })
}

/// `openjdk version "21.0.8" 2025-07-15` → 21; the old `"1.8.0_392"` scheme → 8.
fn parse_java_major(text: &str) -> Option<u32> {
    let start = text.find("version \"")? + "version \"".len();
    let version = &text[start..];
    let mut parts = version.split(|c: char| !c.is_ascii_digit());
    let major: u32 = parts.next()?.parse().ok()?;
    if major == 1 {
        return parts.next()?.parse().ok();
    }
    Some(major)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_versions_parse_in_both_schemes() {
        assert_eq!(
            parse_java_major("openjdk version \"21.0.8\" 2025-07-15 LTS\nOpenJDK Runtime"),
            Some(21)
        );
        assert_eq!(
            parse_java_major("openjdk version \"17.0.15\" 2025-04-15"),
            Some(17)
        );
        assert_eq!(parse_java_major("java version \"1.8.0_392\""), Some(8));
        assert_eq!(
            parse_java_major("openjdk version \"25\" 2025-09-16"),
            Some(25)
        );
        assert_eq!(parse_java_major("no version here"), None);
    }

    #[tokio::test]
    async fn a_missing_distribution_says_where_it_looked_and_what_to_run() {
        let dir = tempfile::tempdir().unwrap();
        let lookup = Lookup {
            home: None,
            cache: Some(dir.path().to_path_buf()),
            java_homes: vec![],
        };
        let error = Distribution::find(&lookup).await.unwrap_err();
        assert!(
            error.starts_with("no local Keycloak (SSOPROOF_KEYCLOAK_HOME unset, none in "),
            "{error}"
        );
        assert!(error.ends_with(FETCH_HINT), "{error}");

        let lookup = Lookup {
            home: Some(dir.path().join("nowhere")),
            ..Lookup::default()
        };
        let error = Distribution::find(&lookup).await.unwrap_err();
        assert!(
            error.contains("nowhere but that has no bin/kc.sh"),
            "{error}"
        );
    }

    /// A fake `java` that reports Java 17 is passed over and named; with nothing else found the
    /// error says how to get a Java 21.
    #[cfg(unix)]
    #[tokio::test]
    async fn java_older_than_21_is_refused_by_name() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("keycloak");
        std::fs::create_dir_all(home.join("bin")).unwrap();
        std::fs::write(home.join("bin/kc.sh"), "#!/bin/sh\n").unwrap();
        let old = dir.path().join("jdk17");
        std::fs::create_dir_all(old.join("bin")).unwrap();
        let java = old.join("bin/java");
        std::fs::write(
            &java,
            "#!/bin/sh\necho 'openjdk version \"17.0.15\" 2025-04-15' >&2\n",
        )
        .unwrap();
        std::fs::set_permissions(&java, std::fs::Permissions::from_mode(0o755)).unwrap();

        let error = find_java(&home, &[("$JAVA_HOME".into(), old.clone())])
            .await
            .map(|_| ())
            .unwrap_err();
        assert!(
            error.contains("jdk17/bin/java ($JAVA_HOME) is Java 17"),
            "{error}"
        );

        // Recorded by the fetch script: found without any variable.
        let new = dir.path().join("jdk21");
        std::fs::create_dir_all(new.join("bin")).unwrap();
        std::fs::write(
            new.join("bin/java"),
            "#!/bin/sh\necho 'openjdk version \"21.0.8\" 2025-07-15 LTS' >&2\n",
        )
        .unwrap();
        std::fs::set_permissions(new.join("bin/java"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        std::fs::write(home.join(JAVA_MARK), format!("{}\n", new.display())).unwrap();
        let java = find_java(&home, &[("$JAVA_HOME".into(), old)])
            .await
            .unwrap();
        assert_eq!(java.major, 21);
        assert_eq!(java.home.as_deref(), Some(new.as_path()));
    }
}
