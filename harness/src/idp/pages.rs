//! The HTML pages, shaped like Keycloak's theme where a client or a test looks: the login form
//! (`kc-form-login` with `username`, `password`, `credentialId` and the `login` button), the
//! `input-error` message, the consent form (`kc-oauth` with `accept` and `cancel`), the error
//! page's `instruction` paragraph, and the `form_post` response.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Text made safe for HTML content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(status: StatusCode, realm_title: &str, heading: &str, body: &str) -> Response {
    let title = escape(realm_title);
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"robots\" content=\"noindex, nofollow\">\n\
         <title>Sign in to {title}</title>\n</head>\n<body id=\"keycloak-bg\">\n\
         <div id=\"kc-header-wrapper\">{title}</div>\n\
         <h1 id=\"kc-page-title\">{heading}</h1>\n{body}\n</body>\n</html>\n",
        heading = escape(heading),
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html;charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, must-revalidate, max-age=0"),
    );
    headers.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static("en"));
    response
}

/// The login form. `action` is the form's target; `error` is shown above the fields.
pub(crate) fn login(
    realm_title: &str,
    action: &str,
    username: &str,
    error: Option<&str>,
) -> Response {
    let error = error
        .map(|e| {
            format!(
                "<span id=\"input-error\" class=\"kc-feedback-text\" aria-live=\"polite\">{}</span>\n",
                escape(e)
            )
        })
        .unwrap_or_default();
    let body = format!(
        "<div id=\"kc-form\">\n{error}\
         <form id=\"kc-form-login\" onsubmit=\"login.disabled = true; return true;\" action=\"{action}\" method=\"post\" novalidate=\"novalidate\">\n\
         <label for=\"username\">Username or email</label>\n\
         <input tabindex=\"1\" id=\"username\" name=\"username\" value=\"{username}\" type=\"text\" autofocus autocomplete=\"username\">\n\
         <label for=\"password\">Password</label>\n\
         <input tabindex=\"2\" id=\"password\" name=\"password\" value=\"\" type=\"password\" autocomplete=\"current-password\">\n\
         <input type=\"hidden\" id=\"id-hidden-input\" name=\"credentialId\">\n\
         <button tabindex=\"4\" name=\"login\" id=\"kc-login\" type=\"submit\">Sign In</button>\n\
         </form>\n</div>",
        action = escape(action),
        username = escape(username),
    );
    page(
        StatusCode::OK,
        realm_title,
        "Sign in to your account",
        &body,
    )
}

/// The consent screen: the client asks for `scopes`.
pub(crate) fn consent(
    realm_title: &str,
    client: &str,
    scopes: &[String],
    action: &str,
    code: &str,
) -> Response {
    let items: String = scopes
        .iter()
        .map(|s| format!("<li><span>{}</span></li>\n", escape(s)))
        .collect();
    let body = format!(
        "<div id=\"kc-oauth\" class=\"content-area\">\n<h3>Do you grant these access privileges?</h3>\n\
         <ul>\n{items}</ul>\n\
         <form id=\"kc-oauth\" class=\"form-actions\" action=\"{action}\" method=\"POST\">\n\
         <input type=\"hidden\" name=\"code\" value=\"{code}\">\n\
         <input name=\"accept\" id=\"kc-login\" type=\"submit\" value=\"Yes\">\n\
         <input name=\"cancel\" id=\"kc-cancel\" type=\"submit\" value=\"No\">\n\
         </form>\n</div>",
        action = escape(action),
        code = escape(code),
    );
    page(
        StatusCode::OK,
        realm_title,
        &format!("Grant Access to {client}"),
        &body,
    )
}

/// Keycloak's error page: the message in `<p class="instruction">`, never a redirect.
pub(crate) fn error(status: StatusCode, realm_title: &str, message: &str) -> Response {
    let body = format!(
        "<div id=\"kc-error-message\">\n<p class=\"instruction\">{}</p>\n</div>",
        escape(message)
    );
    page(status, realm_title, "We are sorry...", &body)
}

/// What a logout without a place to return to shows.
pub(crate) fn logged_out(realm_title: &str) -> Response {
    page(
        StatusCode::OK,
        realm_title,
        "You are logged out",
        "<p class=\"instruction\">You are logged out</p>",
    )
}

/// `response_mode=form_post`: a page that posts `params` to `target` as soon as it loads.
pub(crate) fn form_post(target: &str, params: &[(&str, String)]) -> Response {
    let inputs: String = params
        .iter()
        .map(|(name, value)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\"/>\n",
                escape(name),
                escape(value)
            )
        })
        .collect();
    let html = format!(
        "<!DOCTYPE html>\n<html>\n<head><title>Submit This Form</title></head>\n\
         <body onload=\"javascript:document.forms[0].submit()\">\n\
         <form method=\"post\" action=\"{}\">\n{inputs}\
         <noscript><button type=\"submit\">Continue</button></noscript>\n</form>\n</body>\n</html>\n",
        escape(target)
    );
    let mut response = (StatusCode::OK, html).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html;charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }
}
