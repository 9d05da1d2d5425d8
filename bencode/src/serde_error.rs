//! The error type of the serde layer.

use core::fmt;

use crate::value::ByteStr;

/// Why serializing to or deserializing from bencode failed.
///
/// Deserialization errors carry the byte offset of the innermost value that could not be
/// deserialized, when there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SerdeError {
    kind: SerdeErrorKind,
    offset: Option<usize>,
}

/// The cause of a [`SerdeError`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SerdeErrorKind {
    /// The input is not valid bencode.
    Decode(crate::Error),
    /// A message from a `Serialize` or `Deserialize` implementation, such as a type mismatch
    /// or a missing field.
    Custom(String),
    /// A type bencode cannot express: floats, unit, or `None` outside a struct field or map
    /// value (where it is written by leaving the entry out).
    Unsupported(&'static str),
    /// A map key that is not a string or bytes.
    KeyNotBytes,
    /// A map or struct that produced the same key twice.
    DuplicateKey(Vec<u8>),
    /// An integer outside the range of `i64`.
    IntegerOutOfRange,
}

impl SerdeError {
    pub(crate) const fn new(kind: SerdeErrorKind) -> Self {
        Self { kind, offset: None }
    }

    /// The cause.
    pub fn kind(&self) -> &SerdeErrorKind {
        &self.kind
    }

    /// The byte offset of the value concerned, if known.
    pub fn offset(&self) -> Option<usize> {
        self.offset
    }

    /// Attaches `offset` unless a more precise one (from a value further in) is already set.
    pub(crate) fn at(mut self, offset: usize) -> Self {
        self.offset.get_or_insert(offset);
        self
    }
}

impl fmt::Display for SerdeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            // A decode error already names its offset.
            SerdeErrorKind::Decode(error) => return error.fmt(f),
            SerdeErrorKind::Custom(message) => f.write_str(message)?,
            SerdeErrorKind::Unsupported(what) => write!(f, "bencode cannot express {what}")?,
            SerdeErrorKind::KeyNotBytes => f.write_str("map keys must be strings or bytes")?,
            SerdeErrorKind::DuplicateKey(key) => write!(f, "key {:?} written twice", ByteStr(key))?,
            SerdeErrorKind::IntegerOutOfRange => f.write_str("integer does not fit in i64")?,
        }
        if let Some(offset) = self.offset {
            write!(f, " at byte offset {offset}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SerdeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            SerdeErrorKind::Decode(error) => Some(error),
            _ => None,
        }
    }
}

impl From<crate::Error> for SerdeError {
    fn from(error: crate::Error) -> Self {
        let offset = error.offset();
        Self::new(SerdeErrorKind::Decode(error)).at(offset)
    }
}

impl serde::de::Error for SerdeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self::new(SerdeErrorKind::Custom(message.to_string()))
    }
}

impl serde::ser::Error for SerdeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self::new(SerdeErrorKind::Custom(message.to_string()))
    }
}
