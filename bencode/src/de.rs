//! Deserializing Rust values from bencode with serde.
//!
//! Input is decoded into a [`Value`] tree first (strictly, unless you decode it yourself and
//! call [`from_value`]), so a type can borrow strings and bytes from the input and errors
//! name the byte offset of the value at fault.
//!
//! The data model maps as follows:
//!
//! | bencode              | Rust |
//! |----------------------|------|
//! | integer              | any integer type (range-checked); `bool` from `0`/`1` |
//! | byte string          | `&str`/`String` (must be UTF-8), `&[u8]`/`serde_bytes`, `char`, a unit enum variant by name, or a sequence of `u8` (`Vec<u8>`, `[u8; 20]`) |
//! | list                 | sequences and tuples |
//! | dictionary           | structs and maps; a single-entry dictionary is a non-unit enum variant |
//! | (absent entry)       | `None` |
//!
//! Of repeated keys in a leniently decoded dictionary only the first is seen, as with
//! [`Dict::get`](crate::Dict::get).

use serde::de::{self, Visitor};

use crate::{Canonical, Decoder, Kind, SerdeError, Value};

/// Deserializes a `T` from `input`, which must be strictly valid bencode.
///
/// For non-canonical input, decode it leniently with [`Decoder`] and use [`from_value`].
pub fn from_bytes<'de, T: de::Deserialize<'de>>(input: &'de [u8]) -> Result<T, SerdeError> {
    let decoded = Decoder::new().decode(input)?;
    from_value(&decoded.value)
}

/// Deserializes a `T` from an already decoded value, for instance one part of a torrent.
pub fn from_value<'de, T: de::Deserialize<'de>>(value: &Value<'de>) -> Result<T, SerdeError> {
    T::deserialize(Deserializer::new(value))
}

/// A serde `Deserializer` reading one decoded [`Value`].
#[derive(Clone, Copy, Debug)]
pub struct Deserializer<'v, 'de> {
    value: &'v Value<'de>,
}

impl<'v, 'de> Deserializer<'v, 'de> {
    /// A deserializer for `value`.
    pub fn new(value: &'v Value<'de>) -> Self {
        Self { value }
    }

    fn offset(&self) -> usize {
        self.value.span().start
    }

    fn type_error(&self, expected: &dyn de::Expected) -> SerdeError {
        let unexpected = match self.value.kind() {
            Kind::Int(n) => de::Unexpected::Signed(*n),
            Kind::Bytes(bytes) => de::Unexpected::Bytes(bytes),
            Kind::List(_) => de::Unexpected::Seq,
            Kind::Dict(_) => de::Unexpected::Map,
        };
        <SerdeError as de::Error>::invalid_type(unexpected, expected).at(self.offset())
    }
}

