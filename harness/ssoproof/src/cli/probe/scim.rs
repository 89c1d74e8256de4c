//! `ssoproof probe scim`.

use std::time::Duration;

use clap::Args;
use ssoproof_probe::scim::{self, Dialect, ScimTarget};
use ssoproof_probe::ProbeError;
use ssoproof_secret::Secret;
use url::Url;

use super::coded;

#[derive(Args)]
pub struct ScimArgs {
    /// The SCIM base URL, e.g. http://127.0.0.1:8080/scim/v2 (loopback only, unless
    /// --allow-remote).
    #[arg(long, value_name = "URL")]
    url: Url,
    /// The environment variable holding the provisioning bearer token (the token itself is
    /// never an argument, and never shown).
    #[arg(long, value_name = "VAR")]
    token_env: String,
    /// Also drive the request shapes of this IdP's provisioning client: rfc (none beyond the
    /// RFC's), entra-id or okta.
    #[arg(long, default_value = "rfc")]
    dialect: Dialect,
    /// Seconds each request may take.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// Allow a target that is not on this machine. The probe creates, changes and deletes
    /// Users and Groups named ssoproof-<run>-…: point it at a test tenant.
    #[arg(long)]
    allow_remote: bool,
    #[command(flatten)]
    report: super::ReportArgs,
}

pub fn run(args: ScimArgs) -> anyhow::Result<u8> {
    let token = token_from_env(&args.token_env).map_err(coded)?;
    let mut target = ScimTarget::new(args.url.clone(), token, args.allow_remote).map_err(coded)?;
    target.dialect = args.dialect;
    target.timeout = Duration::from_secs(args.timeout);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(scim::run(&target)).map_err(coded)?;
    super::write_report(&report, &args.report)
}

/// The token in the variable `name`, or a usage error naming it.
fn token_from_env(name: &str) -> Result<Secret, ProbeError> {
    let usage = |why: &str| ProbeError::Usage {
        message: format!(
            "--token-env {name}: {why}; export the SCIM provisioning token in it, e.g. \
             `read -rs {name} && export {name}`"
        ),
    };
    match std::env::var(name) {
        Ok(value) if value.trim().is_empty() => Err(usage("the variable is empty")),
        Ok(value) => Ok(Secret::new(value.trim().to_string())),
        Err(std::env::VarError::NotPresent) => Err(usage("the variable is not set")),
        Err(std::env::VarError::NotUnicode(_)) => Err(usage("the variable is not UTF-8")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_empty_token_variable_is_a_usage_error_naming_it() {
        let error = token_from_env("SSOPROOF_TEST_SCIM_TOKEN_NEVER_SET").unwrap_err();
        assert_eq!(error.code(), "probe/usage");
        assert!(
            error
                .to_string()
                .contains("SSOPROOF_TEST_SCIM_TOKEN_NEVER_SET: the variable is not set"),
            "{error}"
        );
    }
}
