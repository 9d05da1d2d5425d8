//! Writing canonical bencode directly, without building a tree first.
//!
//! Dictionaries may be written in any key order: entries go straight into the output, their
//! positions are remembered, and if a key arrived out of order the dictionary's bytes are
//! reordered once when it closes. Keys written in order (the common case) cost nothing extra.

use crate::{Kind, OwnedValue, Value};

/// Builds canonical bencode in a byte buffer.
///
/// ```
/// use swarmget_bencode::Encoder;
///
/// let mut encoder = Encoder::new();
/// encoder.value().dict(|d| {
///     // Keys may come in any order; the output is sorted.
///     d.entry(b"name").str("example.iso");
///     d.entry(b"length").int(1024);
///     d.entry(b"path").list(|l| {
///         l.item().str("dir");
///         l.item().str("example.iso");
///     });
/// });
/// assert_eq!(
///     encoder.into_bytes(),
///     b"d6:lengthi1024e4:name11:example.iso4:pathl3:dir11:example.isoee"
/// );
/// ```
#[derive(Clone, Debug, Default)]
pub struct Encoder {
    buf: Vec<u8>,
    /// Entries of the dictionaries currently open, innermost last.
    marks: Vec<EntryMark>,
}

/// Where one dictionary entry sits in the buffer. It runs from `start` to the next entry's
/// start (or the end of the buffer, for the last).
#[derive(Clone, Copy, Debug)]
struct EntryMark {
    start: usize,
    key_start: usize,
    key_end: usize,
}

/// Bookkeeping for one open dictionary.
#[derive(Debug)]
pub(crate) struct DictState {
    /// Index of this dictionary's first entry in `Encoder::marks`.
    base: usize,
    /// Every key so far was greater than the one before it.
    sorted: bool,
}

/// What closing a dictionary does with a key written twice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Repeats {
    /// The later entry replaces the earlier, as in a map.
    KeepLast,
    /// Fail, handing back the key.
    #[cfg_attr(not(feature = "serde"), allow(dead_code))]
    Reject,
}

