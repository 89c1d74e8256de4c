//! A minimal browser that signs in to any issuer whose login page is a plain HTML form.
//!
//! A [`Browser`] is one session: one cookie jar, one timeout for every request.
//! [`Browser::sign_in`] GETs the authorization URL, follows redirects itself (at most
//! [`MAX_REDIRECTS`], relative locations resolved against the current URL), fills the form that
//! holds the password input (username into the field named `username`, `email`, `login`, `user`
//! or `identifier`, else the first text or email input; hidden inputs kept), accepts a consent
//! form if one appears, and stops at the first redirect to the redirect URI, which it returns
//! unvisited: nothing need listen there. [`Browser::sign_in_posting`] stops instead at the first
//! form that posts to it (a SAML IdP's HTTP-POST binding page) and returns the form's fields. [`Browser::follow`] walks plain redirects, for a probe
//! that opens someone else's application at its login URL and delivers the callback to it.
//! Pages are parsed without running JavaScript, on a blocking thread and in chunks, so that a
//! sign-in past its deadline stops the parse. Pages larger than [`http::MAX_BODY_BYTES`] are
//! refused.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use html5ever::driver;
use html5ever::tendril::{StrTendril, TendrilSink};
use reqwest::StatusCode;
use scraper::{ElementRef, Html, HtmlTreeSink, Selector};
use url::Url;

use super::http;
use super::RpError;
use ssoproof_secret::{redact_all, Secret};

/// Redirects followed before giving up: a loop, usually a cookie or hostname problem.
pub(crate) const MAX_REDIRECTS: usize = 20;
/// Forms submitted before giving up (username, password, consent, and some slack).
const MAX_SUBMISSIONS: usize = 6;
/// Longest page text quoted in a message.
const QUOTE: usize = 200;
/// Bytes of HTML parsed between two checks for cancellation. Deeply nested markup costs the
/// parser time proportional to the depth for every tag (minutes for a hostile page of 100,000
/// nested `<div>`s), so the parse must be able to stop when the sign-in is abandoned.
const PARSE_CHUNK: usize = 1024;

/// Field names taken for the username, in order of preference.
const USERNAME_NAMES: [&str; 5] = ["username", "email", "login", "user", "identifier"];
/// Words that mark a control as accepting a consent prompt.
const ACCEPT_WORDS: [&str; 12] = [
    "accept",
    "allow",
    "yes",
    "approve",
    "consent",
    "continue",
    "authorize",
    "authorise",
    "confirm",
    "grant",
    "agree",
    "ok",
];
/// Words that mark a control as refusing.
const DENY_WORDS: [&str; 8] = [
    "deny", "cancel", "no", "reject", "decline", "abort", "refuse", "disagree",
];
/// Where login pages put their error message (Keycloak, PatternFly, Bootstrap, ARIA), in order.
const ERROR_SELECTORS: [&str; 11] = [
    "#input-error",
    "[id^=input-error]",
    "#kc-error-message",
    ".alert-error",
    ".alert-danger",
    ".pf-m-danger",
    ".kc-feedback-text",
    "[role=alert]",
    ".error",
    ".alert",
    "[aria-live]",
];

/// The parameters of the redirect to the redirect URI.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

impl Callback {
    /// Reads the query (or, failing that, the fragment) of the redirect. A parameter that appears
    /// twice is refused: which copy counts would be up to an attacker.
    pub fn from_url(url: &Url) -> Result<Callback, String> {
        let mut pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let has = |pairs: &[(String, String)], k: &str| pairs.iter().any(|(n, _)| n == k);
        if !has(&pairs, "code") && !has(&pairs, "error") {
            if let Some(fragment) = url.fragment() {
                pairs = url::form_urlencoded::parse(fragment.as_bytes())
                    .into_owned()
                    .collect();
            }
        }
        let mut callback = Callback::default();
        for (name, value) in pairs {
            let slot = match name.as_str() {
                "code" => &mut callback.code,
                "state" => &mut callback.state,
                "iss" => &mut callback.iss,
                "error" => &mut callback.error,
                "error_description" => &mut callback.error_description,
                _ => continue,
            };
            if slot.is_some() {
                return Err(format!("the redirect back repeats the `{name}` parameter"));
            }
            *slot = Some(value);
        }
        Ok(callback)
    }
}

/// Whether `candidate` is the redirect URI itself, or it followed by a query or fragment.
fn is_redirect_uri(candidate: &str, redirect_uri: &str) -> bool {
    match candidate.strip_prefix(redirect_uri) {
        Some("") => true,
        Some(rest) => {
            rest.starts_with(['?', '#']) || (redirect_uri.contains('?') && rest.starts_with('&'))
        }
        None => false,
    }
}

pub(crate) fn is_callback(location: &str, resolved: &Url, redirect_uri: &str) -> bool {
    let normalized = Url::parse(redirect_uri).map(|u| u.to_string()).ok();
    [location, resolved.as_str()].into_iter().any(|candidate| {
        is_redirect_uri(candidate, redirect_uri)
            || normalized
                .as_deref()
                .is_some_and(|n| is_redirect_uri(candidate, n))
    })
}

/// A URL fit for a message: without query and fragment, which may carry session codes.
pub(crate) fn display_url(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
}

/// A form to submit, or the first request.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Request {
    method: Method,
    url: Url,
    fields: Vec<(String, String)>,
}

impl Request {
    /// `METHOD URL`, the URL shown as [`shown_url`] shows it.
    fn label(&self, secrets: &[&Secret]) -> String {
        let method = match self.method {
            Method::Get => "GET",
            Method::Post => "POST",
        };
        format!("{method} {}", shown_url(&self.url, secrets))
    }
}

/// A URL the IdP chose (a redirect, a form action) for a message: [`display_url`], redacted.
fn shown_url(url: &Url, secrets: &[&Secret]) -> String {
    redact_all(&display_url(url), secrets)
}

