//! Two questions asked of a YAML text through serde_yaml_ng's own parser, so that positions are
//! exactly those its errors give: how many values the document holds once its aliases are
//! expanded (a few kilobytes of `*alias` can stand for gigabytes), and where the value at a key
//! path starts (for errors about values serde accepted, which must point at the value itself,
//! not at the first line that happens to hold the same key).
//!
//! Both walk the document with a visitor. To locate a value, the walk stops there with an error
//! raised *inside* that value's deserialization, which serde_yaml_ng marks with the value's own
//! line and column.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The most values (scalars, lists and mappings, aliases counted at every use) one YAML file
/// may hold: far above any real configuration, far below what exhausts memory once each value
/// becomes a Rust value.
pub const MAX_VALUES: usize = 1_000_000;

/// Refuses a document of more than [`MAX_VALUES`] values with aliases expanded. The error is
/// serde_yaml_ng's, located where the count ran over.
pub(crate) fn check_expansion(text: &str) -> Result<(), serde_yaml_ng::Error> {
    let count = Cell::new(0);
    Count(&count).deserialize(serde_yaml_ng::Deserializer::from_str(text))
}

struct Count<'a>(&'a Cell<usize>);

impl Count<'_> {
    fn tick<E: de::Error>(&self) -> Result<(), E> {
        self.0.set(self.0.get() + 1);
        if self.0.get() > MAX_VALUES {
            return Err(E::custom(format!(
                "the document holds more than {MAX_VALUES} values once its aliases (`*name`) are expanded; write the repeated values out once, or use fewer aliases"
            )));
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Count<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

macro_rules! count_scalars {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method<E: de::Error>(self, _: $ty) -> Result<(), E> {
            self.tick()
        }
    )*};
}

impl<'de> Visitor<'de> for Count<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    count_scalars!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_i128: i128,
        visit_u128: u128, visit_f64: f64, visit_str: &str);
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.tick()
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.tick()
    }
    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.deserialize(deserializer)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.tick()?;
        while seq.next_element_seed(Count(self.0))?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.tick()?;
        while map.next_key_seed(Count(self.0))?.is_some() {
            map.next_value_seed(Count(self.0))?;
        }
        Ok(())
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        // A tagged value (`!tag value`): the tag, then the value.
        let ((), variant) = data.variant_seed(Count(self.0))?;
        de::VariantAccess::newtype_variant_seed(variant, Count(self.0))
    }
}

/// One step of a key path: a mapping key or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// `runbooks.exceptions[1].expires` as steps. Keys holding a `.` or `[` cannot be written this
/// way; build the steps directly for them.
pub fn steps(dotted: &str) -> Vec<Step> {
    let mut out = Vec::new();
    for part in dotted.split('.') {
        let (key, indices) = part.split_once('[').unwrap_or((part, ""));
        if !key.is_empty() {
            out.push(Step::Key(key.to_string()));
        }
        for index in indices.split('[') {
            if let Ok(i) = index.trim_end_matches(']').parse() {
                out.push(Step::Index(i));
            }
        }
    }
    out
}

/// Steps written as a key path: `projects[1].permissions.aiplatform.endpoints.predict[0]`.
pub fn key_path(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(key) if out.is_empty() => out.push_str(key),
            Step::Key(key) => {
                out.push('.');
                out.push_str(key);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The 1-based line and column where the value at `path` starts, if the text holds it.
pub fn locate(text: &str, path: &[Step]) -> Option<(usize, usize)> {
    match Locate(path).deserialize(serde_yaml_ng::Deserializer::from_str(text)) {
        Err(e) if e.to_string().contains(HERE) => e.location().map(|l| (l.line(), l.column())),
        _ => None,
    }
}

/// Like [`locate`], but falls back to the nearest enclosing value that is written (a rule
/// about a key left to its default points at the mapping it belongs in), then to the start.
pub fn locate_nearest(text: &str, path: &[Step]) -> (usize, usize) {
    (0..=path.len())
        .rev()
        .find_map(|n| locate(text, &path[..n]))
        .unwrap_or((1, 1))
}

/// The message of the error that stops the walk at the value sought.
const HERE: &str = "\u{0}ssoproof: the value sought\u{0}";

struct Locate<'p>(&'p [Step]);

impl<'de> DeserializeSeed<'de> for Locate<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        // Even at the target, the error must be raised inside the value's own
        // deserialization: that is where serde_yaml_ng attaches its position.
        deserializer.deserialize_any(self)
    }
}

