//! Redirect URI validation, as Keycloak's `RedirectUtils` does it.
//!
//! A registered URI matches the requested one character for character; nothing is normalised
//! (no trailing-slash, case or percent-encoding leniency). A registered URI ending in `*` (and
//! holding no `?`) matches any requested URI that starts with the part before the `*`, compared
//! with the query and fragment cut off; `http://host/*` also matches `http://host`. Wildcards do
//! not apply to a requested URI with user info or a `..` path segment, which would otherwise
//! escape the prefix. A lone `*` matches everything. Finally, like Keycloak (and RFC 8252
//! section 7.3), `http://127.0.0.1:<port>/…` and `http://localhost:<port>/…` also match a
//! registration of the same URI without a port, so a native client may listen on any port.

use std::sync::OnceLock;

use regex::Regex;

use super::realm::Client;

/// Whether `requested` is one of `registered`.
pub(crate) fn matches(registered: &[String], requested: &str) -> bool {
    let Ok(url) = url::Url::parse(requested) else {
        return false;
    };
    let wildcards =
        url.username().is_empty() && url.password().is_none() && !unsafe_path(requested);
    let http = matches!(url.scheme(), "http" | "https");
    let any = |r: &str| {
        registered
            .iter()
            .any(|valid| matches_one(valid, r, wildcards, http))
    };
    if any(requested) {
        return true;
    }
    without_loopback_port(requested).is_some_and(|r| any(&r))
}

fn matches_one(valid: &str, requested: &str, wildcards: bool, http: bool) -> bool {
    if valid == "*" {
        return http;
    }
    if wildcards && valid.ends_with('*') && !valid.contains('?') {
        let cut = requested
            .find('?')
            .or_else(|| requested.find('#'))
            .map_or(requested, |i| &requested[..i]);
        let prefix = &valid[..valid.len() - 1];
        return cut.starts_with(prefix)
            || (prefix.len() > 1 && prefix.ends_with('/') && cut == &prefix[..prefix.len() - 1]);
    }
    valid == requested
}

/// A `..` segment, also percent-encoded or with backslashes (Keycloak's `UNSAFE_PATH_PATTERN`).
fn unsafe_path(requested: &str) -> bool {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    let pattern = PATTERN.get_or_init(|| {
        Regex::new(r"(/|%2[fF]|%5[cC]|\\)(%2[eE]|\.){2}(/|%2[fF]|%5[cC]|\\|;)|(/|%2[fF]|%5[cC]|\\)(%2[eE]|\.){2}$")
            .expect("the pattern is valid")
    });
    let path = requested.split(['?', '#']).next().unwrap_or(requested);
    pattern.is_match(path)
}

/// `http://127.0.0.1:8080/cb` → `http://127.0.0.1/cb` (and the same for `localhost`).
fn without_loopback_port(requested: &str) -> Option<String> {
    let host_end = ["http://localhost", "http://127.0.0.1"]
        .iter()
        .find(|prefix| requested.starts_with(*prefix))?
        .len();
    let colon = host_end + requested[host_end..].find(':')?;
    let rest = requested[colon..]
        .find('/')
        .map_or("", |i| &requested[colon + i..]);
    Some(format!("{}{rest}", &requested[..colon]))
}

/// Where a client may send the browser after logout: `post.logout.redirect.uris` when set
/// (`##`-separated, `+` standing for the redirect URIs, `-` for nothing), else the redirect URIs.
pub(crate) fn post_logout_matches(client: &Client, requested: &str) -> bool {
    let registered: Vec<String> = match client
        .attributes
        .get("post.logout.redirect.uris")
        .map(String::as_str)
    {
        None | Some("") | Some("+") => client.redirect_uris.clone(),
        Some("-") => Vec::new(),
        Some(list) => list
            .split("##")
            .flat_map(|entry| {
                if entry == "+" {
                    client.redirect_uris.clone()
                } else {
                    vec![entry.to_string()]
                }
            })
            .collect(),
    };
    matches(&registered, requested)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(registered: &[&str], requested: &str) -> bool {
        let registered: Vec<String> = registered.iter().map(|s| s.to_string()).collect();
        matches(&registered, requested)
    }

    #[test]
    fn exact_registrations_match_exactly() {
        let reg = ["https://app.example.com/auth/callback"];
        assert!(ok(&reg, "https://app.example.com/auth/callback"));
        for wrong in [
            "https://app.example.com/auth/callback/",
            "https://app.example.com/auth/callback?x=1",
            "https://app.example.com/auth/callback#f",
            "HTTPS://APP.EXAMPLE.COM/auth/callback",
            "https://app.example.com/auth/Callback",
            "https://app.example.com/auth/x/../callback",
            "https://app.example.com/auth/%63allback",
            "http://app.example.com/auth/callback",
            "https://app.example.com:443/auth/callback",
            "/auth/callback",
            "",
            "not a url",
        ] {
            assert!(!ok(&reg, wrong), "{wrong}");
        }
    }

    #[test]
    fn a_trailing_star_is_a_prefix_on_the_path() {
        let reg = ["http://127.0.0.1/spa/*"];
        for good in [
            "http://127.0.0.1/spa/",
            "http://127.0.0.1/spa",
            "http://127.0.0.1/spa/callback",
            "http://127.0.0.1/spa/a/b?x=1#f",
            "http://127.0.0.1:5173/spa/callback",
        ] {
            assert!(ok(&reg, good), "{good}");
        }
        for bad in [
            "http://127.0.0.1/spam",
            "http://127.0.0.1/other",
            "http://127.0.0.1/spa/../admin",
            "http://127.0.0.1/spa/%2e%2e/admin",
            "http://evil@127.0.0.1/spa/x",
            "http://127.0.0.10/spa/x",
        ] {
            assert!(!ok(&reg, bad), "{bad}");
        }
        // Without a slash before the star, any continuation counts.
        assert!(ok(&["https://h/cb*"], "https://h/cbx"));
        assert!(!ok(&["https://h/cb*"], "https://h/"));
        // A star after a `?` is literal; a star in the middle matches nothing else.
        assert!(!ok(&["https://h/cb?a=*"], "https://h/cb?a=1"));
        assert!(!ok(&["https://h/*/cb"], "https://h/x/cb"));
        assert!(ok(&["*"], "https://anything/at/all"));
    }

    #[test]
    fn loopback_registrations_without_port_take_any_port() {
        let reg = ["http://127.0.0.1/callback"];
        assert!(ok(&reg, "http://127.0.0.1/callback"));
        assert!(ok(&reg, "http://127.0.0.1:41234/callback"));
        assert!(!ok(&reg, "http://127.0.0.1:41234/other"));
        assert!(ok(&["http://localhost/cb"], "http://localhost:3000/cb"));
        // With a port registered, only that port.
        assert!(!ok(
            &["http://127.0.0.1:8080/cb"],
            "http://127.0.0.1:9090/cb"
        ));
        // Not for IPv6 loopback or other hosts.
        assert!(!ok(&["http://[::1]/cb"], "http://[::1]:8080/cb"));
        assert!(!ok(&["https://127.0.0.1/cb"], "https://127.0.0.1:8443/cb"));
    }
}
