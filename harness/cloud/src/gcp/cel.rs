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

/// The longest expression ssoproof compiles: far above any real mapping or condition (Google
/// caps a condition at 4096 characters), far below what makes the parser slow.
pub const MAX_SOURCE_BYTES: usize = 16 * 1024;
/// The deepest nesting of `(`, `[` and `{` ssoproof compiles. The `cel` crate's parser recurses
/// per level and fails badly on deep input before its own limit applies, so the bound is
/// checked before the source reaches it.
pub const MAX_NESTING: usize = 32;
/// The most operator characters (`+ - * / % < > = ! & | ? .`) ssoproof compiles: a chain such
/// as `1 + 1 + … + 1` nests one level per operator in the parsed tree, and both compiling and
/// running recurse through it.
pub const MAX_OPERATORS: usize = 1000;

/// Refuses sources over [`MAX_SOURCE_BYTES`], nesting brackets deeper than [`MAX_NESTING`] or
/// with more than [`MAX_OPERATORS`], in one pass that skips string literals (`')'` inside
/// quotes is text, not a bracket).
fn check_limits(source: &str) -> Result<(), String> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(format!(
            "the expression is {} bytes long; ssoproof compiles at most {MAX_SOURCE_BYTES}",
            source.len()
        ));
    }
    let bytes = source.as_bytes();
    let (mut depth, mut operators, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'\'' | b'"') => {
                // A raw string (`r'…'`) has no escapes; a triple quote runs to its twin.
                let raw = i > 0 && matches!(bytes[i - 1], b'r' | b'R');
                let triple = bytes[i..].starts_with(&[quote; 3]);
                let delimiter: &[u8] = if triple { &[quote; 3] } else { &[quote] };
                i += delimiter.len();
                while i < bytes.len() && !bytes[i..].starts_with(delimiter) {
                    i += if bytes[i] == b'\\' && !raw { 2 } else { 1 };
                }
                i += delimiter.len();
                continue;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    let line = source[..i].matches('\n').count() + 1;
                    return Err(format!(
                        "brackets nest deeper than {MAX_NESTING} levels (line {line} of the expression); ssoproof compiles at most {MAX_NESTING}"
                    ));
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'+' | b'-' | b'*' | b'/' | b'%' | b'<' | b'>' | b'=' | b'!' | b'&' | b'|' | b'?'
            | b'.' => {
                operators += 1;
                if operators > MAX_OPERATORS {
                    return Err(format!(
                        "the expression has more than {MAX_OPERATORS} operators; ssoproof compiles at most {MAX_OPERATORS}"
                    ));
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// The stack of the thread that compiles or runs an expression: the parser recurses a few
/// hundred kilobytes deep per bracket level in a debug build, and running `1 + 1 + … + 1`
/// recurses once per operator, both more than a test or tokio thread's 2 MiB holds within the
/// limits above. Only the pages touched are ever allocated.
const STACK_BYTES: usize = 256 * 1024 * 1024;

/// Runs `work` on a thread of its own with a large stack. A panic in the `cel` crate ends that
/// thread only and comes back as an error (the thread is joined, so this always returns),
/// instead of crashing the load or the emulator.
fn isolated<T: Send>(work: impl FnOnce() -> Result<T, String> + Send) -> Result<T, String> {
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .name("cel".into())
            .stack_size(STACK_BYTES)
            .spawn_scoped(scope, work)
            .map_err(|e| format!("cannot start a thread for CEL: {e}"))?;
        thread
            .join()
            .unwrap_or_else(|_| Err("the CEL library failed on this expression".to_string()))
    })
}

/// At most the first 60 characters of `source`, for messages: a refused expression may be
/// kilobytes long.
pub fn excerpt(source: &str) -> String {
    match source.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &source[..cut]),
        None => source.to_string(),
    }
}

