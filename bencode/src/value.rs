//! The borrowed value tree that decoding produces.

use core::fmt;
use core::ops::Range;

use crate::{Dict, Encoder, OwnedValue};

/// One decoded bencode value, borrowing from the input it was decoded from.
///
/// Besides its content ([`kind`](Self::kind) and the `as_*` accessors), every value knows
/// the exact bytes it was decoded from ([`raw`](Self::raw)) and where they sit in the input
/// ([`span`](Self::span)). A torrent's info-hash, for instance, is the SHA-1 of the `info`
/// dictionary's raw bytes, which need not match a re-encoding when the torrent was decoded
/// leniently.
///
/// Equality compares content only, never positions: the same integer decoded at two offsets
/// is equal. Dictionaries compare entry by entry, in input order.
#[derive(Clone)]
pub struct Value<'a> {
    raw: &'a [u8],
    offset: usize,
    kind: Kind<'a>,
}

/// The content of a [`Value`]: one of bencode's four types.
#[derive(Clone, PartialEq, Eq)]
pub enum Kind<'a> {
    /// An integer (`i42e`).
    Int(i64),
    /// A byte string (`4:spam`), borrowing the input. Not necessarily UTF-8.
    Bytes(&'a [u8]),
    /// A list (`l…e`).
    List(Vec<Value<'a>>),
    /// A dictionary (`d…e`).
    Dict(Dict<'a>),
}

impl<'a> Value<'a> {
    /// Built by the parser only: `raw` is the value's bytes, found at `offset` in the input.
    pub(crate) fn new(raw: &'a [u8], offset: usize, kind: Kind<'a>) -> Self {
        Self { raw, offset, kind }
    }

    /// The content.
    pub fn kind(&self) -> &Kind<'a> {
        &self.kind
    }

    /// The content, by value.
    pub fn into_kind(self) -> Kind<'a> {
        self.kind
    }

    /// The exact bytes this value was decoded from, including its type markers: `i42e`,
    /// `4:spam`, or the whole `d…e` of a dictionary.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Where [`raw`](Self::raw) sits in the input: `&input[value.span()] == value.raw()`.
    pub fn span(&self) -> Range<usize> {
        self.offset..self.offset + self.raw.len()
    }

    /// The integer, if this is one.
    pub fn as_int(&self) -> Option<i64> {
        match self.kind {
            Kind::Int(n) => Some(n),
            _ => None,
        }
    }

    /// The byte string, if this is one.
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        match self.kind {
            Kind::Bytes(bytes) => Some(bytes),
            _ => None,
        }
    }

    /// The byte string as text, if this is a byte string holding valid UTF-8.
    pub fn as_str(&self) -> Option<&'a str> {
        self.as_bytes()
            .and_then(|bytes| core::str::from_utf8(bytes).ok())
    }

    /// The list's items, if this is a list.
    pub fn as_list(&self) -> Option<&[Value<'a>]> {
        match &self.kind {
            Kind::List(items) => Some(items),
            _ => None,
        }
    }

    /// The dictionary, if this is one.
    pub fn as_dict(&self) -> Option<&Dict<'a>> {
        match &self.kind {
            Kind::Dict(dict) => Some(dict),
            _ => None,
        }
    }

    /// Looks `key` up, if this is a dictionary: shorthand for
    /// `self.as_dict().and_then(|d| d.get(key))`.
    pub fn get(&self, key: impl AsRef<[u8]>) -> Option<&Value<'a>> {
        self.as_dict().and_then(|dict| dict.get(key))
    }

    /// The type's name, for messages: `"integer"`, `"byte string"`, `"list"` or
    /// `"dictionary"`.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Int(_) => "integer",
            Kind::Bytes(_) => "byte string",
            Kind::List(_) => "list",
            Kind::Dict(_) => "dictionary",
        }
    }

    /// An owned copy of the content. Of repeated dictionary keys only the first occurrence is
    /// kept, as [`Dict::get`] sees it.
    pub fn to_owned_value(&self) -> OwnedValue {
        OwnedValue::from(self)
    }

    /// The canonical encoding: keys sorted, repeated keys dropped (first occurrence kept),
    /// integers and lengths without leading zeros. For a value decoded strictly this equals
    /// [`raw`](Self::raw).
    pub fn encode(&self) -> Vec<u8> {
        let mut encoder = Encoder::with_capacity(self.raw.len());
        encoder.value().value(self);
        encoder.into_bytes()
    }
}

impl PartialEq for Value<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
    }
}

impl Eq for Value<'_> {}

impl fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

impl fmt::Debug for Kind<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Int(n) => n.fmt(f),
            Self::Bytes(bytes) => ByteStr(bytes).fmt(f),
            Self::List(items) => f.debug_list().entries(items).finish(),
            Self::Dict(dict) => dict.fmt(f),
        }
    }
}

/// Debug-prints bytes as a byte-string literal, `b"spam\xff"`, rather than a list of numbers.
pub(crate) struct ByteStr<'b>(pub(crate) &'b [u8]);

impl fmt::Debug for ByteStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b\"{}\"", self.0.escape_ascii())
    }
}
