//! An owned value tree, for building bencode or keeping it past its input.

use std::collections::BTreeMap;

use core::fmt;

use crate::value::ByteStr;
use crate::{Encoder, Kind, Value};

/// A bencode value that owns its data. Dictionaries are `BTreeMap`s, so keys are unique and
/// sorted, and [`encode`](Self::encode) is canonical by construction.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OwnedValue {
    /// An integer.
    Int(i64),
    /// A byte string.
    Bytes(Vec<u8>),
    /// A list.
    List(Vec<OwnedValue>),
    /// A dictionary.
    Dict(BTreeMap<Vec<u8>, OwnedValue>),
}

impl OwnedValue {
    /// The canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut encoder = Encoder::new();
        encoder.value().owned(self);
        encoder.into_bytes()
    }

    /// The integer, if this is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Self::Int(n) => Some(*n),
            _ => None,
        }
    }

    /// The byte string, if this is one.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Self::Bytes(bytes) => Some(bytes),
            _ => None,
        }
    }

    /// The byte string as text, if this is a byte string holding valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        self.as_bytes()
            .and_then(|bytes| core::str::from_utf8(bytes).ok())
    }

    /// The list's items, if this is a list.
    pub fn as_list(&self) -> Option<&[OwnedValue]> {
        match self {
            Self::List(items) => Some(items),
            _ => None,
        }
    }

    /// The dictionary, if this is one.
    pub fn as_dict(&self) -> Option<&BTreeMap<Vec<u8>, OwnedValue>> {
        match self {
            Self::Dict(dict) => Some(dict),
            _ => None,
        }
    }

    /// Looks `key` up, if this is a dictionary.
    pub fn get(&self, key: impl AsRef<[u8]>) -> Option<&OwnedValue> {
        self.as_dict().and_then(|dict| dict.get(key.as_ref()))
    }

    /// The type's name, for messages: `"integer"`, `"byte string"`, `"list"` or
    /// `"dictionary"`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Int(_) => "integer",
            Self::Bytes(_) => "byte string",
            Self::List(_) => "list",
            Self::Dict(_) => "dictionary",
        }
    }
}

impl fmt::Debug for OwnedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Int(n) => n.fmt(f),
            Self::Bytes(bytes) => ByteStr(bytes).fmt(f),
            Self::List(items) => f.debug_list().entries(items).finish(),
            Self::Dict(dict) => f
                .debug_map()
                .entries(dict.iter().map(|(k, v)| (ByteStr(k), v)))
                .finish(),
        }
    }
}

impl From<&Value<'_>> for OwnedValue {
    fn from(value: &Value<'_>) -> Self {
        match value.kind() {
            Kind::Int(n) => Self::Int(*n),
            Kind::Bytes(bytes) => Self::Bytes(bytes.to_vec()),
            Kind::List(items) => Self::List(items.iter().map(Self::from).collect()),
            Kind::Dict(dict) => Self::Dict(
                dict.canonical()
                    .map(|(key, value)| (key.to_vec(), Self::from(value)))
                    .collect(),
            ),
        }
    }
}

impl From<i64> for OwnedValue {
    fn from(n: i64) -> Self {
        Self::Int(n)
    }
}

impl From<Vec<u8>> for OwnedValue {
    fn from(bytes: Vec<u8>) -> Self {
        Self::Bytes(bytes)
    }
}

impl From<&[u8]> for OwnedValue {
    fn from(bytes: &[u8]) -> Self {
        Self::Bytes(bytes.to_vec())
    }
}

impl From<&str> for OwnedValue {
    fn from(text: &str) -> Self {
        Self::Bytes(text.as_bytes().to_vec())
    }
}

impl From<String> for OwnedValue {
    fn from(text: String) -> Self {
        Self::Bytes(text.into_bytes())
    }
}

impl From<Vec<OwnedValue>> for OwnedValue {
    fn from(items: Vec<OwnedValue>) -> Self {
        Self::List(items)
    }
}

impl From<BTreeMap<Vec<u8>, OwnedValue>> for OwnedValue {
    fn from(dict: BTreeMap<Vec<u8>, OwnedValue>) -> Self {
        Self::Dict(dict)
    }
}
