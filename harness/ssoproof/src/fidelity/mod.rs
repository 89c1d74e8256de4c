//! The emulator held to the server it imitates: the same requests sent to the embedded
//! emulator and to a real Keycloak, both serving `fixtures/keycloak-realm.json`, and every
//! answer compared after [`normalize`] levelled what may differ (addresses, random values,
//! times). A difference is either fixed in the emulator or listed, with its reason, in the
//! reviewed file of accepted deviations ([`Deviations`], `fixtures/fidelity/keycloak.yaml`);
//! anything else fails, and so does a listed deviation that no longer occurs.

mod normalize;
mod probe;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::backend::{Idp, RealmFixture};
pub use probe::Observations;

/// The reviewed list of accepted differences.
pub const DEVIATIONS_FILE: &str = "fixtures/fidelity/keycloak.yaml";

#[derive(Debug, thiserror::Error)]
pub enum FidelityError {
    /// `fidelity/deviations`: the deviations file cannot be read or is not what it should be.
    #[error("{}: {message}", path.display())]
    Deviations { path: PathBuf, message: String },
    /// `fidelity/probe`: a probe could not be carried out against one of the servers.
    #[error("probing {target}: {message}")]
    Probe { target: String, message: String },
}

impl FidelityError {
    pub fn code(&self) -> &'static str {
        match self {
            FidelityError::Deviations { .. } => "fidelity/deviations",
            FidelityError::Probe { .. } => "fidelity/probe",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviationsFile {
    /// The Keycloak release the list was reviewed against.
    keycloak: String,
    deviations: Vec<Deviation>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deviation {
    pub probe: String,
    pub reason: String,
}

/// Accepted differences, by probe id.
#[derive(Debug, Default)]
pub struct Deviations {
    pub keycloak: String,
    by_probe: BTreeMap<String, Deviation>,
}

impl Deviations {
    pub fn load(path: &Path) -> Result<Deviations, FidelityError> {
        let error = |message: String| FidelityError::Deviations {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| error(format!("cannot read: {e}")))?;
        let file: DeviationsFile =
            serde_yaml_ng::from_str(&text).map_err(|e| error(e.to_string()))?;
        let mut by_probe = BTreeMap::new();
        for deviation in file.deviations {
            if deviation.reason.trim().is_empty() {
                return Err(error(format!(
                    "the deviation of `{}` gives no reason",
                    deviation.probe
                )));
            }
            if let Some(old) = by_probe.insert(deviation.probe.clone(), deviation) {
                return Err(error(format!("`{}` is listed twice", old.probe)));
            }
        }
        Ok(Deviations {
            keycloak: file.keycloak,
            by_probe,
        })
    }
}

/// Probes both servers with the same requests.
pub async fn observe_both(
    emulator: &dyn Idp,
    keycloak: &dyn Idp,
    fixture: &RealmFixture,
) -> Result<(Observations, Observations), FidelityError> {
    let emulated = observe(emulator, fixture, "the emulator").await?;
    let real = observe(keycloak, fixture, "Keycloak").await?;
    Ok((emulated, real))
}

async fn observe(
    idp: &dyn Idp,
    fixture: &RealmFixture,
    target: &str,
) -> Result<Observations, FidelityError> {
    let error = |message: String| FidelityError::Probe {
        target: target.to_string(),
        message,
    };
    let prober = probe::Prober::new(idp, fixture).await.map_err(error)?;
    prober.run().await.map_err(error)
}

/// The comparison of two sets of observations.
#[derive(Debug, Default)]
pub struct Report {
    pub probes: usize,
    pub identical: usize,
    /// Differences the deviations file accepts.
    pub accepted: Vec<(Deviation, Difference)>,
    /// Differences it does not: each one fails.
    pub unexpected: Vec<Difference>,
    /// Listed deviations that did not occur: the list is out of date, which fails too.
    pub stale: Vec<Deviation>,
}

#[derive(Debug, Clone)]
pub struct Difference {
    pub probe: String,
    pub emulator: Option<Value>,
    pub keycloak: Option<Value>,
}

impl Report {
    pub fn compare(
        emulator: &Observations,
        keycloak: &Observations,
        deviations: &Deviations,
    ) -> Report {
        let mut report = Report::default();
        let probes: std::collections::BTreeSet<&String> =
            emulator.keys().chain(keycloak.keys()).collect();
        for probe in probes {
            report.probes += 1;
            let (e, k) = (emulator.get(probe), keycloak.get(probe));
            if e == k {
                report.identical += 1;
                continue;
            }
            let difference = Difference {
                probe: probe.clone(),
                emulator: e.cloned(),
                keycloak: k.cloned(),
            };
            match deviations.by_probe.get(probe) {
                Some(deviation) => report.accepted.push((deviation.clone(), difference)),
                None => report.unexpected.push(difference),
            }
        }
        report.stale = deviations
            .by_probe
            .values()
            .filter(|d| !report.accepted.iter().any(|(a, _)| a.probe == d.probe))
            .cloned()
            .collect();
        report
    }

    pub fn passed(&self) -> bool {
        self.unexpected.is_empty() && self.stale.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: &Option<Value>| {
            v.as_ref()
                .map_or("(no such probe)".to_string(), Value::to_string)
        };
        for d in &self.unexpected {
            writeln!(
                f,
                "DIFFERENT  {}\n  emulator: {}\n  keycloak: {}",
                d.probe,
                show(&d.emulator),
                show(&d.keycloak)
            )?;
        }
        for d in &self.stale {
            writeln!(
                f,
                "STALE      {}: listed as a deviation ({}) but both now agree",
                d.probe, d.reason
            )?;
        }
        for (deviation, d) in &self.accepted {
            writeln!(f, "accepted   {}: {}", d.probe, deviation.reason)?;
        }
        write!(
            f,
            "fidelity: {} probes, {} identical, {} accepted deviations, {} unexpected differences, {} stale deviations",
            self.probes,
            self.identical,
            self.accepted.len(),
            self.unexpected.len(),
            self.stale.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn differences_are_accepted_only_when_listed_and_listed_ones_must_occur() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.yaml");
        std::fs::write(
            &path,
            "keycloak: 26.7.3\ndeviations:\n  - probe: a\n    reason: known\n  - probe: gone\n    reason: fixed since\n",
        )
        .unwrap();
        let deviations = Deviations::load(&path).unwrap();
        let emulator: Observations = [("a", json!(1)), ("b", json!(2)), ("c", json!(3))]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let mut keycloak = emulator.clone();
        keycloak.insert("a".into(), json!(10));
        keycloak.insert("b".into(), json!(20));
        keycloak.insert("d".into(), json!(4));
        let report = Report::compare(&emulator, &keycloak, &deviations);
        assert_eq!((report.probes, report.identical), (4, 1));
        assert_eq!(report.accepted.len(), 1);
        let unexpected: Vec<&str> = report.unexpected.iter().map(|d| d.probe.as_str()).collect();
        assert_eq!(unexpected, ["b", "d"]);
        assert_eq!(report.stale[0].probe, "gone");
        assert!(!report.passed());
        assert!(report.to_string().ends_with(
            "fidelity: 4 probes, 1 identical, 1 accepted deviations, 2 unexpected differences, 1 stale deviations"
        ));
    }

    #[test]
    fn a_deviation_without_a_reason_or_listed_twice_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.yaml");
        for (text, expected) in [
            (
                "keycloak: x\ndeviations:\n  - probe: a\n    reason: ' '\n",
                "gives no reason",
            ),
            (
                "keycloak: x\ndeviations:\n  - {probe: a, reason: r}\n  - {probe: a, reason: s}\n",
                "listed twice",
            ),
            (
                "keycloak: x\ndeviations:\n  - {probe: a, reason: r, extra: 1}\n",
                "unknown field",
            ),
        ] {
            std::fs::write(&path, text).unwrap();
            let error = Deviations::load(&path).unwrap_err();
            assert_eq!(error.code(), "fidelity/deviations");
            assert!(error.to_string().contains(expected), "{error}");
        }
    }
}
