//! The HTML pages, shaped like Keycloak's theme where a client or a test looks: the login form
//! (`kc-form-login` with `username`, `password`, `credentialId` and the `login` button), the
//! `input-error` message, the consent form (`kc-oauth` with `accept` and `cancel`), the error
//! page's `instruction` paragraph, and the `form_post` response.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::LoginPage;

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

/// The login form. `action` is the form's target; `error` is shown above the fields;
/// `providers` are the identity providers' "Sign in with" links (alias, label, href).
pub(crate) fn login(
    realm_title: &str,
    action: &str,
    username: &str,
    error: Option<&str>,
    providers: &[(String, String, String)],
    kind: LoginPage,
) -> Response {
    if kind == LoginPage::Script {
        return script_login(realm_title, action, username, error);
    }
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
         </form>\n</div>{social}",
        action = escape(action),
        username = escape(username),
        social = social_links(providers),
    );
    page(
        StatusCode::OK,
        realm_title,
        "Sign in to your account",
        &body,
    )
}

/// The script-built login page ([`LoginPage::Script`]): an empty widget `<div>` and a script
/// that builds an identifier-first form in it (username and Next, then password and Verify),
/// posts the credentials with `fetch` asking for JSON, and then goes to the `location` the
/// answer names, or shows the page it carries (the form again with its error, a consent page).
/// Its data sits in a JSON block whose `<` are escaped, so no value can end the script.
fn script_login(realm_title: &str, action: &str, username: &str, error: Option<&str>) -> Response {
    let data = serde_json::json!({ "action": action, "username": username, "error": error })
        .to_string()
        .replace('<', "\\u003c");
    let body = format!(
        "<div id=\"okta-sign-in\" class=\"sign-in-widget\"></div>\n\
         <script type=\"application/json\" id=\"login-config\">{data}</script>\n\
         <script>\n{LOGIN_SCRIPT}</script>"
    );
    page(
        StatusCode::OK,
        realm_title,
        "Sign in to your account",
        &body,
    )
}

/// The widget of [`script_login`].
const LOGIN_SCRIPT: &str = r#"(function () {
  const cfg = JSON.parse(document.getElementById('login-config').textContent);
  const make = (tag, props, text) => {
    const e = Object.assign(document.createElement(tag), props);
    if (text) e.textContent = text;
    return e;
  };
  const root = document.getElementById('okta-sign-in');
  const error = make('div', { id: 'input-error', className: 'error' }, cfg.error || '');
  error.setAttribute('role', 'alert');
  const user = make('input', { id: 'identifier', type: 'text', autocomplete: 'username' });
  user.value = cfg.username;
  const next = make('button', { id: 'next', type: 'button' }, 'Next');
  const pass = make('input', { id: 'credentials-passcode', type: 'password',
    autocomplete: 'current-password' });
  const verify = make('button', { id: 'verify', type: 'button' }, 'Verify');
  const identify = make('div', { id: 'identify' });
  identify.append(make('label', { htmlFor: 'identifier' }, 'Username'), user, next);
  const challenge = make('div', { id: 'challenge' });
  challenge.append(make('label', { htmlFor: 'credentials-passcode' }, 'Password'), pass, verify);
  root.append(error, identify, challenge);
  const step = n => { identify.hidden = n !== 1; challenge.hidden = n !== 2; };
  // After a rejected password the username is known: straight to the password, as Okta does.
  step(cfg.error && cfg.username ? 2 : 1);
  next.addEventListener('click', () => {
    if (!user.value) { error.textContent = 'Enter your username.'; return; }
    error.textContent = '';
    step(2);
    pass.focus();
  });
  user.addEventListener('keydown', e => { if (e.key === 'Enter') next.click(); });
  pass.addEventListener('keydown', e => { if (e.key === 'Enter') verify.click(); });
  verify.addEventListener('click', async () => {
    verify.disabled = true;
    const body = new URLSearchParams({ username: user.value, password: pass.value,
      credentialId: '' });
    const answer = await (await fetch(cfg.action, { method: 'POST', body,
      headers: { Accept: 'application/json' }, credentials: 'same-origin' })).json();
    if (answer.location) { window.location.assign(answer.location); return; }
    document.open();
    document.write(answer.page);
    document.close();
  });
})();
"#;

