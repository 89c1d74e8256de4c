//! Request parameters, from a query string or an `application/x-www-form-urlencoded` body.
//!
//! Parsing never fails: bad percent-escapes stay as they are and invalid UTF-8 becomes U+FFFD, so
//! a malformed request reaches the endpoint's own checks and gets its proper OAuth answer.

/// The parameters in the order sent, repeated keys kept.
#[derive(Debug, Default)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(raw: &[u8]) -> Params {
        Params(url::form_urlencoded::parse(raw).into_owned().collect())
    }

    pub fn query(raw: Option<&str>) -> Params {
        Params::parse(raw.unwrap_or("").as_bytes())
    }

    /// The first value of `key`, as Keycloak reads it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `key` unless it is empty.
    pub fn non_empty(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }

    pub fn count(&self, key: &str) -> usize {
        self.0.iter().filter(|(k, _)| k == key).count()
    }

    /// Whether any key appears twice (Keycloak's "duplicated parameter").
    pub fn has_duplicates(&self) -> bool {
        let mut seen = std::collections::HashSet::with_capacity(self.0.len());
        !self.0.iter().all(|(k, _)| seen.insert(k.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_input_still_parses() {
        let params = Params::parse(b"a=1&a=2&b=%zz&c=%FF%FE&d");
        assert_eq!(params.get("a"), Some("1"));
        assert_eq!(params.count("a"), 2);
        assert!(params.has_duplicates());
        assert_eq!(params.get("b"), Some("%zz"));
        assert_eq!(params.get("c"), Some("\u{FFFD}\u{FFFD}"));
        assert_eq!(params.get("d"), Some(""));
        assert_eq!(params.non_empty("d"), None);
        assert!(!Params::query(Some("x=1&y=2")).has_duplicates());
        assert!(Params::query(None).get("x").is_none());
    }
}
