//! `${NAME}` placeholders in the cloud account files (`fixtures/cloud/aws.yaml`,
//! `fixtures/cloud/gcp.yaml`).
//!
//! A lab IdP's issuer (`https://127.0.0.1:<port>/realms/acme`) is only known once it runs, so
//! the files name it with a placeholder that the loader fills in before parsing. Values come from
//! the caller, never from the environment. Comment lines are left alone, so a file may explain
//! its placeholders in comments and still load without values when it uses none elsewhere.
//!
//! Only names shaped like ssoproof's (`[A-Z][A-Z0-9_]*`) are placeholders. IAM's own policy
//! variables (`${aws:username}`, `${saml:sub}`, `${*}`, `${?}`, `${$}`, any service-prefixed
//! key) share the `${…}` syntax and must reach the policy exactly as written.

use std::fmt;
use std::path::Path;

use ssoproof_config::{FileDomain, FileError};
use url::Url;

/// The ssoproof IdP emulator's issuer, e.g. `https://127.0.0.1:8443/realms/acme`.
pub const IDP_ISSUER: &str = "IDP_ISSUER";
/// The same issuer without its scheme: what IAM calls the provider in ARNs and condition keys
/// (`arn:aws:iam::<account>:oidc-provider/${IDP_ISSUER_HOST_PATH}`,
/// `${IDP_ISSUER_HOST_PATH}:aud`).
pub const IDP_ISSUER_HOST_PATH: &str = "IDP_ISSUER_HOST_PATH";
/// The issuer of the emulated Google accounts' OAuth tokens.
pub const GOOGLE_ISSUER: &str = "GOOGLE_ISSUER";

/// Every placeholder ssoproof documents; a file naming another gets the list in its error.
pub const DOCUMENTED: [&str; 3] = [IDP_ISSUER, IDP_ISSUER_HOST_PATH, GOOGLE_ISSUER];

/// Whether `${name}` is one of ssoproof's placeholders rather than text of the file's own (an
/// IAM policy variable): IAM's names all hold a `:` or are one of `*`, `?`, `$`.
fn is_placeholder_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// A placeholder the caller gave no value for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    /// 1-based.
    pub line: usize,
    pub name: String,
}

impl Unresolved {
    /// The key an error names: the placeholder as written.
    pub fn key(&self) -> String {
        format!("${{{}}}", self.name)
    }

    /// The invalid-value error of the file `path` this placeholder is in.
    pub fn in_file<D: FileDomain>(&self, path: &Path) -> FileError<D> {
        FileError::invalid(path, self.line, self.key(), self.to_string())
    }
}

impl fmt::Display for Unresolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !DOCUMENTED.contains(&self.name.as_str()) {
            return write!(
                f,
                "no such placeholder; ssoproof's are ${{{}}}",
                DOCUMENTED.join("}, ${")
            );
        }
        f.write_str("the placeholder has no value")?;
        if self.name == IDP_ISSUER || self.name == IDP_ISSUER_HOST_PATH {
            f.write_str(
                "; it stands for the IdP's issuer: start the IdP (the emulator: `ssoproof serve \
                 idp`) and load this file with its issuer (`--issuer URL`)",
            )?;
        }
        if self.name == GOOGLE_ISSUER {
            f.write_str(
                "; it stands for the issuer of Google accounts' OAuth access tokens (JWTs with \
                 `email` and `scope`): pass it with `--google-issuer URL` (https); without it \
                 `ssoproof serve clouds` leaves out the `google_accounts` entries it names, and \
                 only those",
            )?;
        }
        Ok(())
    }
}

