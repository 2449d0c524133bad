//! [`Fragment`]: one piece of a larger file (an object of a `kind: List`) read on its own,
//! with every position it reports being the file's.
//!
//! serde-saphyr counts lines and columns from the start of the text it is given, and
//! offers no way to start counting elsewhere. Padding the piece with one line break per
//! line above it keeps the positions right but makes reading the n-th object of a List
//! cost as much as the n lines above it, so a List of N objects costs N x lines. Instead
//! the piece is read alone (after spaces up to its column, so that columns stay exact),
//! through [`Shifted`], a pass-through deserializer that moves every [`Location`] it
//! hands out (the `referenced` and `defined` of each
//! [`Spanned`](serde_saphyr::Spanned) value) by the lines, characters and bytes above
//! the piece. A parse error is located in the piece and moved
//! the same way ([`Fragment::translate`]).

use std::fmt;

use serde::Deserialize;
use serde::de::value::{SeqDeserializer, StrDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor};
use serde_saphyr::{Error, Location};

use super::{Schema, Tree, YamlError, parse_options, translate};

/// How far a piece's own positions are from the file's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Shift {
    /// Lines above the piece.
    lines: u64,
    /// Characters of the file before the piece's first character (its padding included).
    chars: u64,
    /// Bytes of the file before the piece's first byte (its padding included).
    bytes: u64,
}

/// One piece of a file, ready to be read with the file's lines, columns and offsets.
pub struct Fragment {
    /// The piece, after as many spaces as its first line is indented in the file.
    text: String,
    shift: Shift,
}

impl Fragment {
    /// The text `file[start..end]`, which starts at `at` (its line, column and offsets
    /// in `file`). The cost is the piece's size, whatever its place in the file.
    pub fn new(file: &str, start: usize, end: usize, at: &Location) -> Fragment {
        let indent = usize::try_from(at.column().saturating_sub(1)).unwrap_or(0);
        let mut text = String::with_capacity(indent + (end - start));
        text.extend(std::iter::repeat_n(' ', indent));
        text.push_str(&file[start..end]);
        let span = at.span();
        let indent = indent as u64;
        Fragment {
            text,
            shift: Shift {
                lines: at.line().saturating_sub(1),
                chars: span.offset().saturating_sub(indent),
                bytes: (start as u64).saturating_sub(indent),
            },
        }
    }

    /// The piece's text, padded to its column (its lines are counted from 1).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Reads the piece as `T` with schedlab's [`parse_options`]; every location in `T`
    /// is the file's.
    pub fn parse<T: for<'de> Deserialize<'de>>(&self) -> Result<T, Error> {
        let shift = self.shift;
        serde_saphyr::with_deserializer_from_str_with_options(&self.text, parse_options(), |d| {
            T::deserialize(Shifted { inner: d, shift })
        })
    }

    /// The piece as an untyped [`Tree`] with the file's positions; `None` when it is not
    /// YAML.
    pub fn tree(&self) -> Option<Tree> {
        Tree::from_fragment(self)
    }

    /// [`translate`] for an error of [`Fragment::parse`], at the file's line.
    pub fn translate(&self, err: &Error, path: &str, schema: &dyn Schema) -> YamlError {
        // The error's location is the piece's (serde-saphyr keeps it apart from the
        // values), and so is the tree `translate` reads to find the field.
        let mut e = translate(err, &self.text, path, schema);
        e.line = e.line.map(|l| l + self.shift.lines);
        e
    }
}

/// The fields of serde-saphyr's `Location`, in the order its `Deserialize` names them:
/// how a pass-through deserializer recognizes one.
const LOCATION_FIELDS: [&str; 4] = ["line", "column", "span", "source_id"];