/// What a page asks for.
#[derive(Debug)]
enum Page {
    /// A form posting to the redirect URI: the end of the sign-in on the HTTP-POST binding
    /// (a SAML Response to the ACS URL), not submitted.
    Arrival(Request),
    /// A form holding a password input, filled in.
    Login(Request),
    /// An identifier-first step: a username field and no password yet.
    Username(Request),
    /// A consent prompt, accepted.
    Consent(Request),
    /// Nothing this browser can act on.
    Other,
}

/// What a page shows, for messages: its title, first heading and visible error message.
#[derive(Debug, Default)]
struct PageText {
    title: Option<String>,
    heading: Option<String>,
    error: Option<String>,
}

impl PageText {
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(title) = &self.title {
            parts.push(format!("page \u{201c}{title}\u{201d}"));
        }
        if let Some(heading) = self
            .heading
            .as_ref()
            .filter(|h| Some(*h) != self.title.as_ref())
        {
            parts.push(format!("heading \u{201c}{heading}\u{201d}"));
        }
        if let Some(error) = &self.error {
            parts.push(format!("message \u{201c}{error}\u{201d}"));
        }
        if parts.is_empty() {
            "an untitled page".to_string()
        } else {
            parts.join(", ")
        }
    }
}

/// One parsed page: what to do and what it says. Parsing happens here, synchronously, because
/// `scraper`'s document is not `Send` and must not live across an `await`.
#[derive(Debug)]
struct Analysis {
    page: Page,
    text: PageText,
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("built-in selector is valid")
}

fn collapse(text: &str, secrets: &[&Secret]) -> Option<String> {
    // Redacted before flattening: a secret with a run of spaces would no longer match after.
    let redacted = redact_all(text, secrets);
    let flat = redacted.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.is_empty() {
        return None;
    }
    Some(if flat.chars().count() > QUOTE {
        format!("{}…", flat.chars().take(QUOTE).collect::<String>())
    } else {
        flat
    })
}

/// Nodes read for one element's text: plenty for a title or a message, and a bound, because a
/// hostile page can nest thousands of matching elements (`<div class=alert><object>` repeated
/// parses in linear time), each of whose whole subtree would be read: quadratic, minutes.
const TEXT_NODES: usize = 200;

fn element_text(element: ElementRef<'_>, secrets: &[&Secret]) -> Option<String> {
    let text: String = element
        .descendants()
        .take(TEXT_NODES)
        .filter_map(|node| node.value().as_text().map(|t| &**t))
        .collect();
    collapse(&text, secrets)
}

fn page_text(doc: &Html, secrets: &[&Secret]) -> PageText {
    let first = |css: &str| {
        doc.select(&selector(css))
            .find_map(|e| element_text(e, secrets))
    };
    PageText {
        title: first("title"),
        heading: first("h1").or_else(|| first("h2")),
        error: ERROR_SELECTORS.iter().find_map(|css| first(css)),
    }
}

/// The message a login or error page shows its user (Keycloak's `#input-error`, PatternFly and
/// Bootstrap alerts, ARIA live regions…), else its heading, else its title.
pub fn page_message(html: &str) -> Option<String> {
    let text = page_text(&Html::parse_document(html), &[]);
    text.error.or(text.heading).or(text.title)
}

fn lower_attr(element: ElementRef<'_>, name: &str) -> String {
    element
        .attr(name)
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn input_type(input: ElementRef<'_>) -> String {
    let t = lower_attr(input, "type");
    if t.is_empty() {
        "text".to_string()
    } else {
        t
    }
}

fn words(element: ElementRef<'_>) -> Vec<String> {
    let mut text = String::new();
    for attr in ["name", "value", "id"] {
        text.push(' ');
        text.push_str(element.attr(attr).unwrap_or_default());
    }
    text.push(' ');
    text.extend(element.text());
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn has_any(words: &[String], list: &[&str]) -> bool {
    words.iter().any(|w| list.contains(&w.as_str()))
}

fn is_disabled(element: ElementRef<'_>) -> bool {
    element.attr("disabled").is_some()
}

/// The form's submit controls, in document order.
fn submit_controls<'a>(form: ElementRef<'a>) -> Vec<ElementRef<'a>> {
    form.select(&selector("button, input"))
        .filter(|e| !is_disabled(*e))
        .filter(|e| match e.value().name() {
            "button" => matches!(lower_attr(*e, "type").as_str(), "" | "submit"),
            _ => matches!(input_type(*e).as_str(), "submit" | "image"),
        })
        .collect()
}

/// The text and email inputs of a form, enabled and named.
fn text_inputs<'a>(form: ElementRef<'a>) -> Vec<ElementRef<'a>> {
    form.select(&selector("input"))
        .filter(|e| !is_disabled(*e) && e.attr("name").is_some())
        .filter(|e| matches!(input_type(*e).as_str(), "text" | "email"))
        .collect()
}

fn username_named<'a>(inputs: &[ElementRef<'a>]) -> Option<ElementRef<'a>> {
    USERNAME_NAMES.iter().find_map(|wanted| {
        inputs
            .iter()
            .find(|i| {
                i.attr("name")
                    .is_some_and(|n| n.eq_ignore_ascii_case(wanted))
            })
            .copied()
    })
}

fn password_inputs<'a>(form: ElementRef<'a>) -> Vec<ElementRef<'a>> {
    form.select(&selector("input"))
        .filter(|e| !is_disabled(*e) && input_type(*e) == "password")
        .collect()
}