impl Encoder {
    /// An empty encoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty encoder whose buffer has room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: Vec::with_capacity(capacity),
            marks: Vec::new(),
        }
    }

    /// A slot for the next top-level value. An encoder normally holds one; writing several
    /// concatenates them.
    pub fn value(&mut self) -> ValueEncoder<'_> {
        ValueEncoder {
            encoder: self,
            entry: None,
        }
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The bytes written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    #[cfg_attr(not(feature = "serde"), allow(dead_code))]
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn put_int(&mut self, n: i64) {
        self.buf.push(b'i');
        put_decimal(&mut self.buf, n < 0, n.unsigned_abs());
        self.buf.push(b'e');
    }

    pub(crate) fn put_bytes(&mut self, bytes: &[u8]) {
        put_decimal(&mut self.buf, false, bytes.len() as u64);
        self.buf.push(b':');
        self.buf.extend_from_slice(bytes);
    }

    pub(crate) fn put_raw(&mut self, raw: &[u8]) {
        self.buf.extend_from_slice(raw);
    }

    pub(crate) fn open_list(&mut self) {
        self.buf.push(b'l');
    }

    pub(crate) fn close_list(&mut self) {
        self.buf.push(b'e');
    }

    pub(crate) fn open_dict(&mut self) -> DictState {
        self.buf.push(b'd');
        DictState {
            base: self.marks.len(),
            sorted: true,
        }
    }

    /// Writes `key` as the next entry's key; its value must follow.
    pub(crate) fn open_entry(&mut self, dict: &mut DictState, key: &[u8]) {
        let has_previous = self.marks.len() > dict.base;
        let previous = self
            .marks
            .last()
            .filter(|_| has_previous)
            .and_then(|last| self.buf.get(last.key_start..last.key_end));
        if previous.is_some_and(|previous| previous >= key) {
            dict.sorted = false;
        }
        let start = self.buf.len();
        self.put_bytes(key);
        let key_end = self.buf.len();
        self.marks.push(EntryMark {
            start,
            key_start: key_end - key.len(),
            key_end,
        });
    }

    /// Takes back the entry just opened (whose value turned out to be absent).
    #[cfg_attr(not(feature = "serde"), allow(dead_code))]
    pub(crate) fn discard_entry(&mut self, dict: &DictState) {
        if self.marks.len() <= dict.base {
            return;
        }
        if let Some(mark) = self.marks.pop() {
            self.buf.truncate(mark.start);
        }
    }

    /// Closes a dictionary, putting its entries in key order if they were not.
    pub(crate) fn close_dict(&mut self, dict: DictState, repeats: Repeats) -> Result<(), Vec<u8>> {
        let result = if dict.sorted {
            Ok(())
        } else {
            self.sort_entries(dict.base, repeats)
        };
        self.marks.truncate(dict.base);
        self.buf.push(b'e');
        result
    }

    fn sort_entries(&mut self, base: usize, repeats: Repeats) -> Result<(), Vec<u8>> {
        let marks = self.marks.get(base..).unwrap_or_default();
        let Some(first) = marks.first() else {
            return Ok(());
        };
        let region = first.start..self.buf.len();
        let entry_end = |i: usize| marks.get(i + 1).map_or(region.end, |next| next.start);
        let key = |i: usize| {
            marks
                .get(i)
                .and_then(|m| self.buf.get(m.key_start..m.key_end))
                .unwrap_or_default()
        };

        let mut order: Vec<usize> = (0..marks.len()).collect();
        // Stable: among repeats of a key, input order survives, so the last one is last.
        order.sort_by(|&a, &b| key(a).cmp(key(b)));

        let mut sorted = Vec::with_capacity(region.len());
        for (position, &i) in order.iter().enumerate() {
            let repeated_later = order
                .get(position + 1)
                .is_some_and(|&next| key(next) == key(i));
            if repeated_later {
                match repeats {
                    Repeats::KeepLast => continue,
                    Repeats::Reject => return Err(key(i).to_vec()),
                }
            }
            let start = marks.get(i).map_or(region.end, |m| m.start);
            sorted.extend_from_slice(self.buf.get(start..entry_end(i)).unwrap_or_default());
        }
        self.buf.truncate(region.start);
        self.buf.extend_from_slice(&sorted);
        Ok(())
    }

    /// Canonical encoding of a decoded value: dictionaries in key order, first of repeats.
    fn put_value(&mut self, value: &Value<'_>) {
        match value.kind() {
            Kind::Int(n) => self.put_int(*n),
            Kind::Bytes(bytes) => self.put_bytes(bytes),
            Kind::List(items) => {
                self.open_list();
                for item in items {
                    self.put_value(item);
                }
                self.close_list();
            }
            Kind::Dict(dict) => {
                self.buf.push(b'd');
                for (key, value) in dict.canonical() {
                    self.put_bytes(key);
                    self.put_value(value);
                }
                self.buf.push(b'e');
            }
        }
    }

    fn put_owned(&mut self, value: &OwnedValue) {
        match value {
            OwnedValue::Int(n) => self.put_int(*n),
            OwnedValue::Bytes(bytes) => self.put_bytes(bytes),
            OwnedValue::List(items) => {
                self.open_list();
                for item in items {
                    self.put_owned(item);
                }
                self.close_list();
            }
            OwnedValue::Dict(dict) => {
                // A BTreeMap iterates in key order already.
                self.buf.push(b'd');
                for (key, value) in dict {
                    self.put_bytes(key);
                    self.put_owned(value);
                }
                self.buf.push(b'e');
            }
        }
    }
}

/// Appends the decimal digits of a magnitude, with a minus sign if `negative`.
fn put_decimal(buf: &mut Vec<u8>, negative: bool, mut magnitude: u64) {
    let mut digits = [0u8; 20];
    let mut first = digits.len();
    loop {
        first -= 1;
        if let Some(slot) = digits.get_mut(first) {
            // `magnitude % 10` is a single digit.
            *slot = b'0' + (magnitude % 10) as u8;
        }
        magnitude /= 10;
        if magnitude == 0 || first == 0 {
            break;
        }
    }
    if negative {
        buf.push(b'-');
    }
    buf.extend_from_slice(digits.get(first..).unwrap_or_default());
}