/// The fields of `loc` moved by `shift`, as `Location`'s `Deserialize` reads them (it has
/// no constructor). An unknown location stays unknown.
fn location_fields(loc: &Location, shift: Shift) -> Fields {
    if loc.line() == 0 {
        return Fields(vec![
            ("line", Value::U64(0)),
            ("column", Value::U64(loc.column())),
            ("source_id", Value::U64(u64::from(loc.source_id()))),
        ]);
    }
    let span = loc.span();
    let mut fields = vec![
        ("offset", Value::U64(span.offset() + shift.chars)),
        ("len", Value::U64(span.len())),
    ];
    if let (Some(offset), Some(len)) = (span.byte_offset(), span.byte_len()) {
        fields.push(("byte_info", Value::Pair(offset + shift.bytes, len)));
    }
    Fields(vec![
        ("line", Value::U64(loc.line() + shift.lines)),
        ("column", Value::U64(loc.column())),
        ("span", Value::Map(Fields(fields))),
        ("source_id", Value::U64(u64::from(loc.source_id()))),
    ])
}

/// One field of a [`Location`] or a [`Span`](serde_saphyr::Span) being rebuilt.
enum Value {
    U64(u64),
    Pair(u64, u64),
    Map(Fields),
}

/// The fields of a struct being rebuilt, handed out as a map in order.
struct Fields(Vec<(&'static str, Value)>);

impl<'de> MapAccess<'de> for Fields {
    type Error = de::value::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match self.0.first() {
            Some((key, _)) => {
                let key: StrDeserializer<'_, Self::Error> = key.into_deserializer();
                seed.deserialize(key).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        let (_, value) = self.0.remove(0);
        seed.deserialize(value)
    }
}

impl<'de> Deserializer<'de> for Value {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self {
            Value::U64(v) => visitor.visit_u64(v),
            Value::Pair(a, b) => visitor.visit_seq(SeqDeserializer::new([a, b].into_iter())),
            Value::Map(fields) => visitor.visit_map(fields),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map struct
        enum identifier ignored_any
    }
}

/// A pass-through deserializer: everything as `inner` reads it, but every `Location`
/// moved by `shift`.
struct Shifted<D> {
    inner: D,
    shift: Shift,
}

/// The same wrapper around a visitor, a seed or an access of the inner deserializer.
struct Wrap<T> {
    inner: T,
    shift: Shift,
}

impl<T> Wrap<T> {
    fn new(inner: T, shift: Shift) -> Wrap<T> {
        Wrap { inner, shift }
    }
}

macro_rules! forward_deserialize {
    ($($method:ident),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.inner.$method(Wrap::new(visitor, self.shift))
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Shifted<D> {
    type Error = D::Error;

    forward_deserialize!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier,
        deserialize_ignored_any
    );

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner
            .deserialize_unit_struct(name, Wrap::new(visitor, self.shift))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner
            .deserialize_newtype_struct(name, Wrap::new(visitor, self.shift))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner
            .deserialize_tuple(len, Wrap::new(visitor, self.shift))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner
            .deserialize_tuple_struct(name, len, Wrap::new(visitor, self.shift))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        if name == "Location" && fields == LOCATION_FIELDS {
            let loc = Location::deserialize(self.inner)?;
            return visitor
                .visit_map(location_fields(&loc, self.shift))
                .map_err(|e| de::Error::custom(e.to_string()));
        }
        self.inner
            .deserialize_struct(name, fields, Wrap::new(visitor, self.shift))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner
            .deserialize_enum(name, variants, Wrap::new(visitor, self.shift))
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

macro_rules! forward_visit {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
            self.inner.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    forward_visit!(
        visit_bool: bool,
        visit_i8: i8,
        visit_i16: i16,
        visit_i32: i32,
        visit_i64: i64,
        visit_i128: i128,
        visit_u8: u8,
        visit_u16: u16,
        visit_u32: u32,
        visit_u64: u64,
        visit_u128: u128,
        visit_f32: f32,
        visit_f64: f64,
        visit_char: char,
        visit_str: &str,
        visit_borrowed_str: &'de str,
        visit_string: String,
        visit_bytes: &[u8],
        visit_borrowed_bytes: &'de [u8],
        visit_byte_buf: Vec<u8>
    );

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.inner.visit_some(Shifted {
            inner: d,
            shift: self.shift,
        })
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.inner.visit_newtype_struct(Shifted {
            inner: d,
            shift: self.shift,
        })
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.inner.visit_seq(Wrap::new(seq, self.shift))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(Wrap::new(map, self.shift))
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.inner.visit_enum(Wrap::new(data, self.shift))
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Wrap<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.inner.deserialize(Shifted {
            inner: d,
            shift: self.shift,
        })
    }
}

impl<'de, A: de::SeqAccess<'de>> de::SeqAccess<'de> for Wrap<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.inner.next_element_seed(Wrap::new(seed, self.shift))
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Wrap<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.inner.next_key_seed(Wrap::new(seed, self.shift))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.inner.next_value_seed(Wrap::new(seed, self.shift))
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'de, A: de::EnumAccess<'de>> de::EnumAccess<'de> for Wrap<A> {
    type Error = A::Error;
    type Variant = Wrap<A::Variant>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Wrap<A::Variant>), A::Error> {
        let shift = self.shift;
        let (value, variant) = self.inner.variant_seed(Wrap::new(seed, shift))?;
        Ok((value, Wrap::new(variant, shift)))
    }
}

impl<'de, A: de::VariantAccess<'de>> de::VariantAccess<'de> for Wrap<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.inner.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.inner.newtype_variant_seed(Wrap::new(seed, self.shift))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.inner
            .tuple_variant(len, Wrap::new(visitor, self.shift))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.inner
            .struct_variant(fields, Wrap::new(visitor, self.shift))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_saphyr::Spanned;

    #[derive(Deserialize)]
    struct Item {
        name: Spanned<String>,
        ports: Option<Vec<Spanned<u32>>>,
    }

    #[derive(Deserialize)]
    struct List {
        items: Vec<Spanned<Item>>,
    }

    const FILE: &str =
        "kind: List\nitems:\n- name: a\n  ports: [1]\n- name: é\n  ports:\n  - 80\n  - 443\n";

    #[test]
    fn a_piece_reports_the_files_positions() {
        let whole: List = serde_saphyr::from_str(FILE).unwrap();
        let second = &whole.items[1];
        let start = usize::try_from(second.referenced.span().byte_offset().unwrap()).unwrap();
        let piece = Fragment::new(FILE, start, FILE.len(), &second.referenced);
        let item: Spanned<Item> = piece.parse().unwrap();
        assert_eq!(item.referenced, second.referenced);
        assert_eq!(item.value.name.referenced, second.value.name.referenced);
        let ports = item.value.ports.unwrap();
        let want = second.value.ports.as_ref().unwrap();
        assert_eq!(ports[1].value, 443);
        assert_eq!(ports[1].referenced, want[1].referenced);
        assert_eq!(
            (ports[1].referenced.line(), ports[1].referenced.column()),
            (8, 5)
        );
        // Byte offsets too: the é before it is two bytes, one character.
        let at = ports[1].referenced.span();
        let byte = usize::try_from(at.byte_offset().unwrap()).unwrap();
        assert_eq!(&FILE[byte..byte + 3], "443");
        assert_eq!(at.offset() + 1, at.byte_offset().unwrap());
    }

    struct Items;
    impl Schema for Items {
        fn document(&self) -> &str {
            "an item"
        }
    }

    #[test]
    fn a_piece_error_names_the_files_line() {
        let file = "kind: List\nitems:\n- name: a\n- name: b\n  ports: [x]\n";
        let start = file.find("name: b").unwrap();
        let whole: List =
            serde_saphyr::from_str("kind: List\nitems:\n- name: a\n- name: b\n").unwrap();
        let piece = Fragment::new(file, start, file.len(), &whole.items[1].referenced);
        let err = piece.parse::<Item>().err().unwrap();
        let e = piece.translate(&err, "list.yaml", &Items);
        assert_eq!((e.line, e.column), (Some(5), Some(11)));
        assert_eq!(e.field.as_deref(), Some("ports[0]"));
    }
}
