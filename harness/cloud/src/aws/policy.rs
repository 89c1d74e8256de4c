//! IAM policy documents: parsing the JSON a user pastes into IAM, and evaluating it the way IAM
//! does for the two places the emulator needs — a role's trust policy (who may assume it) and
//! identity policies (what the assumed role may do, narrowed by an optional session policy).
//!
//! Only the grammar federation runbooks use is supported, and everything else is refused at load
//! time rather than silently ignored: an unsupported condition operator that evaluated to
//! "false" would turn a configuration mistake into a mysterious `AccessDenied`.
//!
//! Supported: `Version`, `Id`, `Statement` (array or single object) with `Sid`, `Effect`,
//! `Principal` (`"*"`, `Federated`, `AWS`, `Service`), `Action`/`NotAction`,
//! `Resource`/`NotResource` (with `*` and `?` wildcards) and `Condition` with the string
//! operators (`StringEquals`, `StringNotEquals`, `StringEqualsIgnoreCase`,
//! `StringNotEqualsIgnoreCase`, `StringLike`, `StringNotLike`), their `…IfExists` forms, the
//! `ForAnyValue:` / `ForAllValues:` set qualifiers, and `Null`.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// Where a policy is attached, which decides the fields it must and must not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// A role's trust policy: has a `Principal`, no `Resource`.
    Trust,
    /// A permission (identity-based) or session policy: has a `Resource`, no `Principal`.
    Identity,
}

/// Why a policy document was refused; `line` is 1-based within the policy text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line} of the policy: {message}")]
pub struct PolicyError {
    pub line: usize,
    pub message: String,
}

/// A parsed policy document.
#[derive(Debug, Clone)]
pub struct Policy {
    statements: Vec<Statement>,
}

#[derive(Debug, Clone)]
struct Statement {
    effect: Effect,
    principal: Option<Principal>,
    action: Patterns,
    resource: Option<Patterns>,
    conditions: Vec<Condition>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone)]
enum Principal {
    Anyone,
    /// Principal type (`Federated`, `AWS`, `Service`) and its values.
    Typed(Vec<(String, Vec<String>)>),
}

/// `Action`/`NotAction` or `Resource`/`NotResource`: wildcard patterns, maybe negated.
#[derive(Debug, Clone)]
struct Patterns {
    negated: bool,
    patterns: Vec<String>,
    /// Actions match case-insensitively, resources case-sensitively.
    case_sensitive: bool,
}

#[derive(Debug, Clone)]
struct Condition {
    operator: Operator,
    set: SetQualifier,
    if_exists: bool,
    /// Lower-cased: condition key names are case-insensitive in IAM.
    key: String,
    values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetQualifier {
    Single,
    ForAnyValue,
    ForAllValues,
}

/// The outcome of evaluating one or more policies for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// A matching `Deny` statement: overrides every `Allow`.
    ExplicitDeny,
    /// No statement allows the request.
    ImplicitDeny,
}

/// What is being asked for.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The calling principal as `(type, ARN)`, e.g. `("Federated", "arn:aws:iam::…:oidc-provider/…")`.
    /// Only trust policies look at it.
    pub principal: Option<(&'a str, &'a str)>,
    pub action: &'a str,
    /// Only identity policies look at it.
    pub resource: Option<&'a str>,
    pub context: &'a Context,
}

/// The request's condition keys and their values (several for multi-valued keys like `amr`).
#[derive(Debug, Clone, Default)]
pub struct Context {
    values: HashMap<String, Vec<String>>,
}

impl Context {
    pub fn new() -> Context {
        Context::default()
    }

    /// Sets `key` (case-insensitive) to `values`; an empty list leaves the key absent.
    pub fn set(&mut self, key: &str, values: Vec<String>) {
        if !values.is_empty() {
            self.values.insert(key.to_ascii_lowercase(), values);
        }
    }

    fn get(&self, key: &str) -> Option<&[String]> {
        self.values.get(key).map(Vec::as_slice)
    }
}

