//! Serializing Rust values to canonical bencode with serde.
//!
//! The data model maps as follows:
//!
//! | Rust | bencode |
//! |------|---------|
//! | integers (`i128`/`u128`/`u64` only within `i64`'s range) | integer |
//! | `bool` | integer `0` or `1` |
//! | `&str`, `String`, `char`, bytes (`serde_bytes`) | byte string |
//! | sequences, tuples, tuple structs | list |
//! | maps (keys must be strings or bytes), structs | dictionary, keys sorted |
//! | `None` as a struct field or map value | entry left out |
//! | `Some(x)`, newtype structs | `x` |
//! | unit variant | its name, as a byte string |
//! | newtype, tuple and struct variants | `{name: value}`, a one-entry dictionary |
//!
//! Floats, `()` and unit structs have no bencode form and fail with
//! [`SerdeErrorKind::Unsupported`], as does `None` anywhere an entry cannot simply be left
//! out. A map or struct producing one key twice fails with [`SerdeErrorKind::DuplicateKey`].

use serde::ser::{self, Impossible, Serialize};

use crate::encoder::{DictState, Repeats};
use crate::{Encoder, SerdeError, SerdeErrorKind};

/// Serializes `value` to canonical bencode.
///
/// ```
/// use std::collections::HashMap;
///
/// let mut map = HashMap::new();
/// map.insert("zebra", 1);
/// map.insert("apple", 2);
/// assert_eq!(swarmget_bencode::to_bytes(&map)?, b"d5:applei2e5:zebrai1ee");
/// # Ok::<(), swarmget_bencode::SerdeError>(())
/// ```
pub fn to_bytes<T: ?Sized + Serialize>(value: &T) -> Result<Vec<u8>, SerdeError> {
    let mut serializer = Serializer::new();
    value.serialize(&mut serializer)?;
    Ok(serializer.into_bytes())
}

/// A serde `Serializer` writing canonical bencode; use it as `&mut Serializer`.
#[derive(Debug, Default)]
pub struct Serializer {
    encoder: Encoder,
    /// The value being written is a struct field or map value, so `None` may be written by
    /// leaving the entry out. Every value that is not an `Option` or newtype clears this.
    in_entry: bool,
}

impl Serializer {
    /// A serializer with an empty output buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bytes written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.encoder.into_bytes()
    }

    /// Called by every method that writes a value of its own.
    fn begin_value(&mut self) {
        self.in_entry = false;
    }

    fn put_int(&mut self, n: impl TryInto<i64>) -> Result<(), SerdeError> {
        self.begin_value();
        let n = n
            .try_into()
            .map_err(|_| SerdeError::new(SerdeErrorKind::IntegerOutOfRange))?;
        self.encoder.put_int(n);
        Ok(())
    }

    /// Opens the one-entry dictionary `{variant: …}` that holds a non-unit enum variant.
    fn open_variant(&mut self, variant: &str) {
        self.begin_value();
        self.encoder.put_raw(b"d");
        self.encoder.put_bytes(variant.as_bytes());
    }

    fn close_variant(&mut self) {
        self.encoder.put_raw(b"e");
    }

    /// Writes `value` as a struct field or map value whose key was just written, taking the
    /// key back if the value turns out to be absent.
    fn put_entry_value<T: ?Sized + Serialize>(
        &mut self,
        dict: &DictState,
        value: &T,
    ) -> Result<(), SerdeError> {
        let before = self.encoder.len();
        self.in_entry = true;
        let result = value.serialize(&mut *self);
        self.in_entry = false;
        result?;
        if self.encoder.len() == before {
            self.encoder.discard_entry(dict);
        }
        Ok(())
    }
}

fn unsupported(what: &'static str) -> SerdeError {
    SerdeError::new(SerdeErrorKind::Unsupported(what))
}

impl<'s> ser::Serializer for &'s mut Serializer {
    type Ok = ();
    type Error = SerdeError;
    type SerializeSeq = ListSerializer<'s>;
    type SerializeTuple = ListSerializer<'s>;
    type SerializeTupleStruct = ListSerializer<'s>;
    type SerializeTupleVariant = ListSerializer<'s>;
    type SerializeMap = DictSerializer<'s>;
    type SerializeStruct = DictSerializer<'s>;
    type SerializeStructVariant = DictSerializer<'s>;

    fn serialize_bool(self, v: bool) -> Result<(), SerdeError> {
        self.put_int(i64::from(v))
    }

    fn serialize_i8(self, v: i8) -> Result<(), SerdeError> {
        self.put_int(v)
    }

    fn serialize_i16(self, v: i16) -> Result<(), SerdeError> {
        self.put_int(v)
    }

    fn serialize_i32(self, v: i32) -> Result<(), SerdeError> {
        self.put_int(v)
    }

    fn serialize_i64(self, v: i64) -> Result<(), SerdeError> {
        self.put_int(v)
    }

    fn serialize_i128(self, v: i128) -> Result<(), SerdeError> {
        self.put_int(v)
    }