impl Locate<'_> {
    fn here<E: de::Error>(&self) -> Result<(), E> {
        if self.0.is_empty() {
            Err(E::custom(HERE))
        } else {
            // A scalar where the path goes deeper: the value is not there.
            Ok(())
        }
    }
}

macro_rules! locate_scalars {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method<E: de::Error>(self, _: $ty) -> Result<(), E> {
            self.here()
        }
    )*};
}

impl<'de> Visitor<'de> for Locate<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    locate_scalars!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_i128: i128,
        visit_u128: u128, visit_f64: f64, visit_str: &str);
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.here()
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.here()
    }
    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.deserialize(deserializer)
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        self.here()
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some((Step::Index(index), rest)) = self.0.split_first() else {
            return self.here();
        };
        for _ in 0..*index {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
        }
        seq.next_element_seed(Locate(rest)).map(drop)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((Step::Key(key), rest)) = self.0.split_first() else {
            return self.here();
        };
        while let Some(found) = map.next_key::<KeyText>()? {
            if found.0.as_deref() == Some(key.as_str()) {
                return map.next_value_seed(Locate(rest));
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
}

/// A mapping key's text when it is a scalar; `None` for any other key.
struct KeyText(Option<String>);

impl<'de> de::Deserialize<'de> for KeyText {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl<'de> Visitor<'de> for Text {
            type Value = KeyText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyText, E> {
                Ok(KeyText(Some(v.to_string())))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyText, E> {
                Ok(KeyText(Some(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyText, E> {
                Ok(KeyText(Some(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyText, E> {
                Ok(KeyText(Some(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<KeyText, E> {
                Ok(KeyText(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<KeyText, E> {
                Ok(KeyText(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<KeyText, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(KeyText(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeyText, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(KeyText(None))
            }
        }
        deserializer.deserialize_any(Text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, dotted: &str) -> Option<(usize, usize)> {
        locate(text, &steps(dotted))
    }

    #[test]
    fn steps_read_dotted_paths_with_indices() {
        assert_eq!(
            steps("a.b[1].c[0][2]"),
            [
                Step::Key("a".into()),
                Step::Key("b".into()),
                Step::Index(1),
                Step::Key("c".into()),
                Step::Index(0),
                Step::Index(2)
            ]
        );
    }

    #[test]
    fn key_paths_round_trip() {
        for dotted in ["a", "a.b[1].c", "a[0][2]"] {
            assert_eq!(key_path(&steps(dotted)), dotted);
        }
    }

    #[test]
    fn locates_values_in_block_and_flow_style_and_list_items() {
        let text = "runbooks:\n  review: {fail_after_days: 10, warn_after_days: 200}\n  exceptions:\n    - path: a.md\n      expires: 2026-01-01\n    - path: b.md\n      expires: 2026-02-30\n";
        assert_eq!(at(text, "runbooks.review.warn_after_days"), Some((2, 50)));
        assert_eq!(at(text, "runbooks.exceptions[1].expires"), Some((7, 16)));
        assert_eq!(at(text, "runbooks.exceptions[0].path"), Some((4, 13)));
        assert_eq!(at(text, "runbooks.exceptions[2].path"), None);
        assert_eq!(at(text, "runbooks.review.nope"), None);
        assert_eq!(at(text, "runbooks.review.fail_after_days.deeper"), None);
        assert_eq!(
            locate_nearest(text, &steps("runbooks.exceptions[1].justification")),
            (6, 7)
        );
        assert_eq!(locate_nearest("a: 1\n", &steps("b.c")), (1, 1));
        // Keys holding dots are reached by steps.
        let text = "m:\n  google.subject: x\n  '/acme/a.b': y\n";
        let path = [Step::Key("m".into()), Step::Key("/acme/a.b".into())];
        assert_eq!(locate(text, &path), Some((3, 16)));
    }

    #[test]
    fn alias_expansion_is_bounded() {
        // 1,000 values named 1,000 times: a million once expanded.
        let items = vec!["x"; 1000].join(", ");
        let refs = vec!["*g"; 1001].join(", ");
        let text = format!("a: &g [{items}]\nb: [{refs}]\n");
        let err = check_expansion(&text).unwrap_err();
        assert!(
            err.to_string().contains("more than 1000000 values"),
            "{err}"
        );
        assert!(err.location().is_some());
        assert!(check_expansion(&format!("a: &g [{items}]\nb: [*g, *g]\n")).is_ok());
    }
}
