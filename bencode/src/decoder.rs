//! Decoding options and entry points.

use crate::parse::Parser;
use crate::{Error, ErrorKind, Value, Warning};

/// Decodes one value from `input` with the default options: strict BEP 3 rules, a nesting
/// limit of [`Decoder::DEFAULT_MAX_DEPTH`], and nothing allowed after the value.
///
/// ```
/// let value = swarmget_bencode::decode(b"l4:spami42ee")?;
/// let items = value.as_list().expect("a list");
/// assert_eq!(items[0].as_str(), Some("spam"));
/// assert_eq!(items[1].as_int(), Some(42));
/// assert_eq!(items[1].span(), 7..11);
/// # Ok::<(), swarmget_bencode::Error>(())
/// ```
pub fn decode(input: &[u8]) -> Result<Value<'_>, Error> {
    Decoder::new().decode(input).map(|decoded| decoded.value)
}

/// Decoding options, and the entry points that use them.
///
/// Strict by default. [`lenient`](Self::lenient) accepts what real-world encoders get wrong
/// (unsorted or repeated dictionary keys, integers and lengths with leading zeros, `i-0e`)
/// and reports each instance as a [`Warning`].
///
/// ```
/// use swarmget_bencode::{Decoder, ErrorKind, WarningKind};
///
/// let unsorted = b"d1:bi1e1:ai2ee";
/// let strict = Decoder::new().decode(unsorted).unwrap_err();
/// assert_eq!((strict.kind(), strict.offset()), (&ErrorKind::UnsortedKey, 7));
///
/// let lenient = Decoder::new().lenient(true).decode(unsorted)?;
/// assert_eq!(lenient.warnings[0].kind(), WarningKind::UnsortedKey);
/// assert_eq!(lenient.value.get("a").and_then(|v| v.as_int()), Some(2));
/// # Ok::<(), swarmget_bencode::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoder {
    lenient: bool,
    max_depth: usize,
}

impl Decoder {
    /// The default nesting limit: lists and dictionaries may nest this deep. Real documents
    /// nest a handful of levels; the limit also bounds the recursion of operations on the
    /// decoded tree (dropping, comparing, encoding), so raise it with care.
    pub const DEFAULT_MAX_DEPTH: usize = 256;

    /// A strict decoder with the default depth limit.
    pub const fn new() -> Self {
        Self {
            lenient: false,
            max_depth: Self::DEFAULT_MAX_DEPTH,
        }
    }

    /// Accept (and report) non-canonical input instead of rejecting it. See [`Warning`].
    pub const fn lenient(mut self, lenient: bool) -> Self {
        self.lenient = lenient;
        self
    }

    /// How deeply lists and dictionaries may nest: `0` allows none, `1` allows a container
    /// of scalars, and so on. Deeper input fails with [`ErrorKind::DepthLimitExceeded`].
    pub const fn max_depth(mut self, max_depth: usize) -> Self {
        self.max_depth = max_depth;
        self
    }

    /// Decodes `input`, which must hold exactly one value.
    pub fn decode<'a>(&self, input: &'a [u8]) -> Result<Decoded<'a>, Error> {
        let (decoded, rest) = self.decode_prefix(input)?;
        if rest.is_empty() {
            Ok(decoded)
        } else {
            Err(Error::new(
                ErrorKind::TrailingData,
                decoded.value.span().end,
            ))
        }
    }

    /// Decodes the value at the start of `input` and returns it with the bytes that follow
    /// it, as in the BitTorrent metadata extension (BEP 9), where a piece of data follows a
    /// bencoded header.
    ///
    /// ```
    /// use swarmget_bencode::Decoder;
    ///
    /// let message = b"d8:msg_typei1e5:piecei0eeRAW PIECE DATA";
    /// let (header, data) = Decoder::new().decode_prefix(message)?;
    /// assert_eq!(header.value.get("msg_type").and_then(|v| v.as_int()), Some(1));
    /// assert_eq!(data, b"RAW PIECE DATA");
    /// # Ok::<(), swarmget_bencode::Error>(())
    /// ```
    pub fn decode_prefix<'a>(&self, input: &'a [u8]) -> Result<(Decoded<'a>, &'a [u8]), Error> {
        let mut warnings = Vec::new();
        let value = Parser::new(input, self.lenient, self.max_depth, &mut warnings).parse()?;
        // Repeats in unsorted dictionaries are found when the dictionary closes; put every
        // warning back in input order.
        warnings.sort_by_key(Warning::offset);
        let rest = input.get(value.span().end..).unwrap_or_default();
        Ok((Decoded { value, warnings }, rest))
    }
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

/// The result of [`Decoder::decode`]: the value, and what lenient mode let through.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decoded<'a> {
    /// The decoded value.
    pub value: Value<'a>,
    /// Every non-canonical construct accepted, in input order. Always empty in strict mode;
    /// empty in lenient mode exactly when strict mode would have accepted the input.
    pub warnings: Vec<Warning>,
}

impl<'a> Decoded<'a> {
    /// Whether the input was canonical bencode (no warnings).
    pub fn is_canonical(&self) -> bool {
        self.warnings.is_empty()
    }

    /// The value, dropping the warnings.
    pub fn into_value(self) -> Value<'a> {
        self.value
    }
}
