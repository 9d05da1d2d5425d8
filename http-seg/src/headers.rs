//! An ordered list of header fields with case-insensitive lookup.

use crate::syntax::latin1;

/// One header field as received.
///
/// The value keeps the octets from the wire (without surrounding whitespace;
/// obs-fold continuation lines joined with one space) and a text view of them:
/// the same bytes when they are UTF-8, otherwise their ISO-8859-1 reading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    name: String,
    value: String,
    /// The raw octets, kept only when they differ from `value`'s bytes.
    raw: Option<Box<[u8]>>,
}

impl Header {
    /// A field from a name and raw value octets.
    pub fn new(name: impl Into<String>, value: impl Into<Vec<u8>>) -> Header {
        // Reuse the buffer when the value is UTF-8, as it nearly always is.
        let (value, raw) = match String::from_utf8(value.into()) {
            Ok(text) => (text, None),
            Err(e) => {
                let raw = e.into_bytes();
                (latin1(&raw), Some(raw.into_boxed_slice()))
            }
        };
        Header {
            name: name.into(),
            value,
            raw,
        }
    }

    /// The field name, in the case the peer sent it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The field value as text (UTF-8, or ISO-8859-1 when the octets are not UTF-8).
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The field value's octets exactly as received.
    pub fn value_bytes(&self) -> &[u8] {
        self.raw.as_deref().unwrap_or(self.value.as_bytes())
    }
}

/// Header fields in the order received. Names compare ASCII case-insensitively.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers {
    entries: Vec<Header>,
}

impl Headers {
    /// An empty list.
    pub fn new() -> Headers {
        Headers::default()
    }

    /// Appends a field. No validation: the parser validates what it reads,
    /// and this is also how tests and callers build heads by hand.
    pub fn append(&mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) {
        self.entries.push(Header::new(name, value));
    }

    /// The first value of `name`, as text.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.find(name).map(Header::value)
    }

    /// The first value of `name`, as received octets.
    pub fn get_bytes(&self, name: &str) -> Option<&[u8]> {
        self.find(name).map(Header::value_bytes)
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.entries
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(Header::value)
    }

    /// Whether any field is named `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    /// All fields in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Header> {
        self.entries.iter()
    }

    /// How many fields there are (repeated names count each time).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn find(&self, name: &str) -> Option<&Header> {
        self.entries
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = &'a Header;
    type IntoIter = std::slice::Iter<'a, Header>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_ignores_case_and_keeps_order() {
        let mut h = Headers::new();
        h.append("Set-Cookie", "a=1");
        h.append("content-type", "text/plain");
        h.append("SET-COOKIE", "b=2");
        assert_eq!(h.get("Content-Type"), Some("text/plain"));
        assert_eq!(h.get("set-cookie"), Some("a=1"));
        assert_eq!(h.get_all("Set-Cookie").collect::<Vec<_>>(), ["a=1", "b=2"]);
        assert_eq!(h.get("missing"), None);
        assert_eq!(h.len(), 3);
        assert!(h.contains("SET-cookie"));
    }

    #[test]
    fn non_utf8_values_keep_their_octets() {
        let mut h = Headers::new();
        h.append("X", &b"caf\xe9"[..]);
        assert_eq!(h.get("x"), Some("café"));
        assert_eq!(h.get_bytes("x"), Some(&b"caf\xe9"[..]));
        h.append("Y", "café");
        assert_eq!(h.get_bytes("y"), Some("café".as_bytes()));
    }
}