/// The values of [`IDP_ISSUER`] and [`IDP_ISSUER_HOST_PATH`] for `issuer`.
pub fn idp_issuer(issuer: &str) -> [(&'static str, String); 2] {
    let host_path = issuer
        .strip_prefix("https://")
        .or_else(|| issuer.strip_prefix("http://"))
        .unwrap_or(issuer);
    [
        (IDP_ISSUER, issuer.to_string()),
        (IDP_ISSUER_HOST_PATH, host_path.to_string()),
    ]
}

/// Whether `issuer` can be pasted into a YAML scalar as an issuer: an http(s) URL with a host
/// and no quote, backslash or space that would change the document around it.
pub fn is_usable_issuer(issuer: &str) -> bool {
    Url::parse(issuer).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
        && !issuer.contains(['"', '\'', '\\', ' '])
}

/// Replaces every `${NAME}` outside comment lines with its value from `variables`; any other
/// `${…}` (an IAM policy variable) is left as written.
pub fn substitute<V: AsRef<str>>(
    text: &str,
    variables: &[(&str, V)],
) -> Result<String, Unresolved> {
    let mut out = String::with_capacity(text.len());
    for (index, line) in text.lines().enumerate() {
        if line.trim_start().starts_with('#') {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let mut rest = line;
        while let Some(start) = rest.find("${") {
            let Some(len) = rest[start..].find('}') else {
                break;
            };
            let name = &rest[start + 2..start + len];
            if !is_placeholder_name(name) {
                out.push_str(&rest[..start + len + 1]);
                rest = &rest[start + len + 1..];
                continue;
            }
            let value = variables
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_ref())
                .ok_or_else(|| Unresolved {
                    line: index + 1,
                    name: name.to_string(),
                })?;
            out.push_str(&rest[..start]);
            out.push_str(value);
            rest = &rest[start + len + 1..];
        }
        out.push_str(rest);
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_values_and_leaves_comments_alone() {
        let text = "# ${IDP_ISSUER} is the issuer\nurl: \"${IDP_ISSUER}\"\nkey: ${IDP_ISSUER_HOST_PATH}:aud\n";
        let out = substitute(text, &idp_issuer("https://127.0.0.1:8443/realms/acme")).unwrap();
        assert_eq!(
            out,
            "# ${IDP_ISSUER} is the issuer\nurl: \"https://127.0.0.1:8443/realms/acme\"\nkey: 127.0.0.1:8443/realms/acme:aud\n"
        );
        // Only comments mention a placeholder: no value needed.
        let none: &[(&str, &str)] = &[];
        assert_eq!(substitute("# ${X}\na: 1", none).unwrap(), "# ${X}\na: 1\n");
    }

    #[test]
    fn a_missing_value_names_its_line() {
        let none: &[(&str, &str)] = &[];
        let err = substitute("a: 1\nb: ${IDP_ISSUER}\n", none).unwrap_err();
        assert_eq!((err.line, err.key()), (2, "${IDP_ISSUER}".to_string()));
        assert!(err.to_string().contains("`--issuer URL`"), "{err}");
        let err = substitute("b: ${GOOGLE_ISSUER}\n", none).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("the placeholder has no value; it stands for the issuer of Google accounts' OAuth access tokens"),
            "{err}"
        );
        assert!(
            err.to_string().contains("`--google-issuer URL` (https)"),
            "{err}"
        );
        // An unterminated `${` is text, not a placeholder.
        assert_eq!(substitute("a: ${oops", none).unwrap(), "a: ${oops\n");
    }

    #[test]
    fn iam_policy_variables_pass_through() {
        let text = "r: arn:aws:s3:::b/${aws:username}/*\nc: ${saml:sub} ${*} ${?} ${$} ${www.amazon.com:user_id} ${idp.example.com/realms/acme:sub}\ni: ${IDP_ISSUER}\n";
        let out = substitute(text, &[(IDP_ISSUER, "https://i")]).unwrap();
        assert_eq!(
            out,
            "r: arn:aws:s3:::b/${aws:username}/*\nc: ${saml:sub} ${*} ${?} ${$} ${www.amazon.com:user_id} ${idp.example.com/realms/acme:sub}\ni: https://i\n"
        );
        // A mistyped ssoproof placeholder is still refused, with the documented names.
        let err = substitute("i: ${IDP_ISUER}\n", &[(IDP_ISSUER, "https://i")]).unwrap_err();
        assert_eq!(err.key(), "${IDP_ISUER}");
        assert_eq!(
            err.to_string(),
            "no such placeholder; ssoproof's are ${IDP_ISSUER}, ${IDP_ISSUER_HOST_PATH}, ${GOOGLE_ISSUER}"
        );
    }

    #[test]
    fn usable_issuers() {
        assert!(is_usable_issuer("http://127.0.0.1:8080/realms/acme"));
        assert!(is_usable_issuer("https://sso.example.com/realms/acme"));
        for bad in ["not a url", "ftp://x/y", "https://x/\"y", "mailto:a@b"] {
            assert!(!is_usable_issuer(bad), "{bad}");
        }
    }
}