/// Keycloak's `kc-social-providers` block: one `social-<alias>` link per identity provider.
fn social_links(providers: &[(String, String, String)]) -> String {
    if providers.is_empty() {
        return String::new();
    }
    let items: String = providers
        .iter()
        .map(|(alias, label, href)| {
            format!(
                "<li><a id=\"social-{alias}\" class=\"pf-c-button\" type=\"button\" href=\"{href}\"><span>{label}</span></a></li>\n",
                alias = escape(alias),
                href = escape(href),
                label = escape(label),
            )
        })
        .collect();
    format!(
        "\n<div id=\"kc-social-providers\">\n<h2>Or sign in with</h2>\n<ul>\n{items}</ul>\n</div>"
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
         <button name=\"accept\" id=\"kc-login\" type=\"submit\">Yes</button>\n\
         <button name=\"cancel\" id=\"kc-cancel\" type=\"submit\">No</button>\n\
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

/// What a persona's sign-in page asks for.
pub(crate) enum Step<'a> {
    /// Username and password on one page.
    Both { username: &'a str },
    /// Identifier-first, first page: the username only.
    Identifier { username: &'a str },
    /// Identifier-first, second page: the password for `login`.
    Password { login: &'a str },
}

fn vendor_page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n",
        escape(title)
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store"),
    );
    response
}

/// A persona's sign-in form, with the vendor's field names, posting to `action`.
pub(crate) fn persona_login(
    form: &crate::persona::LoginForm,
    action: &str,
    step: Step<'_>,
    error: Option<&str>,
) -> Response {
    let error = error
        .map(|e| {
            format!(
                "<div id=\"error-message\" class=\"error\" role=\"alert\">{}</div>\n",
                escape(e)
            )
        })
        .unwrap_or_default();
    let user_input = |value: &str| {
        format!(
            "<label for=\"{name}\">{label}</label>\n<input id=\"{name}\" name=\"{name}\" type=\"email\" value=\"{value}\" autocomplete=\"username\" autofocus>\n",
            name = form.username_field,
            label = escape(form.username_label),
            value = escape(value),
        )
    };
    let password_input = format!(
        "<label for=\"{name}\">Password</label>\n<input id=\"{name}\" name=\"{name}\" type=\"password\" autocomplete=\"current-password\">\n",
        name = form.password_field
    );
    let fields = match step {
        Step::Both { username } => format!("{}{password_input}", user_input(username)),
        Step::Identifier { username } => user_input(username),
        Step::Password { login } => format!(
            "<div id=\"profile-identifier\">{}</div>\n{password_input}",
            escape(login)
        ),
    };
    let body = format!(
        "<main>\n<h1>{heading}</h1>\n{error}<form id=\"login-form\" action=\"{action}\" method=\"post\" novalidate>\n{fields}<button type=\"submit\" id=\"submit\">{submit}</button>\n</form>\n</main>",
        heading = escape(&form.heading),
        action = escape(action),
        submit = escape(form.submit),
    );
    vendor_page(StatusCode::OK, &form.title, &body)
}

/// A persona's own error page (never a redirect).
pub(crate) fn persona_error(page: &crate::persona::ErrorPage) -> Response {
    let body = format!(
        "<main>\n<h1>{}</h1>\n<div id=\"error-message\" class=\"error\" role=\"alert\">{}</div>\n</main>",
        escape(&page.title),
        escape(&page.message)
    );
    vendor_page(page.status, &page.title, &body)
}

/// Keycloak's first-broker-login page when a local user already has the upstream's e-mail
/// (`login-idp-link-confirm.ftl`): the user must choose; nothing is merged silently.
pub(crate) fn account_exists(
    realm_title: &str,
    action: &str,
    attribute: &str,
    value: &str,
) -> Response {
    let body = format!(
        "<div id=\"kc-content\">\n<p class=\"instruction\">User with {attribute} {value} already exists. How do you want to continue?</p>\n\
         <form id=\"kc-register-form\" action=\"{action}\" method=\"post\">\n\
         <button type=\"submit\" name=\"submitAction\" id=\"updateProfile\" value=\"updateProfile\">Review profile</button>\n\
         <button type=\"submit\" name=\"submitAction\" id=\"linkAccount\" value=\"linkAccount\">Add to existing account</button>\n\
         </form>\n</div>",
        attribute = escape(attribute),
        value = escape(value),
        action = escape(action),
    );
    page(StatusCode::OK, realm_title, "Account already exists", &body)
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
