//! serde support for the value types themselves: [`Value`] and [`OwnedValue`] serialize to
//! any format, and [`OwnedValue`] deserializes from any self-describing one.

use std::collections::BTreeMap;

use core::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::{Kind, OwnedValue, Value};

/// Byte strings serialize as bytes (not as a sequence of numbers).
struct Bytes<'b>(&'b [u8]);

impl Serialize for Bytes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

impl Serialize for Value<'_> {
    /// Serializes the content; dictionaries as their [canonical](crate::Dict::canonical)
    /// entries.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.kind() {
            Kind::Int(n) => serializer.serialize_i64(*n),
            Kind::Bytes(bytes) => serializer.serialize_bytes(bytes),
            Kind::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Kind::Dict(dict) => {
                // Serializers may rely on the length being exact, repeats excluded.
                let mut map = serializer.serialize_map(Some(dict.canonical().count()))?;
                for (key, value) in dict.canonical() {
                    map.serialize_entry(&Bytes(key), value)?;
                }
                map.end()
            }
        }
    }
}

impl Serialize for OwnedValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Int(n) => serializer.serialize_i64(*n),
            Self::Bytes(bytes) => serializer.serialize_bytes(bytes),
            Self::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Self::Dict(dict) => {
                let mut map = serializer.serialize_map(Some(dict.len()))?;
                for (key, value) in dict {
                    map.serialize_entry(&Bytes(key), value)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for OwnedValue {
    /// Accepts integers, strings, bytes, sequences and maps with string or byte keys.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(OwnedValueVisitor)
    }
}

struct OwnedValueVisitor;

impl<'de> Visitor<'de> for OwnedValueVisitor {
    type Value = OwnedValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a bencode value: an integer, byte string, list or dictionary")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<OwnedValue, E> {
        Ok(OwnedValue::Int(i64::from(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<OwnedValue, E> {
        Ok(OwnedValue::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<OwnedValue, E> {
        i64::try_from(v)
            .map(OwnedValue::Int)
            .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &"an integer within i64"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<OwnedValue, E> {
        Ok(OwnedValue::Bytes(v.as_bytes().to_vec()))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<OwnedValue, E> {
        Ok(OwnedValue::Bytes(v.to_vec()))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<OwnedValue, E> {
        Ok(OwnedValue::Bytes(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OwnedValue, A::Error> {
        // No pre-reservation from the (untrusted) size hint.
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(OwnedValue::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OwnedValue, A::Error> {
        let mut dict = BTreeMap::new();
        while let Some((KeyBuf(key), value)) = map.next_entry::<KeyBuf, OwnedValue>()? {
            // The first of repeated keys wins, as everywhere in this crate.
            dict.entry(key).or_insert(value);
        }
        Ok(OwnedValue::Dict(dict))
    }
}

/// A dictionary key deserialized from text or bytes.
struct KeyBuf(Vec<u8>);

impl<'de> Deserialize<'de> for KeyBuf {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_byte_buf(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = KeyBuf;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or bytes")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyBuf, E> {
        Ok(KeyBuf(v.as_bytes().to_vec()))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<KeyBuf, E> {
        Ok(KeyBuf(v.to_vec()))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<KeyBuf, E> {
        Ok(KeyBuf(v))
    }
}