/// Builds the submission of `form` as a browser would: every successful control, `fill` deciding
/// the value of the username and password inputs, plus `button` if it has a name.
fn submission(
    form: ElementRef<'_>,
    base: &Url,
    button: Option<ElementRef<'_>>,
    username_input: Option<ElementRef<'_>>,
    username: &str,
    password: Option<&Secret>,
    secrets: &[&Secret],
) -> Result<Request, String> {
    let mut fields = Vec::new();
    for control in form.select(&selector("input, select, textarea")) {
        if is_disabled(control) {
            continue;
        }
        let Some(name) = control.attr("name").filter(|n| !n.is_empty()) else {
            continue;
        };
        let name = name.to_string();
        let value = |c: ElementRef<'_>| c.attr("value").unwrap_or_default().to_string();
        match control.value().name() {
            "select" => {
                let options: Vec<_> = control.select(&selector("option")).collect();
                let chosen = options
                    .iter()
                    .find(|o| o.attr("selected").is_some())
                    .or(options.first());
                if let Some(option) = chosen {
                    let v = option
                        .attr("value")
                        .map(str::to_string)
                        .unwrap_or_else(|| option.text().collect::<String>().trim().to_string());
                    fields.push((name, v));
                }
            }
            "textarea" => fields.push((name, control.text().collect())),
            _ => match input_type(control).as_str() {
                "submit" | "image" | "button" | "reset" | "file" => {}
                "checkbox" | "radio" => {
                    if control.attr("checked").is_some() {
                        let v = control.attr("value").unwrap_or("on").to_string();
                        fields.push((name, v));
                    }
                }
                "password" => match password {
                    Some(p) => fields.push((name, p.expose().to_string())),
                    None => fields.push((name, value(control))),
                },
                _ if username_input.is_some_and(|u| u.id() == control.id()) => {
                    fields.push((name, username.to_string()))
                }
                _ => fields.push((name, value(control))),
            },
        }
    }
    if let Some(button) = button {
        if let Some(name) = button.attr("name").filter(|n| !n.is_empty()) {
            fields.push((
                name.to_string(),
                button.attr("value").unwrap_or_default().to_string(),
            ));
        }
    }
    let action = button
        .and_then(|b| b.attr("formaction"))
        .or(form.attr("action"))
        .map(str::trim)
        .unwrap_or_default();
    let mut url = if action.is_empty() {
        base.clone()
    } else {
        base.join(action).map_err(|e| {
            format!(
                "the form's action `{}` is not a usable URL: {e}",
                redact_all(action, secrets)
            )
        })?
    };
    url.set_fragment(None);
    // As in HTML: a missing or unknown method is GET.
    let method = match lower_attr(form, "method").as_str() {
        "post" => Method::Post,
        _ => Method::Get,
    };
    if method == Method::Get {
        url.query_pairs_mut().clear().extend_pairs(&fields);
        if url.query() == Some("") {
            url.set_query(None);
        }
        fields.clear();
    }
    Ok(Request {
        method,
        url,
        fields,
    })
}

/// Parses `body` in chunks of [`PARSE_CHUNK`] bytes; `None` once `cancelled` is set.
fn parse(body: &str, cancelled: &AtomicBool) -> Option<Html> {
    parse_in_chunks(body, PARSE_CHUNK, cancelled)
}

