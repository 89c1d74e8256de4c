//! The CEL dialect of workforce-pool attribute mappings and conditions: the standard library,
//! the strings extension (`split`, `lowerAscii`, …) and Google's `extract`, over JSON-shaped
//! variables. Expressions are compiled once, when the configuration is loaded, so a typo is a
//! load-time error and not a refused sign-in.

use std::sync::{Arc, LazyLock};

use cel::common::types::CelString;
use cel::{Context, Env, Program};
use serde_json::Value;

/// One environment for compiling and running: a program must run in the environment whose
/// macros and overloads it was compiled against.
static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| {
    let mut env = Env::stdlib();
    env.add_extension(cel::extensions::strings)
        .expect("the strings extension is declared once");
    cel::add_member_overload!(env, fn extract: (CelString, CelString) -> CelString)
        .expect("`extract` is declared once");
    Arc::new(env)
});

/// A compiled CEL expression and its source, for messages.
#[derive(Clone)]
pub struct CelExpr {
    source: String,
    program: Arc<Program>,
}

impl std::fmt::Debug for CelExpr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CelExpr({:?})", self.source)
    }
}

impl CelExpr {
    /// Compiles `source`; the error is the parser's message, with line and column.
    pub fn compile(source: &str) -> Result<CelExpr, String> {
        let program = ENV.compile(source).map_err(|e| e.to_string())?;
        Ok(CelExpr {
            source: source.to_string(),
            program: Arc::new(program),
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Runs the expression with `variables` bound by name, returning its value as JSON.
    /// A missing key, a type mismatch or a result JSON cannot hold is an error.
    pub fn evaluate(&self, variables: &[(&str, &Value)]) -> Result<Value, String> {
        let mut context = Context::with_env(ENV.clone());
        for (name, value) in variables {
            let value = cel::to_value(value).map_err(|e| e.to_string())?;
            context.add_variable_from_value(*name, value);
        }
        let result = self.program.execute(&context).map_err(|e| e.to_string())?;
        result.json().map_err(|e| e.to_string())
    }
}

/// Google's `extract`: the part of the string that the `{name}` placeholder of `template`
/// covers, e.g. `'users/alice/x'.extract('users/{user}/')` is `alice`. With nothing after the
/// placeholder it runs to the end of the string; when the text around it is not found the
/// result is the empty string, as in Google's implementation.
fn extract(this: &CelString<'_>, template: &CelString<'_>) -> CelString<'static> {
    CelString::from(extract_str(this.inner(), template.inner()).to_string())
}

fn extract_str<'a>(text: &'a str, template: &str) -> &'a str {
    let Some(open) = template.find('{') else {
        return "";
    };
    let Some(close) = template[open..].find('}').map(|i| open + i) else {
        return "";
    };
    let (prefix, suffix) = (&template[..open], &template[close + 1..]);
    let Some(start) = text.find(prefix).map(|i| i + prefix.len()) else {
        return "";
    };
    let rest = &text[start..];
    if suffix.is_empty() {
        return rest;
    }
    rest.find(suffix).map_or("", |end| &rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(source: &str, assertion: Value) -> Result<Value, String> {
        CelExpr::compile(source)
            .unwrap()
            .evaluate(&[("assertion", &assertion)])
    }

    #[test]
    fn evaluates_claims_lists_and_concatenation() {
        let claims = json!({"sub": "u1", "email": "a@acme.test", "groups": ["eng", "ops"], "n": 3});
        assert_eq!(eval("assertion.sub", claims.clone()), Ok(json!("u1")));
        assert_eq!(
            eval("assertion.groups", claims.clone()),
            Ok(json!(["eng", "ops"]))
        );
        assert_eq!(
            eval("'x:' + assertion.email", claims.clone()),
            Ok(json!("x:a@acme.test"))
        );
        assert_eq!(
            eval("'eng' in assertion.groups", claims.clone()),
            Ok(json!(true))
        );
        assert_eq!(
            eval(
                "assertion.email.endsWith('@acme.test') && assertion.n > 2",
                claims.clone()
            ),
            Ok(json!(true))
        );
        assert_eq!(
            eval("assertion.sub.upperAscii()", claims.clone()),
            Ok(json!("U1"))
        );
        assert_eq!(
            eval("assertion.groups.map(g, 'team-' + g)", claims.clone()),
            Ok(json!(["team-eng", "team-ops"]))
        );
        assert_eq!(eval("has(assertion.groups)", json!({})), Ok(json!(false)));
        assert!(eval("assertion.groups", json!({})).is_err());
        assert!(eval("assertion.sub + 1", claims).is_err());
    }

    #[test]
    fn extract_follows_googles_template_rules() {
        let claims = json!({"arn": "arn:aws:sts::1:assumed-role/dev/s", "sub": "repo:o/r:ref"});
        assert_eq!(
            eval(
                "assertion.arn.extract('assumed-role/{role}/')",
                claims.clone()
            ),
            Ok(json!("dev"))
        );
        assert_eq!(
            eval("assertion.sub.extract('repo:{r}')", claims.clone()),
            Ok(json!("o/r:ref"))
        );
        assert_eq!(
            eval("assertion.sub.extract('nope/{x}')", claims),
            Ok(json!(""))
        );
        assert_eq!(extract_str("abc", "no placeholder"), "");
        assert_eq!(extract_str("abc", "a{unclosed"), "");
        assert_eq!(extract_str("a/b", "a/{x}/"), "");
    }

    #[test]
    fn compile_errors_say_where() {
        let err = CelExpr::compile("assertion.sub ==").unwrap_err();
        assert!(err.contains("1:"), "{err}");
    }

    #[test]
    fn compiled_expressions_can_be_shared_between_tasks() {
        fn shareable<T: Send + Sync>() {}
        shareable::<CelExpr>();
    }
}