/// A slot for exactly one value: a top-level value, a list item or a dictionary entry's
/// value. Each method writes the value and uses the slot up; a slot dropped unused writes
/// nothing (and, for a dictionary entry, no key either).
#[derive(Debug)]
#[must_use = "a slot writes nothing until one of its methods is called"]
pub struct ValueEncoder<'e> {
    encoder: &'e mut Encoder,
    /// For a dictionary entry: its key, written only once the value is.
    entry: Option<(&'e [u8], &'e mut DictState)>,
}

impl ValueEncoder<'_> {
    fn begin(&mut self) {
        if let Some((key, dict)) = self.entry.take() {
            self.encoder.open_entry(dict, key);
        }
    }

    /// Writes an integer.
    pub fn int(mut self, n: i64) {
        self.begin();
        self.encoder.put_int(n);
    }

    /// Writes a byte string.
    pub fn bytes(mut self, bytes: &[u8]) {
        self.begin();
        self.encoder.put_bytes(bytes);
    }

    /// Writes text as a byte string.
    pub fn str(self, text: &str) {
        self.bytes(text.as_bytes());
    }

    /// Writes a list, whose items `items` writes.
    pub fn list(mut self, items: impl FnOnce(&mut ListEncoder<'_>)) {
        self.begin();
        self.encoder.open_list();
        items(&mut ListEncoder {
            encoder: &mut *self.encoder,
        });
        self.encoder.close_list();
    }

    /// Writes a dictionary, whose entries `entries` writes, in any order. A key written
    /// twice keeps the later value, as a map would.
    pub fn dict(mut self, entries: impl FnOnce(&mut DictEncoder<'_>)) {
        self.begin();
        let state = self.encoder.open_dict();
        let mut dict = DictEncoder {
            encoder: self.encoder,
            state,
        };
        entries(&mut dict);
        let DictEncoder { encoder, state } = dict;
        // Keeping the last of repeats cannot fail.
        let _ = encoder.close_dict(state, Repeats::KeepLast);
    }

    /// Writes a decoded value in canonical form (which may differ from its
    /// [`raw`](Value::raw) bytes if it was decoded leniently).
    pub fn value(mut self, value: &Value<'_>) {
        self.begin();
        self.encoder.put_value(value);
    }

    /// Writes a decoded value's original bytes unchanged, keeping for instance a torrent's
    /// info-hash intact even if the `info` dictionary was not canonical.
    pub fn raw_value(mut self, value: &Value<'_>) {
        self.begin();
        self.encoder.put_raw(value.raw());
    }

    /// Writes an owned value.
    pub fn owned(mut self, value: &OwnedValue) {
        self.begin();
        self.encoder.put_owned(value);
    }
}

/// Writes a list's items; see [`ValueEncoder::list`].
#[derive(Debug)]
pub struct ListEncoder<'e> {
    encoder: &'e mut Encoder,
}

impl ListEncoder<'_> {
    /// A slot for the next item.
    pub fn item(&mut self) -> ValueEncoder<'_> {
        ValueEncoder {
            encoder: &mut *self.encoder,
            entry: None,
        }
    }
}

/// Writes a dictionary's entries; see [`ValueEncoder::dict`].
#[derive(Debug)]
pub struct DictEncoder<'e> {
    encoder: &'e mut Encoder,
    state: DictState,
}

impl DictEncoder<'_> {
    /// A slot for the value of the entry `key`. The key is written with the value, so a slot
    /// dropped unused leaves no trace.
    pub fn entry<'s>(&'s mut self, key: &'s [u8]) -> ValueEncoder<'s> {
        ValueEncoder {
            encoder: &mut *self.encoder,
            entry: Some((key, &mut self.state)),
        }
    }
}