impl CelExpr {
    /// Compiles `source`; the error is the parser's message, with line and column, or the
    /// limit the source exceeds.
    pub fn compile(source: &str) -> Result<CelExpr, String> {
        check_limits(source)?;
        let program = isolated(|| ENV.compile(source).map_err(|e| e.to_string()))?;
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
        isolated(|| {
            let mut context = Context::with_env(ENV.clone());
            for (name, value) in variables {
                let value = cel::to_value(value).map_err(|e| e.to_string())?;
                context.add_variable_from_value(*name, value);
            }
            let result = self.program.execute(&context).map_err(|e| e.to_string())?;
            result.json().map_err(|e| e.to_string())
        })
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
    fn deep_or_long_sources_are_refused_before_the_parser() {
        let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
        let err = CelExpr::compile(&deep).unwrap_err();
        assert!(err.contains("bytes long"), "{err}");
        let deep = format!("{}1{}", "[".repeat(1_000), "]".repeat(1_000));
        let err = CelExpr::compile(&deep).unwrap_err();
        assert!(err.contains("deeper than 32 levels"), "{err}");
        let at_limit = format!("{}1{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        assert!(CelExpr::compile(&at_limit).is_ok());
        // Brackets inside string literals of every kind are text.
        let quoted = "(".repeat(200);
        for source in [
            format!("'{quoted}' + \"{quoted}\""),
            format!("'''{quoted}''' + r'{quoted}\\' + '\\'{quoted}'"),
        ] {
            assert!(CelExpr::compile(&source).is_ok(), "{source}");
        }
        // Long operator chains compile and run (a 2 MiB thread overflows on them).
        let chain = format!("1{}", " + 1".repeat(MAX_OPERATORS));
        assert_eq!(eval(&chain, json!({})), Ok(json!(MAX_OPERATORS + 1)));
        let err = CelExpr::compile(&format!("{chain}+1")).unwrap_err();
        assert!(err.contains("more than 1000 operators"), "{err}");
        // Operators inside strings are text.
        assert!(CelExpr::compile(&format!("'{}'", "+".repeat(5000))).is_ok());
        let err = CelExpr::compile(&"x".repeat(MAX_SOURCE_BYTES + 1)).unwrap_err();
        assert!(err.contains(&MAX_SOURCE_BYTES.to_string()), "{err}");
        assert_eq!(excerpt(&"é".repeat(61)), format!("{}…", "é".repeat(60)));
    }

    /// Fragments of CEL, glued in any order: most sequences are not CEL, some are, and some
    /// sit on the limits.
    fn cel_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let fragment = prop::sample::select(vec![
            "(",
            ")",
            "[",
            "]",
            "{",
            "}",
            "'",
            "\"",
            "'''",
            "r'",
            "\\",
            "assertion",
            ".",
            "sub",
            "groups",
            "+",
            "-",
            "*",
            "/",
            "%",
            "==",
            "!=",
            "<",
            ">=",
            "&&",
            "||",
            "!",
            "?",
            ":",
            ",",
            " ",
            "1",
            "2.5",
            "-9223372036854775808",
            "18446744073709551615u",
            "true",
            "null",
            "in",
            "has(",
            "map(",
            "g",
            "x",
            "extract(",
            "'{x}'",
            "size(",
            "\n",
            "é",
            "b'\\xff'",
            "dyn(",
            "int(",
            "string(",
        ]);
        prop_oneof![
            prop::collection::vec(fragment, 0..40).prop_map(|parts| parts.concat()),
            // Deep and long: bracket runs around the limit.
            (
                0..80usize,
                prop::sample::select(vec!["(", "[", "{1:", "!", "-", "x."])
            )
                .prop_map(|(n, open)| format!("{}1", open.repeat(n))),
            any::<String>(),
        ]
    }

    proptest::proptest! {
        // PROPTEST_CASES raises the case count (256 by default, a few seconds).
        #[test]
        fn any_source_compiles_or_is_refused_and_runs_or_fails_without_panicking(source in cel_text()) {
            match CelExpr::compile(&source) {
                Ok(expr) => {
                    let claims = json!({"sub": "u", "groups": ["a"], "x": {"y": 1}});
                    let _ = expr.evaluate(&[("assertion", &claims), ("g", &json!("a"))]);
                }
                Err(message) => {
                    proptest::prop_assert!(!message.is_empty());
                    proptest::prop_assert!(
                        !message.contains("CEL library failed"),
                        "the cel crate panicked on {source:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn compiled_expressions_can_be_shared_between_tasks() {
        fn shareable<T: Send + Sync>() {}
        shareable::<CelExpr>();
    }
}