    fn serialize_u8(self, v: u8) -> Result<(), SerdeError> {
        self.put_int(v)
    }

    fn serialize_u16(self, v: u16) -> Result<(), SerdeError> {
        self.put_int(v)
    }

    fn serialize_u32(self, v: u32) -> Result<(), SerdeError> {
        self.put_int(v)
    }

    fn serialize_u64(self, v: u64) -> Result<(), SerdeError> {
        self.put_int(v)
    }

    fn serialize_u128(self, v: u128) -> Result<(), SerdeError> {
        self.put_int(v)
    }

    fn serialize_f32(self, _v: f32) -> Result<(), SerdeError> {
        Err(unsupported("floating-point numbers"))
    }

    fn serialize_f64(self, _v: f64) -> Result<(), SerdeError> {
        Err(unsupported("floating-point numbers"))
    }

    fn serialize_char(self, v: char) -> Result<(), SerdeError> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<(), SerdeError> {
        self.serialize_bytes(v.as_bytes())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), SerdeError> {
        self.begin_value();
        self.encoder.put_bytes(v);
        Ok(())
    }

    fn serialize_none(self) -> Result<(), SerdeError> {
        if std::mem::take(&mut self.in_entry) {
            Ok(())
        } else {
            Err(unsupported("None outside a struct field or map value"))
        }
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), SerdeError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), SerdeError> {
        Err(unsupported("()"))
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), SerdeError> {
        Err(unsupported("unit structs"))
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), SerdeError> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), SerdeError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), SerdeError> {
        self.open_variant(variant);
        value.serialize(&mut *self)?;
        self.close_variant();
        Ok(())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<ListSerializer<'s>, SerdeError> {
        self.begin_value();
        self.encoder.open_list();
        Ok(ListSerializer {
            serializer: self,
            variant: false,
        })
    }

    fn serialize_tuple(self, len: usize) -> Result<ListSerializer<'s>, SerdeError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<ListSerializer<'s>, SerdeError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<ListSerializer<'s>, SerdeError> {
        self.open_variant(variant);
        self.encoder.open_list();
        Ok(ListSerializer {
            serializer: self,
            variant: true,
        })
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<DictSerializer<'s>, SerdeError> {
        self.begin_value();
        let state = self.encoder.open_dict();
        Ok(DictSerializer {
            serializer: self,
            state,
            variant: false,
        })
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<DictSerializer<'s>, SerdeError> {
        self.serialize_map(Some(len))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<DictSerializer<'s>, SerdeError> {
        self.open_variant(variant);
        let state = self.encoder.open_dict();
        Ok(DictSerializer {
            serializer: self,
            state,
            variant: true,
        })
    }
}

/// Writes a sequence, tuple or tuple variant as a list.
#[derive(Debug)]
pub struct ListSerializer<'s> {
    serializer: &'s mut Serializer,
    /// Inside a `{variant: …}` dictionary that must be closed too.
    variant: bool,
}

impl ListSerializer<'_> {
    fn item<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), SerdeError> {
        value.serialize(&mut *self.serializer)
    }

    fn close(self) -> Result<(), SerdeError> {
        self.serializer.encoder.close_list();
        if self.variant {
            self.serializer.close_variant();
        }
        Ok(())
    }
}

impl ser::SerializeSeq for ListSerializer<'_> {
    type Ok = ();
    type Error = SerdeError;

    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), SerdeError> {
        self.item(value)
    }

    fn end(self) -> Result<(), SerdeError> {
        self.close()
    }
}

impl ser::SerializeTuple for ListSerializer<'_> {
    type Ok = ();
    type Error = SerdeError;

    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), SerdeError> {
        self.item(value)
    }

    fn end(self) -> Result<(), SerdeError> {
        self.close()
    }
}

impl ser::SerializeTupleStruct for ListSerializer<'_> {
    type Ok = ();
    type Error = SerdeError;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), SerdeError> {
        self.item(value)
    }

    fn end(self) -> Result<(), SerdeError> {
        self.close()
    }
}

impl ser::SerializeTupleVariant for ListSerializer<'_> {
    type Ok = ();
    type Error = SerdeError;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), SerdeError> {
        self.item(value)
    }

    fn end(self) -> Result<(), SerdeError> {
        self.close()
    }
}

/// Writes a map, struct or struct variant as a dictionary with sorted keys.
#[derive(Debug)]
pub struct DictSerializer<'s> {
    serializer: &'s mut Serializer,
    state: DictState,
    /// Inside a `{variant: …}` dictionary that must be closed too.
    variant: bool,
}

