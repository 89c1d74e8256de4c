//! Response shapes shared by the endpoints: OAuth error JSON, JSON bodies that must not be
//! cached, and the authorization response that travels back to the client's redirect URI.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::pages;
use crate::state::ResponseMode;

/// `{"error": …, "error_description": …}` as RFC 6749 section 5.2 and Keycloak write it.
pub(crate) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    json(
        status,
        &serde_json::json!({"error": error, "error_description": description}),
    )
}

/// A JSON body with the no-store headers RFC 6749 section 5.1 asks of token responses.
pub(crate) fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".into());
    let mut response = (status, text).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// A 302 to `location`; `None` when the location cannot be a header (control characters).
pub(crate) fn found(location: &str) -> Option<Response> {
    let value = HeaderValue::from_bytes(location.as_bytes()).ok()?;
    let mut response = StatusCode::FOUND.into_response();
    response.headers_mut().insert(header::LOCATION, value);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, must-revalidate, max-age=0"),
    );
    Some(response)
}

/// The parameters an authorization response carries back to the client, in order.
pub(crate) struct AuthResponse<'a> {
    pub redirect_uri: &'a str,
    pub mode: ResponseMode,
    pub params: Vec<(&'static str, String)>,
}

impl AuthResponse<'_> {
    /// An error response: `error`, `error_description` when there is one, then `state` and
    /// `iss` when given.
    pub fn error<'a>(
        redirect_uri: &'a str,
        mode: ResponseMode,
        error: &str,
        description: Option<&str>,
        state: Option<&str>,
        iss: Option<&str>,
    ) -> AuthResponse<'a> {
        let mut params = vec![("error", error.to_string())];
        if let Some(description) = description {
            params.push(("error_description", description.to_string()));
        }
        if let Some(state) = state {
            params.push(("state", state.to_string()));
        }
        if let Some(iss) = iss {
            params.push(("iss", iss.to_string()));
        }
        AuthResponse {
            redirect_uri,
            mode,
            params,
        }
    }

    pub fn send(self, realm_title: &str) -> Response {
        if self.mode == ResponseMode::FormPost {
            return pages::form_post(self.redirect_uri, &self.params);
        }
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.params.iter().map(|(k, v)| (*k, v.as_str())))
            .finish();
        let separator = match self.mode {
            ResponseMode::Fragment if self.redirect_uri.contains('#') => '&',
            ResponseMode::Fragment => '#',
            _ if self.redirect_uri.contains('?') => '&',
            _ => '?',
        };
        found(&format!("{}{separator}{encoded}", self.redirect_uri)).unwrap_or_else(|| {
            pages::error(
                StatusCode::BAD_REQUEST,
                realm_title,
                "Invalid parameter: redirect_uri",
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_fragment_separators() {
        let location = |uri: &str, mode| {
            AuthResponse::error(uri, mode, "access_denied", None, Some("a b"), None)
                .send("r")
                .headers()[header::LOCATION]
                .to_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(
            location("https://a/cb", ResponseMode::Query),
            "https://a/cb?error=access_denied&state=a+b"
        );
        assert_eq!(
            location("https://a/cb?x=1", ResponseMode::Query),
            "https://a/cb?x=1&error=access_denied&state=a+b"
        );
        assert_eq!(
            location("https://a/cb", ResponseMode::Fragment),
            "https://a/cb#error=access_denied&state=a+b"
        );
        let bad = AuthResponse::error("https://a/\ncb", ResponseMode::Query, "e", None, None, None);
        assert_eq!(bad.send("r").status(), StatusCode::BAD_REQUEST);
    }
}