impl Policy {
    /// Parses a policy document exactly as pasted into IAM.
    pub fn parse(text: &str, kind: PolicyKind) -> Result<Policy, PolicyError> {
        let document: Value = serde_json::from_str(text).map_err(|e| PolicyError {
            line: e.line().max(1),
            message: format!("not valid JSON: {e}"),
        })?;
        let fail = |near: &str, message: String| PolicyError {
            line: line_of(text, near),
            message,
        };
        let Value::Object(document) = document else {
            return Err(fail("", "a policy must be a JSON object".into()));
        };
        for key in document.keys() {
            if !["Version", "Id", "Statement"].contains(&key.as_str()) {
                return Err(fail(key, format!("unknown top-level field `{key}`")));
            }
        }
        match document.get("Version") {
            None => {}
            Some(Value::String(v)) if v == "2012-10-17" || v == "2008-10-17" => {}
            Some(other) => {
                return Err(fail(
                    "Version",
                    format!("`Version` must be \"2012-10-17\" (or \"2008-10-17\"), not {other}"),
                ))
            }
        }
        let statements = match document.get("Statement") {
            Some(Value::Array(items)) if !items.is_empty() => items.iter().collect(),
            Some(Value::Object(_)) => vec![&document["Statement"]],
            _ => {
                return Err(fail(
                    "Statement",
                    "`Statement` must be an object or a non-empty array".into(),
                ))
            }
        };
        let statements = statements
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                Statement::parse(s, kind)
                    .map_err(|(near, m)| fail(&near, format!("Statement[{i}]: {m}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(Policy { statements })
    }

    /// This policy's verdict on `request`: an explicit deny wins over any allow.
    pub fn evaluate(&self, request: &Request) -> Decision {
        let mut decision = Decision::ImplicitDeny;
        for statement in self.statements.iter().filter(|s| s.applies(request)) {
            match statement.effect {
                Effect::Deny => return Decision::ExplicitDeny,
                Effect::Allow => decision = Decision::Allow,
            }
        }
        decision
    }

    /// The `Federated` principals the policy names, for summaries and diagnostics.
    pub fn federated_principals(&self) -> Vec<&str> {
        let mut out = Vec::new();
        for statement in &self.statements {
            if let Some(Principal::Typed(types)) = &statement.principal {
                for (kind, values) in types {
                    if kind == "Federated" {
                        out.extend(values.iter().map(String::as_str));
                    }
                }
            }
        }
        out
    }
}

/// The combined verdict of several policies of the same kind (e.g. all of a role's permission
/// policies): any explicit deny wins, else any allow.
pub fn evaluate_all<'p>(
    policies: impl IntoIterator<Item = &'p Policy>,
    request: &Request,
) -> Decision {
    let mut decision = Decision::ImplicitDeny;
    for policy in policies {
        match policy.evaluate(request) {
            Decision::ExplicitDeny => return Decision::ExplicitDeny,
            Decision::Allow => decision = Decision::Allow,
            Decision::ImplicitDeny => {}
        }
    }
    decision
}

/// A parse failure inside a statement: the text to point at, and the message.
type StatementError = (String, String);

impl Statement {
    fn parse(value: &Value, kind: PolicyKind) -> Result<Statement, StatementError> {
        let Value::Object(map) = value else {
            return Err((String::new(), "a statement must be a JSON object".into()));
        };
        for key in map.keys() {
            let allowed = [
                "Sid",
                "Effect",
                "Principal",
                "Action",
                "NotAction",
                "Resource",
                "NotResource",
                "Condition",
            ];
            if key == "NotPrincipal" {
                return Err((key.clone(), "`NotPrincipal` is not supported".into()));
            }
            if !allowed.contains(&key.as_str()) {
                return Err((key.clone(), format!("unknown field `{key}`")));
            }
        }
        let effect = match map.get("Effect") {
            Some(Value::String(e)) if e == "Allow" => Effect::Allow,
            Some(Value::String(e)) if e == "Deny" => Effect::Deny,
            Some(other) => {
                return Err((
                    "Effect".into(),
                    format!("`Effect` must be \"Allow\" or \"Deny\", not {other}"),
                ))
            }
            None => return Err((String::new(), "missing `Effect`".into())),
        };
        let principal = match (kind, map.get("Principal")) {
            (PolicyKind::Trust, Some(p)) => Some(parse_principal(p)?),
            (PolicyKind::Trust, None) => {
                return Err((
                    String::new(),
                    "a trust policy statement needs a `Principal`".into(),
                ))
            }
            (PolicyKind::Identity, Some(_)) => {
                return Err((
                    "Principal".into(),
                    "`Principal` is not allowed in a permission or session policy".into(),
                ))
            }
            (PolicyKind::Identity, None) => None,
        };
        let action = parse_patterns(map, "Action", "NotAction", false)?.ok_or_else(|| {
            (
                String::new(),
                "missing `Action` (or `NotAction`)".to_string(),
            )
        })?;
        let resource = parse_patterns(map, "Resource", "NotResource", true)?;
        match (kind, &resource) {
            (PolicyKind::Trust, Some(_)) => {
                return Err((
                    "Resource".into(),
                    "`Resource` is not allowed in a trust policy".into(),
                ))
            }
            (PolicyKind::Identity, None) => {
                return Err((
                    String::new(),
                    "missing `Resource` (or `NotResource`)".into(),
                ))
            }
            _ => {}
        }
        let conditions = match map.get("Condition") {
            None => Vec::new(),
            Some(c) => parse_conditions(c)?,
        };
        Ok(Statement {
            effect,
            principal,
            action,
            resource,
            conditions,
        })
    }

    fn applies(&self, request: &Request) -> bool {
        let principal_ok = match (&self.principal, request.principal) {
            (None, _) => true,
            (Some(Principal::Anyone), _) => true,
            (Some(Principal::Typed(types)), Some((kind, arn))) => types
                .iter()
                .any(|(k, values)| k == kind && values.iter().any(|v| v == "*" || v == arn)),
            (Some(Principal::Typed(_)), None) => false,
        };
        let resource_ok = match (&self.resource, request.resource) {
            (None, _) => true,
            (Some(patterns), Some(resource)) => patterns.matches(resource),
            (Some(_), None) => false,
        };
        principal_ok
            && self.action.matches(request.action)
            && resource_ok
            && self.conditions.iter().all(|c| c.holds(request.context))
    }
}

fn parse_principal(value: &Value) -> Result<Principal, StatementError> {
    match value {
        Value::String(s) if s == "*" => Ok(Principal::Anyone),
        Value::Object(map) if !map.is_empty() => {
            let mut types = Vec::new();
            for (kind, values) in map {
                if !["Federated", "AWS", "Service", "CanonicalUser"].contains(&kind.as_str()) {
                    return Err((kind.clone(), format!("unknown principal type `{kind}`")));
                }
                types.push((
                    kind.clone(),
                    string_list(values)
                        .map_err(|m| (kind.clone(), format!("`Principal.{kind}` {m}")))?,
                ));
            }
            Ok(Principal::Typed(types))
        }
        _ => Err((
            "Principal".into(),
            "`Principal` must be \"*\" or an object like {\"Federated\": \"arn:…\"}".into(),
        )),
    }
}

fn parse_patterns(
    map: &Map<String, Value>,
    positive: &str,
    negative: &str,
    case_sensitive: bool,
) -> Result<Option<Patterns>, StatementError> {
    match (map.get(positive), map.get(negative)) {
        (Some(_), Some(_)) => Err((
            negative.into(),
            format!("`{positive}` and `{negative}` cannot both be present"),
        )),
        (Some(v), None) | (None, Some(v)) => {
            let (negated, key) = if map.contains_key(positive) {
                (false, positive)
            } else {
                (true, negative)
            };
            let patterns = string_list(v).map_err(|m| (key.to_string(), format!("`{key}` {m}")))?;
            Ok(Some(Patterns {
                negated,
                patterns,
                case_sensitive,
            }))
        }
        (None, None) => Ok(None),
    }
}

fn parse_conditions(value: &Value) -> Result<Vec<Condition>, StatementError> {
    let Value::Object(operators) = value else {
        return Err((
            "Condition".into(),
            "`Condition` must be an object of operators".into(),
        ));
    };
    let mut conditions = Vec::new();
    for (name, keys) in operators {
        let (operator, set, if_exists) = parse_operator(name).map_err(|m| (name.clone(), m))?;
        let Value::Object(keys) = keys else {
            return Err((
                name.clone(),
                format!("`{name}` must map condition keys to values"),
            ));
        };
        if keys.is_empty() {
            return Err((name.clone(), format!("`{name}` names no condition key")));
        }
        for (key, values) in keys {
            let values = condition_values(values)
                .map_err(|m| (key.clone(), format!("`{name}.{key}` {m}")))?;
            if operator == Operator::Null && values.iter().any(|v| v != "true" && v != "false") {
                return Err((
                    key.clone(),
                    format!("`Null` takes \"true\" or \"false\" for `{key}`"),
                ));
            }
            conditions.push(Condition {
                operator,
                set,
                if_exists,
                key: key.to_ascii_lowercase(),
                values,
            });
        }
    }
    Ok(conditions)
}

fn parse_operator(name: &str) -> Result<(Operator, SetQualifier, bool), String> {
    let (set, rest) = if let Some(rest) = name.strip_prefix("ForAnyValue:") {
        (SetQualifier::ForAnyValue, rest)
    } else if let Some(rest) = name.strip_prefix("ForAllValues:") {
        (SetQualifier::ForAllValues, rest)
    } else {
        (SetQualifier::Single, name)
    };
    let (base, if_exists) = match rest.strip_suffix("IfExists") {
        Some(base) => (base, true),
        None => (rest, false),
    };
    let operator = match base {
        "StringEquals" => Operator::StringEquals,
        "StringNotEquals" => Operator::StringNotEquals,
        "StringEqualsIgnoreCase" => Operator::StringEqualsIgnoreCase,
        "StringNotEqualsIgnoreCase" => Operator::StringNotEqualsIgnoreCase,
        "StringLike" => Operator::StringLike,
        "StringNotLike" => Operator::StringNotLike,
        "Null" => Operator::Null,
        _ => {
            return Err(format!(
                "unsupported condition operator `{name}` (the emulator supports the String… operators, their …IfExists forms, ForAnyValue:/ForAllValues: and Null)"
            ))
        }
    };
    if operator == Operator::Null && (if_exists || set != SetQualifier::Single) {
        return Err(format!(
            "`{name}`: `Null` takes no set qualifier and no IfExists"
        ));
    }
    Ok((operator, set, if_exists))
}

/// A string or a non-empty array of strings.
fn string_list(value: &Value) -> Result<Vec<String>, String> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| "must hold only strings".to_string())
            })
            .collect(),
        _ => Err("must be a string or a non-empty array of strings".into()),
    }
}

