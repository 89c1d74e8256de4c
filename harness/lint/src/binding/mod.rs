//! Bindings between runbooks and the Gherkin scenarios that prove them.
//!
//! Every validation-checklist item and troubleshooting row of a bound runbook carries a visible,
//! clickable reference to the scenario that executes it: a link to the feature file whose
//! fragment is one of the scenario's tags, e.g.
//! `[proof](../features/keycloak.feature#wrong-password)` for a scenario tagged
//! `@wrong-password`. Items that only a person can check say so with the marker `[manual]`.
//! The linter checks the references (`binding/*` rules); `ssoproof verify` reports each item
//! with the result of its scenarios.

mod extract;
mod feature;
mod fingerprint;
mod runbooks;

pub use extract::{items, row_cells, BindingTarget, BoundItem, ItemKind, Sections};
pub use feature::{FeatureError, FeatureFile, ScenarioRef};
pub use fingerprint::{checklist, relative};
pub use runbooks::{runbooks, RunbookItems, RunbooksError};
