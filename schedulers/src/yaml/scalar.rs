//! Values kept as written: [`Scalar`], a single value as its text, and [`Entries`], a
//! mapping in file order.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_saphyr::Spanned;

/// A single YAML value kept as its text, whatever YAML would have typed it as: `2`, `0.5`,
/// `"500m"` and `10m` all arrive as the characters written, so quantities, durations and
/// integers are parsed by exact parsers of our own rather than through a float.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar(pub String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // `deserialize_str` makes serde-saphyr hand over the scalar's source text. The number
        // and bool visitors are there in case a value reaches us already typed (e.g. through
        // an alias replay); they render it back to text.
        deserializer.deserialize_str(ScalarVisitor)
    }
}

/// Reads a [`Scalar`]; public so that a type that is either a scalar or something else (a
/// distribution mapping, say) can hand its single values to it.
pub struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a single value (a string or a number)")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar(v))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar(v.to_string()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Scalar, E> {
        Ok(Scalar(v.to_string()))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Scalar, E> {
        Ok(Scalar(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar(v.to_string()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        // A null inside a list or map (`values: [1m, ~]`) becomes an empty value, which the
        // interpreting parser then rejects with a message naming the field.
        Ok(Scalar(String::new()))
    }

    fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar(String::new()))
    }
}

/// A mapping kept in file order, with duplicate keys already rejected by the parser. A
/// `BTreeMap` would reorder the keys, and extended resources are numbered in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Entries<K, V>(pub Vec<(K, V)>);

impl<K, V> Default for Entries<K, V> {
    fn default() -> Self {
        Entries(Vec::new())
    }
}

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for Entries<K, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EntriesVisitor(PhantomData))
    }
}

struct EntriesVisitor<K, V>(PhantomData<(K, V)>);

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for EntriesVisitor<K, V> {
    type Value = Entries<K, V>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Entries(entries))
    }
}

/// A resource list: resource names to quantities (`allocatable`, `limits`, `overhead`).
pub type QuantityMap = Entries<Spanned<String>, Spanned<Scalar>>;
/// Label keys to values (`labels`, `nodeSelector`, `matchLabels`).
pub type LabelMap = Entries<Spanned<String>, Spanned<String>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_keep_the_text_and_entries_the_order() {
        let map: QuantityMap =
            serde_saphyr::from_str("{cpu: 1.50, memory: \"1Gi\", z: '', a: true}").unwrap();
        let read: Vec<(&str, &str)> = map
            .0
            .iter()
            .map(|(k, v)| (k.value.as_str(), v.value.0.as_str()))
            .collect();
        assert_eq!(
            read,
            [("cpu", "1.50"), ("memory", "1Gi"), ("z", ""), ("a", "true")]
        );
        assert_eq!(
            (map.0[1].1.referenced.line(), map.0[1].1.referenced.column()),
            (1, 21)
        );
    }
}