/// Condition values: IAM also accepts booleans and numbers, compared as their text.
fn condition_values(value: &Value) -> Result<Vec<String>, String> {
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match value {
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|i| {
                scalar(i).ok_or_else(|| "must hold only strings, numbers or booleans".to_string())
            })
            .collect(),
        other => scalar(other)
            .map(|s| vec![s])
            .ok_or_else(|| "must be a string or a non-empty array".into()),
    }
}

impl Patterns {
    fn matches(&self, value: &str) -> bool {
        let hit = self.patterns.iter().any(|p| {
            if self.case_sensitive {
                wildcard_match(p, value)
            } else {
                wildcard_match(&p.to_ascii_lowercase(), &value.to_ascii_lowercase())
            }
        });
        hit != self.negated
    }
}

impl Condition {
    fn holds(&self, context: &Context) -> bool {
        let present = context.get(&self.key);
        if self.operator == Operator::Null {
            let want_absent = self.values.iter().any(|v| v == "true");
            return present.is_none() == want_absent;
        }
        let Some(request_values) = present else {
            // A key missing from the request: only IfExists, ForAllValues (vacuously) and the
            // negated operators hold.
            return self.if_exists
                || self.set == SetQualifier::ForAllValues
                || (self.set == SetQualifier::Single && self.negated());
        };
        let positive = |v: &str| self.values.iter().any(|p| self.compare(p, v));
        match self.set {
            SetQualifier::Single if self.negated() => !request_values.iter().any(|v| positive(v)),
            SetQualifier::Single => request_values.iter().any(|v| positive(v)),
            SetQualifier::ForAnyValue => {
                request_values.iter().any(|v| positive(v) != self.negated())
            }
            SetQualifier::ForAllValues => {
                request_values.iter().all(|v| positive(v) != self.negated())
            }
        }
    }