impl<'de> de::Deserializer<'de> for Deserializer<'_, 'de> {
    type Error = SerdeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        let result = match self.value.kind() {
            Kind::Int(n) => visitor.visit_i64(*n),
            Kind::Bytes(bytes) => visit_text_or_bytes(bytes, visitor),
            Kind::List(items) => visit_list(items, visitor),
            Kind::Dict(dict) => visitor.visit_map(MapAccess {
                entries: dict.canonical(),
                value: None,
            }),
        };
        result.map_err(|error| error.at(self.offset()))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        let result = match self.value.as_int() {
            Some(0) => visitor.visit_bool(false),
            Some(1) => visitor.visit_bool(true),
            Some(n) => Err(de::Error::invalid_value(
                de::Unexpected::Signed(n),
                &"0 or 1",
            )),
            None => Err(self.type_error(&"0 or 1")),
        };
        result.map_err(|error| error.at(self.offset()))
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.value.kind() {
            Kind::Bytes(bytes) => visitor
                .visit_borrowed_bytes(bytes)
                .map_err(|error: SerdeError| error.at(self.offset())),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        // A value that is present is `Some`; absence is handled by the containing struct.
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.value.kind() {
            // A byte string reads as a sequence of `u8`, so `Vec<u8>` and `[u8; N]` work.
            Kind::Bytes(bytes) => {
                let mut seq = de::value::SeqDeserializer::new(bytes.iter().copied());
                visitor
                    .visit_seq(&mut seq)
                    .and_then(|value| seq.end().map(|()| value))
                    .map_err(|error: SerdeError| error.at(self.offset()))
            }
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        let result = match self.value.kind() {
            Kind::Bytes(name) => visitor.visit_enum(EnumAccess { name, value: None }),
            Kind::Dict(dict) => {
                let mut entries = dict.canonical();
                match (entries.next(), entries.next()) {
                    (Some((name, value)), None) => visitor.visit_enum(EnumAccess {
                        name,
                        value: Some(value),
                    }),
                    _ => Err(de::Error::invalid_length(
                        dict.len(),
                        &"a dictionary with exactly one entry",
                    )),
                }
            }
            _ => Err(self.type_error(&"an enum variant")),
        };
        result.map_err(|error| error.at(self.offset()))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        unit unit_struct map struct identifier
    }
}

/// Strings are byte strings in bencode: offer text when it is UTF-8 so that `deserialize_any`
/// users (untagged enums, flattened structs) see strings, and bytes otherwise.
fn visit_text_or_bytes<'de, V: Visitor<'de>>(
    bytes: &'de [u8],
    visitor: V,
) -> Result<V::Value, SerdeError> {
    match core::str::from_utf8(bytes) {
        Ok(text) => visitor.visit_borrowed_str(text),
        Err(_) => visitor.visit_borrowed_bytes(bytes),
    }
}

/// Visits a list, failing if the visitor leaves items unread (a tuple or array too short).
fn visit_list<'de, V: Visitor<'de>>(
    items: &[Value<'de>],
    visitor: V,
) -> Result<V::Value, SerdeError> {
    let mut access = SeqAccess {
        items: items.iter(),
    };
    let value = visitor.visit_seq(&mut access)?;
    match access.items.len() {
        0 => Ok(value),
        _ => Err(de::Error::invalid_length(
            items.len(),
            &"fewer items (the list is longer than the type)",
        )),
    }
}

struct SeqAccess<'v, 'de> {
    items: core::slice::Iter<'v, Value<'de>>,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'_, 'de> {
    type Error = SerdeError;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, SerdeError> {
        self.items
            .next()
            .map(|item| seed.deserialize(Deserializer::new(item)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapAccess<'v, 'de> {
    entries: Canonical<'v, 'de>,
    /// The value of the key just handed out.
    value: Option<&'v Value<'de>>,
}

impl<'de> de::MapAccess<'de> for MapAccess<'_, 'de> {
    type Error = SerdeError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, SerdeError> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        seed.deserialize(KeyDeserializer { key })
            .map(Some)
            .map_err(|error| error.at(value.span().start))
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, SerdeError> {
        match self.value.take() {
            Some(value) => seed.deserialize(Deserializer::new(value)),
            None => Err(de::Error::custom("map value requested before its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        self.entries.size_hint().1
    }
}

/// Deserializes a dictionary key: text if UTF-8, else bytes; also a unit enum variant.
struct KeyDeserializer<'de> {
    key: &'de [u8],
}

impl<'de> de::Deserializer<'de> for KeyDeserializer<'de> {
    type Error = SerdeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        visit_text_or_bytes(self.key, visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        visitor.visit_borrowed_bytes(self.key)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        visitor.visit_borrowed_bytes(self.key)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        visitor.visit_enum(EnumAccess {
            name: self.key,
            value: None,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

/// An enum variant: its name, and for all but unit variants the value under it.
struct EnumAccess<'v, 'de> {
    name: &'de [u8],
    value: Option<&'v Value<'de>>,
}

impl<'v, 'de> de::EnumAccess<'de> for EnumAccess<'v, 'de> {
    type Error = SerdeError;
    type Variant = VariantAccess<'v, 'de>;

    fn variant_seed<S: de::DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), SerdeError> {
        let variant = seed.deserialize(KeyDeserializer { key: self.name })?;
        Ok((variant, VariantAccess { value: self.value }))
    }
}

struct VariantAccess<'v, 'de> {
    value: Option<&'v Value<'de>>,
}

impl<'v, 'de> VariantAccess<'v, 'de> {
    fn value(self, expected: &'static str) -> Result<Deserializer<'v, 'de>, SerdeError> {
        self.value
            .map(Deserializer::new)
            .ok_or_else(|| de::Error::invalid_type(de::Unexpected::UnitVariant, &expected))
    }
}

impl<'de> de::VariantAccess<'de> for VariantAccess<'_, 'de> {
    type Error = SerdeError;

    fn unit_variant(self) -> Result<(), SerdeError> {
        match self.value {
            None => Ok(()),
            Some(value) => Err(Deserializer::new(value).type_error(&"a unit variant")),
        }
    }

    fn newtype_variant_seed<T: de::DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, SerdeError> {
        seed.deserialize(self.value("a newtype variant")?)
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        de::Deserializer::deserialize_seq(self.value("a tuple variant")?, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        de::Deserializer::deserialize_map(self.value("a struct variant")?, visitor)
    }
}
