//! Step definitions. They read like the runbooks: the IdP is set up "as in the runbook", the
//! application is configured "as in the runbook", and deviations name the runbook's mistake.

pub(crate) mod app;
mod aws;
mod cloud;
mod gcp;
mod persona;
mod protocol;
mod saml;
mod setup;
mod signin;

/// A failed expectation; cucumber shows the message as the step's failure.
pub type StepResult = Result<(), String>;

/// Fails a step with a message when `condition` is false.
pub fn ensure(condition: bool, message: impl FnOnce() -> String) -> StepResult {
    if condition {
        Ok(())
    } else {
        Err(message())
    }
}