    fn negated(&self) -> bool {
        matches!(
            self.operator,
            Operator::StringNotEquals
                | Operator::StringNotEqualsIgnoreCase
                | Operator::StringNotLike
        )
    }

    /// The un-negated comparison of one policy value with one request value.
    fn compare(&self, policy: &str, request: &str) -> bool {
        match self.operator {
            Operator::StringEquals | Operator::StringNotEquals => policy == request,
            Operator::StringEqualsIgnoreCase | Operator::StringNotEqualsIgnoreCase => {
                policy.eq_ignore_ascii_case(request)
            }
            Operator::StringLike | Operator::StringNotLike => wildcard_match(policy, request),
            Operator::Null => false,
        }
    }
}

/// IAM wildcard matching: `*` is any run of characters (also none), `?` exactly one.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    // Where the last `*` was and which text position it is currently standing in for.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// The 1-based line of the first `"needle"` in `text` (1 when absent or empty).
fn line_of(text: &str, needle: &str) -> usize {
    if needle.is_empty() {
        return 1;
    }
    text.find(&format!("\"{needle}\""))
        .map_or(1, |at| text[..at].matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    const PROVIDER: &str = "arn:aws:iam::123456789012:oidc-provider/idp.example.com/realms/acme";

    fn trust(conditions: &str) -> Policy {
        let text = format!(
            r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow",
               "Principal": {{"Federated": "{PROVIDER}"}},
               "Action": "sts:AssumeRoleWithWebIdentity", "Condition": {conditions}}}]}}"#
        );
        Policy::parse(&text, PolicyKind::Trust).unwrap()
    }

    fn context(pairs: &[(&str, &[&str])]) -> Context {
        let mut c = Context::new();
        for (k, v) in pairs {
            c.set(k, v.iter().map(|s| s.to_string()).collect());
        }
        c
    }

    fn assume(policy: &Policy, ctx: &Context) -> Decision {
        policy.evaluate(&Request {
            principal: Some(("Federated", PROVIDER)),
            action: "sts:AssumeRoleWithWebIdentity",
            resource: None,
            context: ctx,
        })
    }

    const AUD: &str = "idp.example.com/realms/acme:aud";
    const SUB: &str = "idp.example.com/realms/acme:sub";
    const AMR: &str = "idp.example.com/realms/acme:amr";

    #[test]
    fn wildcards() {
        assert!(wildcard_match(
            "anthropic.claude-*",
            "anthropic.claude-3-5-sonnet-20240620-v1:0"
        ));
        assert!(wildcard_match("a?c", "abc"));
        assert!(!wildcard_match("a?c", "ac"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("a*b*c", "aXXbYYc"));
        assert!(!wildcard_match("a*b*c", "aXXbYY"));
        assert!(!wildcard_match("User", "user"), "case-sensitive");
        assert!(wildcard_match("**x", "yyx"));
    }

    #[test]
    fn string_equals_and_like_are_case_sensitive() {
        let p = trust(&format!(
            r#"{{"StringEquals": {{"{AUD}": "acme-app"}}, "StringLike": {{"{SUB}": "user-*"}}}}"#
        ));
        assert_eq!(
            assume(&p, &context(&[(AUD, &["acme-app"]), (SUB, &["user-42"])])),
            Decision::Allow
        );
        assert_eq!(
            assume(&p, &context(&[(AUD, &["ACME-app"]), (SUB, &["user-42"])])),
            Decision::ImplicitDeny
        );
        assert_eq!(
            assume(&p, &context(&[(AUD, &["acme-app"]), (SUB, &["User-42"])])),
            Decision::ImplicitDeny
        );
        // A missing key makes a positive condition false.
        assert_eq!(
            assume(&p, &context(&[(AUD, &["acme-app"])])),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn condition_key_names_are_case_insensitive() {
        let p = trust(r#"{"StringEquals": {"IDP.example.com/realms/acme:AUD": "acme-app"}}"#);
        assert_eq!(
            assume(&p, &context(&[(AUD, &["acme-app"])])),
            Decision::Allow
        );
    }

    #[test]
    fn missing_keys_hold_only_for_if_exists_negations_and_for_all_values() {
        let empty = Context::new();
        for (conditions, expected) in [
            (
                format!(r#"{{"StringEqualsIfExists": {{"{AMR}": "mfa"}}}}"#),
                Decision::Allow,
            ),
            (
                format!(r#"{{"StringNotEquals": {{"{AMR}": "mfa"}}}}"#),
                Decision::Allow,
            ),
            (
                format!(r#"{{"StringNotLike": {{"{AMR}": "m*"}}}}"#),
                Decision::Allow,
            ),
            (
                format!(r#"{{"ForAllValues:StringEquals": {{"{AMR}": "mfa"}}}}"#),
                Decision::Allow,
            ),
            (
                format!(r#"{{"ForAnyValue:StringEquals": {{"{AMR}": "mfa"}}}}"#),
                Decision::ImplicitDeny,
            ),
            (
                format!(r#"{{"StringEquals": {{"{AMR}": "mfa"}}}}"#),
                Decision::ImplicitDeny,
            ),
            (
                format!(r#"{{"Null": {{"{AMR}": "true"}}}}"#),
                Decision::Allow,
            ),
            (
                format!(r#"{{"Null": {{"{AMR}": false}}}}"#),
                Decision::ImplicitDeny,
            ),
        ] {
            assert_eq!(
                assume(&trust(&conditions), &empty),
                expected,
                "{conditions}"
            );
        }
    }

    #[test]
    fn set_qualifiers_on_multi_valued_keys() {
        let amr = context(&[(AMR, &["pwd", "mfa"])]);
        let any = trust(&format!(
            r#"{{"ForAnyValue:StringEquals": {{"{AMR}": "mfa"}}}}"#
        ));
        let all = trust(&format!(
            r#"{{"ForAllValues:StringEquals": {{"{AMR}": ["mfa", "otp"]}}}}"#
        ));
        let all_like = trust(&format!(
            r#"{{"ForAllValues:StringLike": {{"{AMR}": ["*"]}}}}"#
        ));
        let none_pwd = trust(&format!(
            r#"{{"ForAllValues:StringNotEquals": {{"{AMR}": "pwd"}}}}"#
        ));
        let some_not_pwd = trust(&format!(
            r#"{{"ForAnyValue:StringNotEquals": {{"{AMR}": "pwd"}}}}"#
        ));
        assert_eq!(assume(&any, &amr), Decision::Allow);
        assert_eq!(assume(&all, &amr), Decision::ImplicitDeny);
        assert_eq!(assume(&all_like, &amr), Decision::Allow);
        assert_eq!(assume(&none_pwd, &amr), Decision::ImplicitDeny);
        assert_eq!(assume(&some_not_pwd, &amr), Decision::Allow);
        assert_eq!(
            assume(&any, &context(&[(AMR, &["pwd"])])),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn deny_overrides_allow_and_principal_must_match() {
        let text = format!(
            r#"{{"Version": "2012-10-17", "Statement": [
                {{"Effect": "Allow", "Principal": {{"Federated": "{PROVIDER}"}}, "Action": "sts:*"}},
                {{"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRoleWithWebIdentity",
                  "Condition": {{"StringLike": {{"{SUB}": "blocked-*"}}}}}}]}}"#
        );
        let p = Policy::parse(&text, PolicyKind::Trust).unwrap();
        assert_eq!(assume(&p, &context(&[(SUB, &["alice"])])), Decision::Allow);
        assert_eq!(
            assume(&p, &context(&[(SUB, &["blocked-bob"])])),
            Decision::ExplicitDeny
        );
        let other = Request {
            principal: Some((
                "Federated",
                "arn:aws:iam::123456789012:oidc-provider/other.example.com",
            )),
            action: "sts:AssumeRoleWithWebIdentity",
            resource: None,
            context: &Context::new(),
        };
        assert_eq!(p.evaluate(&other), Decision::ImplicitDeny);
        assert_eq!(p.federated_principals(), [PROVIDER]);
    }

    #[test]
    fn identity_policies_match_actions_case_insensitively_and_resources_exactly() {
        let text = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow",
            "Action": ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
            "Resource": "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-*"}}"#;
        let p = Policy::parse(text, PolicyKind::Identity).unwrap();
        let ctx = Context::new();
        let ask = |action, resource| {
            p.evaluate(&Request {
                principal: None,
                action,
                resource: Some(resource),
                context: &ctx,
            })
        };
        let claude =
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0";
        assert_eq!(ask("bedrock:invokemodel", claude), Decision::Allow);
        assert_eq!(
            ask(
                "bedrock:InvokeModel",
                "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text"
            ),
            Decision::ImplicitDeny
        );
        assert_eq!(
            ask(
                "bedrock:InvokeModel",
                "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-x"
            ),
            Decision::ImplicitDeny
        );
        let not_action = Policy::parse(
            r#"{"Statement": [{"Effect": "Deny", "NotAction": "bedrock:InvokeModel", "Resource": "*"}]}"#,
            PolicyKind::Identity,
        )
        .unwrap();
        assert_eq!(
            evaluate_all(
                [&p, &not_action],
                &Request {
                    principal: None,
                    action: "bedrock:InvokeModel",
                    resource: Some(claude),
                    context: &ctx
                }
            ),
            Decision::Allow
        );
        assert_eq!(
            evaluate_all(
                [&p, &not_action],
                &Request {
                    principal: None,
                    action: "bedrock:ListFoundationModels",
                    resource: Some(claude),
                    context: &ctx
                }
            ),
            Decision::ExplicitDeny
        );
    }

    #[test]
    fn refusals_point_at_the_offending_line() {
        let text = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\n    \"Effect\": \"Allow\",\n    \"Principal\": {\"Federated\": \"x\"},\n    \"Action\": \"sts:AssumeRoleWithWebIdentity\",\n    \"Condition\": {\"DateGreaterThan\": {\"aws:CurrentTime\": \"2020-01-01\"}}\n  }]\n}";
        let err = Policy::parse(text, PolicyKind::Trust).unwrap_err();
        assert_eq!(err.line, 7, "{err}");
        assert!(
            err.message
                .contains("unsupported condition operator `DateGreaterThan`"),
            "{err}"
        );
        let bad = |text: &str, kind, needle: &str| {
            let err = Policy::parse(text, kind).unwrap_err();
            assert!(err.message.contains(needle), "{needle}: {err}");
        };
        bad("{\"Statement\": [}", PolicyKind::Trust, "not valid JSON");
        bad("[]", PolicyKind::Trust, "JSON object");
        bad(
            r#"{"Version": "2012-10-18", "Statement": []}"#,
            PolicyKind::Trust,
            "Version",
        );
        bad(r#"{"Statement": []}"#, PolicyKind::Trust, "non-empty array");
        bad(
            r#"{"Statement": {"Effect": "allow", "Principal": "*", "Action": "*"}}"#,
            PolicyKind::Trust,
            "Effect",
        );
        bad(
            r#"{"Statement": {"Effect": "Allow", "Action": "*"}}"#,
            PolicyKind::Trust,
            "needs a `Principal`",
        );
        bad(
            r#"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}}"#,
            PolicyKind::Trust,
            "`Resource` is not allowed",
        );
        bad(
            r#"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "*"}}"#,
            PolicyKind::Identity,
            "`Principal` is not allowed",
        );
        bad(
            r#"{"Statement": {"Effect": "Allow", "Action": "*"}}"#,
            PolicyKind::Identity,
            "missing `Resource`",
        );
        bad(
            r#"{"Statement": {"Effect": "Allow", "Action": "*", "NotAction": "x", "Resource": "*"}}"#,
            PolicyKind::Identity,
            "cannot both",
        );
        bad(
            r#"{"Statement": {"Effect": "Allow", "Action": [], "Resource": "*"}}"#,
            PolicyKind::Identity,
            "non-empty array",
        );
        bad(
            r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Null": {"k": "maybe"}}}}"#,
            PolicyKind::Identity,
            "\"true\" or \"false\"",
        );
        bad(
            r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"ForAnyValue:NullIfExists": {"k": "true"}}}}"#,
            PolicyKind::Identity,
            "Null",
        );
        bad(
            r#"{"Statement": {"Effect": "Allow", "NotPrincipal": "*", "Action": "*"}}"#,
            PolicyKind::Trust,
            "NotPrincipal",
        );
        bad(
            r#"{"Statement": {"Effect": "Allow", "Principal": {"Federatd": "x"}, "Action": "*"}}"#,
            PolicyKind::Trust,
            "principal type",
        );
        bad(
            r#"{"Statment": []}"#,
            PolicyKind::Trust,
            "unknown top-level field",
        );
    }

    /// Random and mangled documents: parsing never panics, and every refusal has a message.
    #[test]
    fn fuzz_policy_parsing() {
        let seeds = [
            trust_text(),
            r#"{"Statement": {"Effect": "Allow", "Action": ["bedrock:*"], "Resource": "*", "Condition": {"ForAllValues:StringLikeIfExists": {"k": ["a", 1, true]}}}}"#.to_string(),
        ];
        let alphabet: Vec<char> = "{}[]\":,*?\\ab01 \nAllowDenyStatementNullForAnyValue:"
            .chars()
            .collect();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for i in 0..3000 {
            let mut text: Vec<char> = seeds[i % seeds.len()].chars().collect();
            for _ in 0..rng.gen_range(1..6) {
                let at = rng.gen_range(0..=text.len());
                match rng.gen_range(0..3) {
                    0 if at < text.len() => {
                        text.remove(at);
                    }
                    1 => text.insert(at, alphabet[rng.gen_range(0..alphabet.len())]),
                    _ => text.truncate(at),
                }
            }
            let text: String = text.into_iter().collect();
            for kind in [PolicyKind::Trust, PolicyKind::Identity] {
                if let Err(e) = Policy::parse(&text, kind) {
                    assert!(!e.message.is_empty() && e.line >= 1);
                }
            }
        }
    }

    fn trust_text() -> String {
        format!(
            r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Principal": {{"Federated": "{PROVIDER}"}}, "Action": "sts:AssumeRoleWithWebIdentity", "Condition": {{"StringEquals": {{"{AUD}": "acme-app"}}, "StringLike": {{"{SUB}": "*"}}}}}}]}}"#
        )
    }
}