/// [`parse`] with chunks of `chunk` bytes (at least 1; cut at character boundaries).
fn parse_in_chunks(body: &str, chunk: usize, cancelled: &AtomicBool) -> Option<Html> {
    // html5ever drops a byte-order mark at the start of every chunk fed, not only of the
    // document (found by the property test below): drop the document's own here, keep the rest.
    let options = driver::ParseOpts {
        tokenizer: html5ever::tokenizer::TokenizerOpts {
            discard_bom: false,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut parser = driver::parse_document(HtmlTreeSink::new(Html::new_document()), options);
    let mut rest = body.strip_prefix('\u{feff}').unwrap_or(body);
    while !rest.is_empty() {
        if cancelled.load(Ordering::Relaxed) {
            return None;
        }
        let mut cut = rest.len().min(chunk.max(1));
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        let (chunk, tail) = rest.split_at(cut);
        parser.process(StrTendril::from_slice(chunk));
        rest = tail;
    }
    Some(parser.finish())
}

/// Cancels a parse when dropped: a sign-in abandoned at its deadline drops its future, and
/// the parse on the blocking thread then stops instead of running on unseen.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Parses and reads a page on a blocking thread (parsing is CPU work that can take long; see
/// [`PARSE_CHUNK`]), and decides what to submit next.
async fn read_page(
    body: String,
    page_url: &Url,
    redirect_uri: &str,
    username: &str,
    password: &Secret,
    secrets: &[&Secret],
) -> Result<Analysis, String> {
    let cancelled = Arc::new(AtomicBool::new(false));
    let _cancel = CancelOnDrop(cancelled.clone());
    let page_url = page_url.clone();
    let redirect_uri = redirect_uri.to_string();
    let username = username.to_string();
    let password = password.clone();
    let secrets: Vec<Secret> = secrets.iter().map(|s| (*s).clone()).collect();
    tokio::task::spawn_blocking(move || {
        let doc = parse(&body, &cancelled).ok_or("the sign-in was abandoned while parsing")?;
        let secrets: Vec<&Secret> = secrets.iter().collect();
        analyse(
            &doc,
            &page_url,
            &redirect_uri,
            &username,
            &password,
            &secrets,
        )
    })
    .await
    .map_err(|e| format!("parsing the page failed: {e}"))?
}

/// Reads a parsed page and decides what to submit next.
fn analyse(
    doc: &Html,
    page_url: &Url,
    redirect_uri: &str,
    username: &str,
    password: &Secret,
    secrets: &[&Secret],
) -> Result<Analysis, String> {
    let text = page_text(doc, secrets);
    let base = doc
        .select(&selector("base[href]"))
        .next()
        .and_then(|b| b.attr("href"))
        .and_then(|href| page_url.join(href).ok())
        .unwrap_or_else(|| page_url.clone());
    let forms: Vec<_> = doc.select(&selector("form")).collect();

    // 0. A form that posts to the redirect URI ends the walk: its fields are the answer, and
    // its submit control usually sits in a <noscript>, which is not parsed as markup.
    for form in &forms {
        let request = submission(*form, &base, None, None, username, None, secrets)?;
        if request.method == Method::Post
            && is_callback(request.url.as_str(), &request.url, redirect_uri)
        {
            return Ok(Analysis {
                page: Page::Arrival(request),
                text,
            });
        }
    }
    // 1. The form that holds a password input.
    if let Some(form) = forms.iter().find(|f| !password_inputs(**f).is_empty()) {
        if password_inputs(*form).len() > 1 {
            return Err(
                "the page asks for a new password (an expired password or a required action); \
                 complete it once in a real browser, then retry"
                    .to_string(),
            );
        }
        let inputs = text_inputs(*form);
        let username_input = username_named(&inputs).or(inputs.first().copied());
        let button = submit_controls(*form)
            .into_iter()
            .find(|b| !has_any(&words(*b), &DENY_WORDS));
        let request = submission(
            *form,
            &base,
            button,
            username_input,
            username,
            Some(password),
            secrets,
        )?;
        return Ok(Analysis {
            page: Page::Login(request),
            text,
        });
    }
    // 2. An identifier-first step: a form with a username field, the password comes later.
    for form in &forms {
        if let Some(input) = username_named(&text_inputs(*form)) {
            let button = submit_controls(*form)
                .into_iter()
                .find(|b| !has_any(&words(*b), &DENY_WORDS));
            let request = submission(*form, &base, button, Some(input), username, None, secrets)?;
            return Ok(Analysis {
                page: Page::Username(request),
                text,
            });
        }
    }
    // 3. A consent prompt: a control that accepts, or a consent-looking form with one button.
    for form in &forms {
        let controls = submit_controls(*form);
        let accepting = controls.iter().copied().find(|b| {
            let w = words(*b);
            has_any(&w, &ACCEPT_WORDS) && !has_any(&w, &DENY_WORDS)
        });
        let form_words: Vec<String> = format!(
            "{} {}",
            form.attr("action").unwrap_or_default(),
            form.attr("id").unwrap_or_default()
        )
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
        let single_neutral = match controls.as_slice() {
            [only] if !has_any(&words(*only), &DENY_WORDS) => Some(*only),
            _ => None,
        };
        let chosen = accepting.or_else(|| {
            has_any(
                &form_words,
                &["consent", "confirm", "grant", "authorize", "approve"],
            )
            .then_some(single_neutral)
            .flatten()
        });
        if let Some(button) = chosen {
            let request = submission(*form, &base, Some(button), None, username, None, secrets)?;
            return Ok(Analysis {
                page: Page::Consent(request),
                text,
            });
        }
    }
    Ok(Analysis {
        page: Page::Other,
        text,
    })
}

fn status_text(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

/// A browser session: one cookie jar, every request bounded by the same timeout, redirects
/// followed by hand (so that each hop can be inspected and a walk can stop before one).
/// [`Browser::sign_in`] is the relying party's sign-in; a probe of someone else's application
/// also walks the application's own redirects with [`Browser::follow`].
pub struct Browser {
    client: reqwest::Client,
    timeout: Duration,
}

/// What a walk through redirects ended at.
#[derive(Debug)]
pub struct Walk {
    /// The last URL requested.
    pub url: Url,
    /// Its status.
    pub status: u16,
    /// Where it redirected, when the walk stopped before following it.
    pub stopped_at: Option<Url>,
    /// Its body (empty for a redirect), at most [`http::MAX_BODY_BYTES`].
    pub body: String,
    /// Its `Content-Type`.
    pub content_type: String,
}

/// Where a sign-in reached the redirect URI.
enum Arrival {
    /// A redirect to it (the OIDC code flow), unvisited.
    Redirect(Url),
    /// A form posting to it (the SAML HTTP-POST binding), unsubmitted.
    Posted {
        url: Url,
        fields: Vec<(String, String)>,
    },
}

/// A request of a walk that failed: which one (`METHOD URL`, without query) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{request}: {problem}")]
pub struct WalkError {
    pub request: String,
    pub problem: String,
}

impl From<http::Failure> for WalkError {
    fn from(f: http::Failure) -> Self {
        WalkError {
            request: f.request,
            problem: f.problem,
        }
    }
}

const ACCEPT_HTML: &str = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8";

impl Browser {
    /// A fresh session: an empty cookie jar.
    pub fn new(timeout: Duration, roots: &[reqwest::Certificate]) -> Result<Browser, String> {
        let client = http::client_builder(timeout, roots)
            .cookie_store(true)
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        Ok(Browser { client, timeout })
    }

    /// GETs `start` and follows redirects (at most [`MAX_REDIRECTS`]) while `follow` accepts
    /// the next URL; the first one it refuses is returned unvisited in [`Walk::stopped_at`].
    pub async fn follow(
        &self,
        start: &Url,
        follow: impl FnMut(&Url) -> bool,
    ) -> Result<Walk, WalkError> {
        self.walk(start, None, follow).await
    }

    /// POSTs the form `fields` to `action` (as a browser submits an auto-posted form, e.g. a
    /// SAML Response to an ACS URL), then follows redirects as [`Browser::follow`] does.
    pub async fn post(
        &self,
        action: &Url,
        fields: &[(String, String)],
        follow: impl FnMut(&Url) -> bool,
    ) -> Result<Walk, WalkError> {
        self.walk(action, Some(fields), follow).await
    }

    /// The first request to `start` (a GET, or a form POST of `form`), then GETs of the
    /// redirects `follow` accepts.
    async fn walk(
        &self,
        start: &Url,
        mut form: Option<&[(String, String)]>,
        mut follow: impl FnMut(&Url) -> bool,
    ) -> Result<Walk, WalkError> {
        let mut url = start.clone();
        for _ in 0..=MAX_REDIRECTS {
            let (method, builder) = match form.take() {
                Some(fields) => ("POST", self.client.post(url.clone()).form(fields)),
                None => ("GET", self.client.get(url.clone())),
            };
            let label = format!("{method} {}", display_url(&url));
            let builder = builder.header(reqwest::header::ACCEPT, ACCEPT_HTML);
            let response = http::send(builder, &label, self.timeout).await?;
            let answer = http::read(response, &label, self.timeout).await?;
            let mut walk = Walk {
                url: url.clone(),
                status: answer.status.as_u16(),
                stopped_at: None,
                body: answer.body,
                content_type: answer.content_type,
            };
            let Some(location) = answer.location.filter(|_| answer.status.is_redirection()) else {
                return Ok(walk);
            };
            let next = url.join(&location).map_err(|e| WalkError {
                request: label.clone(),
                problem: format!("redirected to an unusable Location: {e}"),
            })?;
            if !follow(&next) {
                walk.stopped_at = Some(next);
                return Ok(walk);
            }
            url = next;
        }
        Err(WalkError {
            request: format!("GET {}", display_url(&url)),
            problem: format!("more than {MAX_REDIRECTS} redirects: a redirect loop"),
        })
    }

    /// Signs `username` in at the authorization URL `start`, filling the IdP's forms, and
    /// returns the redirect to `redirect_uri` (unvisited: nothing need listen there).
    pub async fn sign_in(
        &self,
        start: &Url,
        redirect_uri: &str,
        username: &str,
        password: &Secret,
        secrets: &[&Secret],
    ) -> Result<Url, RpError> {
        match self
            .arrive(start, redirect_uri, username, password, secrets)
            .await?
        {
            Arrival::Redirect(url) => Ok(url),
            Arrival::Posted { url, .. } => Err(RpError::LoginFailed {
                page: shown_url(&url, secrets),
                reason: "the IdP answers with a form posted to the redirect URI \
                         (response_mode=form_post), which this relying party does not request"
                    .to_string(),
                screenshot: None,
            }),
        }
    }

    /// Signs `username` in at `start` (an IdP's SSO URL with a SAML AuthnRequest), filling the
    /// IdP's forms, and returns the fields of the form the IdP posts to `acs_url` (unposted:
    /// `SAMLResponse`, `RelayState`), as the SAML HTTP-POST binding delivers a Response.
    pub async fn sign_in_posting(
        &self,
        start: &Url,
        acs_url: &str,
        username: &str,
        password: &Secret,
        secrets: &[&Secret],
    ) -> Result<Vec<(String, String)>, RpError> {
        match self
            .arrive(start, acs_url, username, password, secrets)
            .await?
        {
            Arrival::Posted { fields, .. } => Ok(fields),
            Arrival::Redirect(url) => Err(RpError::LoginFailed {
                page: shown_url(&url, secrets),
                reason: "the IdP redirected to the ACS URL instead of posting a form to it: the \
                         SAML Web Browser SSO profile delivers Responses on the HTTP-POST binding \
                         only; set the IdP's client to the POST binding"
                    .to_string(),
                screenshot: None,
            }),
        }
    }

    /// Fills the IdP's forms from `start` until a redirect to, or a form posting to,
    /// `redirect_uri`; neither is followed.
    async fn arrive(
        &self,
        start: &Url,
        redirect_uri: &str,
        username: &str,
        password: &Secret,
        secrets: &[&Secret],
    ) -> Result<Arrival, RpError> {
        let (client, timeout) = (&self.client, self.timeout);
        // The reason is ssoproof's own words with server values already redacted where they
        // were quoted; redacting it whole would also hit those words when a secret is short.
        let failed = |page: &Url, reason: String| RpError::LoginFailed {
            page: shown_url(page, secrets),
            reason,
            screenshot: None,
        };
        let mut request = Request {
            method: Method::Get,
            url: start.clone(),
            fields: Vec::new(),
        };
        let (mut redirects, mut submissions) = (0usize, 0usize);
        let (mut sent_password, mut sent_username, mut consents) = (false, false, 0usize);
        loop {
            let label = request.label(secrets);
            let builder = match request.method {
                Method::Get => client.get(request.url.clone()),
                Method::Post => client.post(request.url.clone()).form(&request.fields),
            }
            .header(reqwest::header::ACCEPT, ACCEPT_HTML);
            let answer = async {
                let response = http::send(builder, &label, timeout).await?;
                http::read(response, &label, timeout).await
            }
            .await
            .map_err(|f| failed(&request.url, format!("{}: {}", f.request, f.problem)))?;

            if answer.status.is_redirection() {
                let Some(location) = answer.location.as_deref() else {
                    return Err(failed(
                        &request.url,
                        format!(
                            "{label} answered {} without a Location header",
                            status_text(answer.status)
                        ),
                    ));
                };
                let next = request.url.join(location).map_err(|e| {
                    failed(
                        &request.url,
                        format!("{label} redirected to an unusable Location: {e}"),
                    )
                })?;
                if is_callback(location, &next, redirect_uri) {
                    return Ok(Arrival::Redirect(next));
                }
                redirects += 1;
                if redirects > MAX_REDIRECTS {
                    return Err(failed(
                        &next,
                        format!(
                        "more than {MAX_REDIRECTS} redirects without reaching the redirect URI; \
                         the IdP is in a redirect loop (cookies refused, or a hostname or proxy \
                         misconfiguration)"
                    ),
                    ));
                }
                request = match answer.status.as_u16() {
                    307 | 308 => Request {
                        url: next,
                        ..request
                    },
                    _ => Request {
                        method: Method::Get,
                        url: next,
                        fields: Vec::new(),
                    },
                };
                continue;
            }

            let analysis = read_page(
                answer.body,
                &request.url,
                redirect_uri,
                username,
                password,
                secrets,
            )
            .await
            .map_err(|reason| failed(&request.url, reason))?;
            let shown = analysis.text.describe();
            let status = if answer.status.is_success() {
                String::new()
            } else {
                format!("answered {} with ", status_text(answer.status))
            };
            let next = match analysis.page {
                Page::Arrival(arrival) => {
                    return Ok(Arrival::Posted {
                        url: arrival.url,
                        fields: arrival.fields,
                    })
                }
                Page::Login(_) if sent_password => {
                    let reason = match &analysis.text.error {
                        Some(error) => format!(
                            "the login form came back after the password was submitted, saying \
                         \u{201c}{error}\u{201d}; check the username and password, and that the \
                         user is enabled"
                        ),
                        None => format!(
                            "the login form came back after the password was submitted ({shown}) \
                         without an error message; check the username and password"
                        ),
                    };
                    return Err(failed(&request.url, reason));
                }
                Page::Login(next) => {
                    sent_password = true;
                    next
                }
                Page::Username(_) if sent_username => {
                    return Err(failed(
                        &request.url,
                        format!(
                        "the username form came back after the username was submitted ({shown}); \
                         check the username"
                    ),
                    ));
                }
                Page::Username(next) => {
                    sent_username = true;
                    next
                }
                Page::Consent(next) => {
                    consents += 1;
                    if consents > 2 {
                        return Err(failed(
                            &request.url,
                            format!("the consent form keeps coming back ({shown})"),
                        ));
                    }
                    next
                }
                Page::Other => {
                    return Err(failed(
                        &request.url,
                        format!(
                            "{status}{shown}: no form holding a password input was found (and no \
                         redirect to the redirect URI); the IdP refused the authorization request \
                         (check the client id, redirect URI and scopes) or its login page needs \
                         JavaScript (use `driver: browser`, `--driver browser`)"
                        ),
                    ));
                }
            };
            submissions += 1;
            if submissions > MAX_SUBMISSIONS {
                return Err(failed(
                &request.url,
                format!("more than {MAX_SUBMISSIONS} forms submitted without reaching the redirect URI ({shown})"),
            ));
            }
            request = next;
        }
    }
}

/// The relying party's sign-in: a fresh session, then [`Callback::from_url`] of the redirect.
pub(crate) async fn sign_in(
    start: &Url,
    redirect_uri: &str,
    username: &str,
    password: &Secret,
    timeout: Duration,
    roots: &[reqwest::Certificate],
    secrets: &[&Secret],
) -> Result<Callback, RpError> {
    let browser = Browser::new(timeout, roots).map_err(|reason| RpError::LoginFailed {
        page: shown_url(start, secrets),
        reason,
        screenshot: None,
    })?;
    let next = browser
        .sign_in(start, redirect_uri, username, password, secrets)
        .await?;
    Callback::from_url(&next).map_err(|reason| RpError::LoginFailed {
        page: shown_url(&next, secrets),
        reason,
        screenshot: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(html: &str) -> Result<Analysis, String> {
        let url =
            Url::parse("https://idp.example/realms/acme/protocol/openid-connect/auth?x=1").unwrap();
        analyse(
            &parse(html, &AtomicBool::new(false)).unwrap(),
            &url,
            "https://app.example/callback",
            "alice",
            &Secret::new("pw-123"),
            &[&Secret::new("pw-123")],
        )
    }

    fn fields(r: &Request) -> Vec<(&str, &str)> {
        r.fields
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect()
    }

    pub(crate) const KEYCLOAK_LOGIN: &str = r#"<!DOCTYPE html><html><head><title>Sign in to acme</title></head>
<body><h1 id="kc-page-title">Sign in to your account</h1>
<form id="kc-select-lang" action="/lang" method="get"><select name="kc_locale"><option value="en">English</option></select><button type="submit">Go</button></form>
<form id="kc-form-login" onsubmit="login.disabled = true; return true;" action="https://idp.example/realms/acme/login-actions/authenticate?session_code=SC1&amp;execution=e1&amp;client_id=acme-app&amp;tab_id=T1" method="post">
  <input tabindex="1" id="username" name="username" value="" type="text" autofocus autocomplete="off">
  <input tabindex="2" id="password" name="password" type="password" autocomplete="off">
  <input type="checkbox" id="rememberMe" name="rememberMe">
  <input type="hidden" id="id-hidden-input" name="credentialId" value="">
  <input tabindex="4" name="login" id="kc-login" type="submit" value="Sign In">
</form></body></html>"#;

    /// Keycloak's SAML HTTP-POST page (saml-post-form.ftl): submitted by script, its button
    /// inside <noscript>.
    const KEYCLOAK_SAML_POST: &str = r#"<!DOCTYPE html><html><head><title>Sign in to acme</title></head><body>
<script>window.onload = function() {document.forms[0].submit()};</script>
<p>Redirecting, please wait.</p>
<form name="saml-post-binding" method="post" action="https://app.example/callback">
<input type="hidden" name="SAMLResponse" value="PHNhbWxwOlJlc3BvbnNlLz4="/>
<input type="hidden" name="RelayState" value="r1"/>
<noscript><p>JavaScript is disabled. We strongly recommend to enable it. Click the button below to continue.</p>
<input type="submit" value="Continue"/></noscript></form></body></html>"#;

    #[test]
    fn a_form_posting_to_the_redirect_uri_is_the_arrival_not_a_consent() {
        let Page::Arrival(r) = page(KEYCLOAK_SAML_POST).unwrap().page else {
            panic!("not the arrival")
        };
        assert_eq!(r.url.as_str(), "https://app.example/callback");
        assert_eq!(
            fields(&r),
            [
                ("SAMLResponse", "PHNhbWxwOlJlc3BvbnNlLz4="),
                ("RelayState", "r1")
            ]
        );
        // The same form posting anywhere else is nothing this browser acts on.
        let elsewhere = KEYCLOAK_SAML_POST.replace("app.example/callback", "other.example/acs");
        assert!(matches!(page(&elsewhere).unwrap().page, Page::Other));
    }

    #[test]
    fn keycloak_login_form_is_picked_and_filled() {
        let Page::Login(r) = page(KEYCLOAK_LOGIN).unwrap().page else {
            panic!("not a login page")
        };
        assert_eq!(r.method, Method::Post);
        assert_eq!(
            r.url.as_str(),
            "https://idp.example/realms/acme/login-actions/authenticate?session_code=SC1&execution=e1&client_id=acme-app&tab_id=T1"
        );
        assert_eq!(
            fields(&r),
            [
                ("username", "alice"),
                ("password", "pw-123"),
                ("credentialId", ""),
                ("login", "Sign In")
            ]
        );
    }

    #[test]
    fn node_oidc_provider_login_and_consent() {
        let login = r#"<html><head><title>Sign-in</title></head><body><div class="login-card"><h1>Sign-in</h1>
<form autocomplete="off" action="/interaction/UID42/login" method="post">
<input required type="text" name="login" placeholder="Enter any login" autofocus="on">
<input required type="password" name="password" placeholder="and password">
<button type="submit" class="login login-submit">Sign-in</button></form>
<div class="login-help"><a href="/interaction/UID42/abort">[ Cancel ]</a></div></div></body></html>"#;
        let Page::Login(r) = page(login).unwrap().page else {
            panic!()
        };
        assert_eq!(
            r.url.as_str(),
            "https://idp.example/interaction/UID42/login"
        );
        assert_eq!(fields(&r), [("login", "alice"), ("password", "pw-123")]);

        let consent = r#"<html><head><title>Authorize</title></head><body><h1>Authorize</h1>
<ul><li>scopes: openid email profile</li></ul>
<form autocomplete="off" action="/interaction/UID42/confirm" method="post">
<input type="hidden" name="prompt" value="consent"/>
<button autofocus type="submit" class="login login-submit">Continue</button></form>
<div class="login-help"><a href="/interaction/UID42/abort">[ Cancel ]</a></div></body></html>"#;
        let Page::Consent(r) = page(consent).unwrap().page else {
            panic!()
        };
        assert_eq!(
            r.url.as_str(),
            "https://idp.example/interaction/UID42/confirm"
        );
        assert_eq!(fields(&r), [("prompt", "consent")]);
    }

    #[test]
    fn keycloak_consent_takes_the_accepting_button() {
        let consent = r#"<html><body><form class="form-actions" action="/realms/acme/login-actions/consent?session_code=X" method="POST">
<input type="hidden" name="code" value="C1">
<input class="btn" name="cancel" id="kc-cancel" type="submit" value="No"/>
<input class="btn" name="accept" id="kc-login" type="submit" value="Yes"/>
</form></body></html>"#;
        let Page::Consent(r) = page(consent).unwrap().page else {
            panic!()
        };
        assert_eq!(fields(&r), [("code", "C1"), ("accept", "Yes")]);
        // A form whose only button refuses is not consent.
        let deny_only = r#"<form action="/consent"><button name="deny">Deny</button></form>"#;
        assert!(matches!(page(deny_only).unwrap().page, Page::Other));
    }

    #[test]
    fn identifier_first_and_fallback_username_field() {
        let step = r#"<form action="next"><input type="email" name="identifier"><button>Next</button></form>"#;
        let Page::Username(r) = page(step).unwrap().page else {
            panic!()
        };
        assert_eq!(r.method, Method::Get);
        assert_eq!(
            r.url.as_str(),
            "https://idp.example/realms/acme/protocol/openid-connect/next?identifier=alice"
        );
        let odd = r#"<form method="POST"><input name="j_id" type="text"><input name="secret" type="password"></form>"#;
        let Page::Login(r) = page(odd).unwrap().page else {
            panic!()
        };
        // Empty action: the page URL itself (query kept for POST).
        assert_eq!(
            r.url.as_str(),
            "https://idp.example/realms/acme/protocol/openid-connect/auth?x=1"
        );
        assert_eq!(fields(&r), [("j_id", "alice"), ("secret", "pw-123")]);
    }

    #[test]
    fn error_page_without_form_is_described() {
        let html = r#"<html><head><title>Sign in to acme</title></head><body>
<h1 id="kc-page-title">We are sorry...</h1>
<div id="kc-error-message"><p class="instruction">Invalid parameter: redirect_uri</p></div></body></html>"#;
        let analysis = page(html).unwrap();
        assert!(matches!(analysis.page, Page::Other));
        assert_eq!(
            analysis.text.describe(),
            "page \u{201c}Sign in to acme\u{201d}, heading \u{201c}We are sorry...\u{201d}, message \u{201c}Invalid parameter: redirect_uri\u{201d}"
        );
    }

    #[test]
    fn rerendered_keycloak_page_shows_its_error() {
        let html = KEYCLOAK_LOGIN.replace(
            "<form id=\"kc-form-login\"",
            "<span id=\"input-error\" class=\"kc-feedback-text\" aria-live=\"polite\">\n Invalid username or password.</span><form id=\"kc-form-login\"",
        );
        let analysis = page(&html).unwrap();
        assert_eq!(
            analysis.text.error.as_deref(),
            Some("Invalid username or password.")
        );
    }

    #[test]
    fn password_change_forms_are_refused() {
        let html = r#"<form><input type="password" name="password-new"><input type="password" name="password-confirm"></form>"#;
        let err = page(html).unwrap_err();
        assert!(err.contains("new password"), "{err}");
    }

    #[test]
    fn callback_detection_and_parsing() {
        let r = "http://127.0.0.1/callback";
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(is_callback(
            "http://127.0.0.1/callback?code=1",
            &u("http://127.0.0.1/callback?code=1"),
            r
        ));
        assert!(!is_callback(
            "http://127.0.0.1/callback2?code=1",
            &u("http://127.0.0.1/callback2?code=1"),
            r
        ));
        assert!(is_callback(
            "http://127.0.0.1:80/callback?x",
            &u("http://127.0.0.1/callback?x"),
            r
        ));
        let cb = Callback::from_url(&u(
            "http://127.0.0.1/callback?state=s&code=c%2B1&iss=https%3A%2F%2Fidp",
        ))
        .unwrap();
        assert_eq!(cb.code.as_deref(), Some("c+1"));
        assert_eq!(cb.iss.as_deref(), Some("https://idp"));
        let cb = Callback::from_url(&u(
            "http://127.0.0.1/callback#error=access_denied&error_description=no+way",
        ))
        .unwrap();
        assert_eq!(cb.error.as_deref(), Some("access_denied"));
        assert_eq!(cb.error_description.as_deref(), Some("no way"));
        let err =
            Callback::from_url(&u("http://127.0.0.1/callback?state=a&state=b&code=c")).unwrap_err();
        assert!(err.contains("repeats the `state`"), "{err}");
    }

    /// A parse is cut into chunks so that it can stop; the chunks change nothing, and a
    /// cancelled parse stops.
    #[test]
    fn chunked_parsing_is_whole_parsing_and_can_stop() {
        let page = format!("{KEYCLOAK_LOGIN}{}", "<p>\u{e9}t\u{e9} ".repeat(700));
        let chunked = parse(&page, &AtomicBool::new(false)).unwrap();
        assert_eq!(chunked.html(), Html::parse_document(&page).html());
        assert!(parse(&page, &AtomicBool::new(true)).is_none());
        // html5ever drops a byte-order mark at the start of every chunk: only the document's
        // own may go.
        let bom = "\u{feff}<p title='a\u{feff}b'>\u{feff}</p>";
        assert_eq!(
            parse_in_chunks(bom, 1, &AtomicBool::new(false))
                .unwrap()
                .html(),
            Html::parse_document(bom).html()
        );
    }

    /// issue 11: a short password is redacted where the page quotes it as a value, not inside
    /// words ("an untitled [redacted]age").
    #[test]
    fn a_short_password_is_redacted_only_as_a_whole_token() {
        let url = Url::parse("https://idp.example/login").unwrap();
        let p = Secret::new("p");
        let html = "<title>Wrong password p for pat</title><form><input name=x></form>";
        let doc = parse(html, &AtomicBool::new(false)).unwrap();
        let analysis = analyse(
            &doc,
            &url,
            "https://app.example/callback",
            "alice",
            &p,
            &[&p],
        )
        .unwrap();
        assert_eq!(
            analysis.text.describe(),
            "page \u{201c}Wrong password [redacted] for pat\u{201d}"
        );
    }

    /// issue 11: nested matching elements made reading the page's message quadratic; each
    /// element's text is read from its first [`TEXT_NODES`] nodes only.
    #[test]
    fn message_text_is_read_from_a_bounded_number_of_nodes() {
        let nested = format!(
            "<div class=alert>{}<b>too deep</b></div><h1>Sign in</h1>",
            "<span></span>".repeat(TEXT_NODES)
        );
        let analysis = page(&nested).unwrap();
        assert_eq!(analysis.text.error, None);
        assert_eq!(analysis.text.heading.as_deref(), Some("Sign in"));
        let shallow = "<div class=alert><span></span><b>Wrong password.</b></div>";
        assert_eq!(
            page(shallow).unwrap().text.error.as_deref(),
            Some("Wrong password.")
        );
    }

    #[test]
    fn quoted_page_text_never_carries_the_password() {
        let html = r#"<html><head><title>Error for pw-123</title></head><body></body></html>"#;
        let analysis = page(html).unwrap();
        assert_eq!(analysis.text.title.as_deref(), Some("Error for [redacted]"));
    }

    mod properties {
        //! Arbitrary pages, well-formed or not: the driver answers with a page kind or an error,
        //! never a panic; chunking never changes the parse. 256 cases each by default
        //! (`PROPTEST_CASES` raises it), a second or two.
        use super::*;
        use proptest::prelude::*;

        const TAGS: [&str; 15] = [
            "form", "input", "button", "select", "option", "textarea", "div", "title", "h1",
            "base", "span", "p", "a", "table", "template",
        ];

        fn attribute() -> impl Strategy<Value = String> {
            let names = prop::sample::select(vec![
                "name",
                "type",
                "value",
                "action",
                "method",
                "formaction",
                "href",
                "id",
                "class",
                "role",
                "disabled",
                "checked",
                "selected",
            ]);
            let values = prop::sample::select(vec![
                "username",
                "email",
                "password",
                "text",
                "hidden",
                "submit",
                "image",
                "post",
                "get",
                "checkbox",
                "radio",
                "Accept",
                "Deny",
                "consent",
                "/login?a=1#f",
                "http://[::1",
                "javascript:x",
                "",
                "input-error",
                "alert",
            ]);
            prop_oneof![
                (names, values).prop_map(|(n, v)| format!(" {n}=\"{v}\"")),
                ("[a-z]{1,4}", ".{0,6}").prop_map(|(n, v)| format!(" {n}='{v}'")),
            ]
        }

        fn markup() -> impl Strategy<Value = String> {
            let leaf = prop_oneof![
                ".{0,8}",
                prop::sample::select(vec!["<", "&amp;", "&#x0;", "<!--", "</form>", "<br/>"])
                    .prop_map(str::to_string),
            ];
            leaf.prop_recursive(5, 48, 5, |inner| {
                (
                    prop::sample::select(TAGS.to_vec()),
                    prop::collection::vec(attribute(), 0..4),
                    prop::collection::vec(inner, 0..5),
                    any::<bool>(),
                )
                    .prop_map(|(tag, attributes, children, close)| {
                        let close = if close {
                            format!("</{tag}>")
                        } else {
                            String::new()
                        };
                        format!("<{tag}{}>{}{close}", attributes.concat(), children.concat())
                    })
            })
        }

        fn check_page(html: &str) {
            let url = Url::parse("https://idp.example/realms/acme/auth?x=1").unwrap();
            let password = Secret::new("pw-Secret-123");
            let doc = parse(html, &AtomicBool::new(false)).unwrap();
            let Ok(analysis) = analyse(
                &doc,
                &url,
                "https://app.example/callback",
                "alice",
                &password,
                &[&password],
            ) else {
                return;
            };
            if let Page::Login(r) | Page::Username(r) | Page::Consent(r) = &analysis.page {
                assert!(r.url.fragment().is_none(), "{}", r.url);
                let query: Vec<(String, String)> = r.url.query_pairs().into_owned().collect();
                let sent = r
                    .fields
                    .iter()
                    .chain(&query)
                    .filter(|(_, v)| v == password.expose())
                    .count();
                let allowed = usize::from(matches!(analysis.page, Page::Login(_)));
                assert!(sent <= allowed, "password sent {sent} times: {r:?}");
            }
            // Quoted page text never carries the password.
            assert!(!analysis.text.describe().contains(password.expose()));
        }

        proptest! {
            #[test]
            fn generated_pages_never_panic(body in markup()) {
                check_page(&format!("<html><body>{body}</body></html>"));
            }

            #[test]
            fn arbitrary_text_never_panics(body in ".{0,300}") {
                check_page(&body);
            }

            #[test]
            fn chunking_never_changes_the_parse(body in markup(), chunk in 1usize..40) {
                let chunked = parse_in_chunks(&body, chunk, &AtomicBool::new(false)).unwrap();
                prop_assert_eq!(chunked.html(), Html::parse_document(&body).html());
            }
        }
    }
}