impl DictSerializer<'_> {
    fn field<T: ?Sized + Serialize>(&mut self, key: &str, value: &T) -> Result<(), SerdeError> {
        self.serializer
            .encoder
            .open_entry(&mut self.state, key.as_bytes());
        self.serializer.put_entry_value(&self.state, value)
    }

    fn close(self) -> Result<(), SerdeError> {
        let Self {
            serializer,
            state,
            variant,
        } = self;
        serializer
            .encoder
            .close_dict(state, Repeats::Reject)
            .map_err(|key| SerdeError::new(SerdeErrorKind::DuplicateKey(key)))?;
        if variant {
            serializer.close_variant();
        }
        Ok(())
    }
}

impl ser::SerializeMap for DictSerializer<'_> {
    type Ok = ();
    type Error = SerdeError;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), SerdeError> {
        key.serialize(KeySerializer {
            encoder: &mut self.serializer.encoder,
            dict: &mut self.state,
        })
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), SerdeError> {
        self.serializer.put_entry_value(&self.state, value)
    }

    fn end(self) -> Result<(), SerdeError> {
        self.close()
    }
}

impl ser::SerializeStruct for DictSerializer<'_> {
    type Ok = ();
    type Error = SerdeError;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), SerdeError> {
        self.field(key, value)
    }

    fn end(self) -> Result<(), SerdeError> {
        self.close()
    }
}

impl ser::SerializeStructVariant for DictSerializer<'_> {
    type Ok = ();
    type Error = SerdeError;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), SerdeError> {
        self.field(key, value)
    }

    fn end(self) -> Result<(), SerdeError> {
        self.close()
    }
}

/// Writes a map key, which must be text or bytes (or a unit variant, by name).
struct KeySerializer<'s> {
    encoder: &'s mut Encoder,
    dict: &'s mut DictState,
}

fn key_not_bytes() -> SerdeError {
    SerdeError::new(SerdeErrorKind::KeyNotBytes)
}

impl ser::Serializer for KeySerializer<'_> {
    type Ok = ();
    type Error = SerdeError;
    type SerializeSeq = Impossible<(), SerdeError>;
    type SerializeTuple = Impossible<(), SerdeError>;
    type SerializeTupleStruct = Impossible<(), SerdeError>;
    type SerializeTupleVariant = Impossible<(), SerdeError>;
    type SerializeMap = Impossible<(), SerdeError>;
    type SerializeStruct = Impossible<(), SerdeError>;
    type SerializeStructVariant = Impossible<(), SerdeError>;

    fn serialize_bytes(self, v: &[u8]) -> Result<(), SerdeError> {
        self.encoder.open_entry(self.dict, v);
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result<(), SerdeError> {
        self.serialize_bytes(v.as_bytes())
    }

    fn serialize_char(self, v: char) -> Result<(), SerdeError> {
        self.serialize_bytes(v.encode_utf8(&mut [0; 4]).as_bytes())
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), SerdeError> {
        self.serialize_bytes(variant.as_bytes())
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), SerdeError> {
        value.serialize(self)
    }

    fn serialize_bool(self, _v: bool) -> Result<(), SerdeError> {
        Err(key_not_bytes())
    }

    fn serialize_i8(self, _v: i8) -> Result<(), SerdeError> {
        Err(key_not_bytes())
    }

    fn serialize_i16(self, _v: i16) -> Result<(), SerdeError> {
        Err(key_not_bytes())
    }

    fn serialize_i32(self, _v: i32) -> Result<(), SerdeError> {
        Err(key_not_bytes())
    }

    fn serialize_i64(self, _v: i64) -> Result<(), SerdeError> {
        Err(key_not_bytes())
    }

    fn serialize_u8(self, _v: u8) -> Result<(), SerdeError> {
        Err(key_not_bytes())
    }

    fn serialize_u16(self, _v: u16) -> Result<(), SerdeError> {
        Err(key_not_bytes())
    }

    fn serialize_u32(self, _v: u32) -> Result<(), SerdeError> {
        Err(key_not_bytes())
    }

    fn serialize_u64(self, _v: u64) -> Result<(), SerdeError> {
        Err(key_not_bytes())
    }

    fn serialize_f32(self, _v: f32) -> Result<(), SerdeError> {
        Err(key_not_bytes())
    }

    fn serialize_f64(self, _v: f64) -> Result<(), SerdeError> {
        Err(key_not_bytes())
    }

    fn serialize_none(self) -> Result<(), SerdeError> {
        Err(key_not_bytes())
    }

    fn serialize_some<T: ?Sized + Serialize>(self, _value: &T) -> Result<(), SerdeError> {
        Err(key_not_bytes())
    }

    fn serialize_unit(self) -> Result<(), SerdeError> {
        Err(key_not_bytes())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), SerdeError> {
        Err(key_not_bytes())
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), SerdeError> {
        Err(key_not_bytes())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, SerdeError> {
        Err(key_not_bytes())
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, SerdeError> {
        Err(key_not_bytes())
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, SerdeError> {
        Err(key_not_bytes())
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, SerdeError> {
        Err(key_not_bytes())
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, SerdeError> {
        Err(key_not_bytes())
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, SerdeError> {
        Err(key_not_bytes())
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, SerdeError> {
        Err(key_not_bytes())
    }
}
