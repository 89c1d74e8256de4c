//! Probes send forged tokens and drive logins: they may only talk to the user's own machine
//! unless the user says otherwise (`--allow-remote`), so that a typo in a URL never aims a
//! forgery catalogue at someone else's production service.

use std::net::IpAddr;

use url::{Host, Url};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    #[error("{url} is not an http or https URL")]
    NotHttp { url: String },
    #[error(
        "{url} is not on this machine (loopback); probes send forged tokens and drive logins, so \
         they refuse remote targets unless you pass --allow-remote"
    )]
    Remote { url: String },
}

impl TargetError {
    /// The stable code (README, "`ssoproof probe`").
    pub fn code(&self) -> &'static str {
        match self {
            TargetError::NotHttp { .. } => "probe/target-not-http",
            TargetError::Remote { .. } => "probe/target-remote",
        }
    }
}

/// Refuses a target that is not HTTP(S), or not loopback unless `allow_remote`. `localhost`
/// counts as loopback (RFC 6761 reserves it); other names do not, whatever they resolve to.
pub fn check_target(url: &Url, allow_remote: bool) -> Result<(), TargetError> {
    let shown = || {
        let mut url = url.clone();
        let _ = url.set_password(None);
        let _ = url.set_username("");
        url.to_string()
    };
    if !matches!(url.scheme(), "http" | "https") {
        return Err(TargetError::NotHttp { url: shown() });
    }
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        None => false,
    };
    if loopback || allow_remote {
        Ok(())
    } else {
        Err(TargetError::Remote { url: shown() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str, allow: bool) -> Result<(), TargetError> {
        check_target(&Url::parse(url).unwrap(), allow)
    }

    #[test]
    fn loopback_only_unless_allowed() {
        assert!(check("http://127.0.0.1:8080/api", false).is_ok());
        assert!(check("http://127.9.9.9/", false).is_ok());
        assert!(check("http://[::1]:3000/", false).is_ok());
        assert!(check("http://localhost:3000/", false).is_ok());
        assert!(check("http://app.localhost./", false).is_ok());
        let remote = check("https://user:pw@api.example.com/v1", false).unwrap_err();
        assert_eq!(remote.code(), "probe/target-remote");
        assert!(!remote.to_string().contains("pw"), "{remote}");
        assert!(check("https://api.example.com/v1", true).is_ok());
        assert!(check("http://10.0.0.1/", false).is_err());
        assert!(check("http://localhost.example.com/", false).is_err());
        assert_eq!(
            check("ftp://127.0.0.1/", true).unwrap_err().code(),
            "probe/target-not-http"
        );
    }
}
