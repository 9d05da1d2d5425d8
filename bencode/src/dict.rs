//! Decoded dictionaries: entries in input order, with lookups by key.

use core::fmt;

use crate::Value;
use crate::value::ByteStr;

/// A decoded dictionary. Entries stay in input order.
///
/// Strictly decoded dictionaries have unique keys in ascending byte order. Leniently decoded
/// ones may not; for them every lookup ([`get`](Self::get)), the canonical view
/// ([`canonical`](Self::canonical)), encoding and serde all agree to see the *first*
/// occurrence of a repeated key.
#[derive(Clone, PartialEq, Eq)]
pub struct Dict<'a> {
    entries: Vec<(&'a [u8], Value<'a>)>,
    /// Keys never decrease, so lookups can binary-search. Repeats are still possible.
    sorted: bool,
}

impl<'a> Dict<'a> {
    /// Built by the parser, which knows whether the keys came in non-decreasing order.
    pub(crate) fn new(entries: Vec<(&'a [u8], Value<'a>)>, sorted: bool) -> Self {
        Self { entries, sorted }
    }

    /// The number of entries, repeated keys included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the dictionary has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of the first entry whose key is `key`.
    ///
    /// ```
    /// let value = swarmget_bencode::decode(b"d4:infod6:lengthi5eee")?;
    /// let info = value.as_dict().and_then(|d| d.get(b"info")).expect("info");
    /// assert_eq!(info.get("length").and_then(|v| v.as_int()), Some(5));
    /// # Ok::<(), swarmget_bencode::Error>(())
    /// ```
    pub fn get(&self, key: impl AsRef<[u8]>) -> Option<&Value<'a>> {
        let key = key.as_ref();
        if self.sorted {
            let first = self.entries.partition_point(|(k, _)| *k < key);
            match self.entries.get(first) {
                Some((k, value)) if *k == key => Some(value),
                _ => None,
            }
        } else {
            self.entries
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, value)| value)
        }
    }

    /// Every value stored under `key`, in input order. Only leniently decoded dictionaries
    /// can hold more than one.
    pub fn get_all<'d>(&'d self, key: &'d [u8]) -> impl Iterator<Item = &'d Value<'a>> + 'd {
        self.entries
            .iter()
            .filter(move |(k, _)| *k == key)
            .map(|(_, value)| value)
    }

    /// Whether some entry has the key `key`.
    pub fn contains_key(&self, key: impl AsRef<[u8]>) -> bool {
        self.get(key).is_some()
    }

    /// The entries in input order, repeated keys included.
    pub fn entries(&self) -> &[(&'a [u8], Value<'a>)] {
        &self.entries
    }

    /// The entries in input order, as `(key, value)` pairs.
    pub fn iter(&self) -> Iter<'_, 'a> {
        Iter {
            inner: self.entries.iter(),
        }
    }

    /// The keys in input order.
    pub fn keys(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.entries.iter().map(|(key, _)| *key)
    }

    /// Whether the keys are unique and in ascending byte order, as canonical bencode (and
    /// strict decoding) requires.
    pub fn is_canonical(&self) -> bool {
        self.entries.windows(2).all(|pair| match pair {
            [(a, _), (b, _)] => a < b,
            _ => true,
        })
    }

    /// The entries as canonical bencode orders them: by key, each key once (its first
    /// occurrence). For a strictly decoded dictionary this is every entry in input order, and
    /// costs no allocation.
    pub fn canonical(&self) -> Canonical<'_, 'a> {
        let order = if self.sorted {
            None
        } else {
            let mut order: Vec<usize> = (0..self.entries.len()).collect();
            // Stable, so among equal keys the first occurrence stays first.
            order.sort_by_key(|&index| self.entries.get(index).map(|(key, _)| *key));
            Some(order.into_iter())
        };
        Canonical {
            entries: &self.entries,
            order,
            next: 0,
            previous: None,
        }
    }
}

impl fmt::Debug for Dict<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(k, v)| (ByteStr(k), v)))
            .finish()
    }
}

/// Iterator over a [`Dict`]'s `(key, value)` pairs in input order; see [`Dict::iter`].
#[derive(Clone, Debug)]
pub struct Iter<'d, 'a> {
    inner: core::slice::Iter<'d, (&'a [u8], Value<'a>)>,
}

impl<'d, 'a> Iterator for Iter<'d, 'a> {
    type Item = (&'a [u8], &'d Value<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|(key, value)| (*key, value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_, '_> {}

impl DoubleEndedIterator for Iter<'_, '_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back().map(|(key, value)| (*key, value))
    }
}

impl<'d, 'a> IntoIterator for &'d Dict<'a> {
    type Item = (&'a [u8], &'d Value<'a>);
    type IntoIter = Iter<'d, 'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over a [`Dict`]'s entries in canonical order; see [`Dict::canonical`].
#[derive(Clone, Debug)]
pub struct Canonical<'d, 'a> {
    entries: &'d [(&'a [u8], Value<'a>)],
    /// For unsorted dictionaries, the entry indices in key order; otherwise input order.
    order: Option<std::vec::IntoIter<usize>>,
    /// The next index in input order, when `order` is `None`.
    next: usize,
    /// The key handed out last, to skip its repeats.
    previous: Option<&'a [u8]>,
}

impl<'d, 'a> Iterator for Canonical<'d, 'a> {
    type Item = (&'a [u8], &'d Value<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let index = match &mut self.order {
                Some(order) => order.next()?,
                None => {
                    self.next += 1;
                    self.next - 1
                }
            };
            let (key, value) = self.entries.get(index)?;
            if self.previous != Some(*key) {
                self.previous = Some(*key);
                return Some((*key, value));
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = match &self.order {
            Some(order) => order.len(),
            None => self.entries.len().saturating_sub(self.next),
        };
        (usize::from(left > 0), Some(left))
    }
}
