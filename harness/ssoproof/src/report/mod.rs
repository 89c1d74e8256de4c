//! Rendering the harness's results: `ssoproof verify`'s per-runbook report and `ssoproof
//! coverage`. (Lint output lives with the linter, in `ssoproof_lint::report`.)

pub mod coverage;
pub mod html;
pub mod verify;
