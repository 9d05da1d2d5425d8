//! What went wrong while reading a document, and what was tolerated.
//!
//! The parser fails ([`Error`]) when a rule that guards integrity or safety is broken:
//! the XML itself, the root element, a file name, a size, a digest, a limit. It keeps
//! going with a [`Warning`] when one source or one attribute is unusable but the rest
//! of the document still says something trustworthy: a URL that does not parse, a
//! relative URL with no base to resolve it against, an out-of-range priority, a hash
//! type it does not know.

use std::fmt;

use crate::hash::{HashAlgorithm, HashValueError};
use crate::name::UnsafeName;

/// Which `file` entry a problem is in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRef {
    /// Position among the document's files, counting from 1 (as aria2's
    /// `--select-file` does).
    pub number: usize,
    /// The entry's `name` attribute as written, shortened if very long.
    pub name: String,
}

impl fmt::Display for FileRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "file #{} ({:?})", self.number, self.name)
    }
}

/// A document that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    offset: Option<usize>,
    file: Option<FileRef>,
}

/// The rule an [`Error`] is about.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input is longer than [`Limits::max_document_bytes`](crate::Limits); it was
    /// refused before parsing.
    DocumentTooLarge {
        /// Input length in bytes.
        len: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The input is not UTF-8 (at [`Error::offset`]). Metalink documents are UTF-8.
    NotUtf8,
    /// The document has a document type declaration. DTDs are how entity-expansion
    /// ("billion laughs") attacks start and no Metalink document needs one.
    DtdNotAllowed,
    /// The document has more XML nodes than [`Limits::max_nodes`](crate::Limits).
    TooManyNodes {
        /// The limit in force.
        limit: u32,
    },
    /// The input is not well-formed XML.
    Xml {
        /// Line of the problem, from 1.
        line: u32,
        /// Column of the problem, from 1.
        column: u32,
        /// The XML parser's description.
        message: String,
    },
    /// The root element is not a Metalink 4 or Metalink 3 `metalink` element.
    NotMetalink {
        /// The root element's name, as `{namespace}local` or `local`.
        root: String,
    },
    /// The document describes no files.
    NoFiles,
    /// More `file` entries than [`Limits::max_files`](crate::Limits).
    TooManyFiles {
        /// The limit in force.
        limit: usize,
    },
    /// One file has more `url` plus `metaurl` entries than
    /// [`Limits::max_sources_per_file`](crate::Limits).
    TooManySources {
        /// The limit in force.
        limit: usize,
    },
    /// A required attribute is missing.
    MissingAttribute {
        /// The element.
        element: &'static str,
        /// The attribute it needs.
        attribute: &'static str,
    },
    /// A file name (a `file`'s `name` or a `metaurl`'s `name`) could escape the
    /// download directory or is otherwise unusable as a path.
    UnsafeFileName {
        /// The offending name, shortened if very long.
        name: String,
        /// What is wrong with it.
        reason: UnsafeName,
    },
    /// `size` is not a non-negative decimal integer that fits in 64 bits.
    InvalidSize {
        /// The text, shortened if very long.
        value: String,
    },
    /// A whole-file or piece digest has the wrong length or is not hex.
    InvalidHash {
        /// The digest's algorithm.
        algorithm: HashAlgorithm,
        /// What is wrong with the value.
        reason: HashValueError,
    },
    /// `pieces` has a `length` that is not a positive integer.
    InvalidPieceLength {
        /// The text, shortened if very long.
        value: String,
    },
    /// Metalink 3 piece digests whose `piece` indexes are not 0, 1, 2… in some order.
    InvalidPieceIndex {
        /// The text, shortened if very long.
        value: String,
    },
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Error {
        Error {
            kind,
            offset: None,
            file: None,
        }
    }

    pub(crate) fn at(mut self, offset: usize) -> Error {
        self.offset = Some(offset);
        self
    }

    pub(crate) fn in_file(mut self, file: Option<&FileRef>) -> Error {
        if self.file.is_none() {
            self.file = file.cloned();
        }
        self
    }

    /// The rule broken.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// Byte offset in the input of the element or byte at fault, when known.
    pub fn offset(&self) -> Option<usize> {
        self.offset
    }

    /// The `file` entry at fault, when the problem is inside one.
    pub fn file(&self) -> Option<&FileRef> {
        self.file.as_ref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("metalink")?;
        if let Some(file) = &self.file {
            write!(f, ", {file}")?;
        }
        if let Some(offset) = self.offset {
            write!(f, ", byte {offset}")?;
        }
        f.write_str(": ")?;
        match &self.kind {
            ErrorKind::DocumentTooLarge { len, limit } => {
                write!(f, "document is {len} bytes, more than the limit of {limit}")
            }
            ErrorKind::NotUtf8 => f.write_str("document is not valid UTF-8"),
            ErrorKind::DtdNotAllowed => f.write_str(
                "document type declarations (DTD) are not accepted; they enable entity-expansion attacks",
            ),
            ErrorKind::TooManyNodes { limit } => {
                write!(f, "document has more than {limit} XML nodes")
            }
            ErrorKind::Xml {
                line,
                column,
                message,
            } => write!(f, "malformed XML at line {line}, column {column}: {message}"),
            ErrorKind::NotMetalink { root } => write!(
                f,
                "root element {root} is not a Metalink 4 ({}) or Metalink 3 ({}) metalink element",
                crate::parse::NS_V4,
                crate::parse::NS_V3
            ),
            ErrorKind::NoFiles => f.write_str("document describes no files"),
            ErrorKind::TooManyFiles { limit } => {
                write!(f, "document has more than {limit} file entries")
            }
            ErrorKind::TooManySources { limit } => {
                write!(f, "more than {limit} url/metaurl entries")
            }
            ErrorKind::MissingAttribute { element, attribute } => {
                write!(f, "<{element}> has no {attribute} attribute")
            }
            ErrorKind::UnsafeFileName { name, reason } => {
                write!(f, "unsafe file name {name:?}: {reason}")
            }
            ErrorKind::InvalidSize { value } => write!(f, "invalid size {value:?}"),
            ErrorKind::InvalidHash { algorithm, reason } => {
                write!(f, "invalid {algorithm} hash: {reason}")
            }
            ErrorKind::InvalidPieceLength { value } => {
                write!(f, "invalid piece length {value:?}")
            }
            ErrorKind::InvalidPieceIndex { value } => write!(
                f,
                "piece index {value:?} is invalid, repeated, or leaves a gap"
            ),
        }
    }
}

impl std::error::Error for Error {}

/// Something in a document that was skipped or repaired, with where it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    kind: WarningKind,
    offset: usize,
    file: Option<FileRef>,
}

/// What a [`Warning`] is about.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WarningKind {
    /// A relative `url`/`metaurl`/`origin` was dropped because the caller gave no base
    /// URI to resolve it against (aria2 does the same).
    RelativeUrlWithoutBase {
        /// The URL as written, shortened if very long.
        url: String,
    },
    /// A `url`/`metaurl`/`origin` that is not a URL was dropped.
    InvalidUrl {
        /// The text, shortened if very long.
        url: String,
        /// Why it does not parse.
        reason: url::ParseError,
    },
    /// A `hash` or `pieces` of an algorithm this crate does not know was skipped.
    UnknownHashType {
        /// The type as written, shortened if very long.
        name: String,
    },
    /// A `priority` (or Metalink 3 `preference`) that is not a number in range was
    /// ignored; the source counts as lowest priority.
    InvalidPriority {
        /// The text, shortened if very long.
        value: String,
    },
    /// A `location` that is not a two-letter country code was ignored.
    InvalidLocation {
        /// The text, shortened if very long.
        value: String,
    },
    /// A date that is neither RFC 3339 nor RFC 822 was ignored.
    InvalidTimestamp {
        /// The element or attribute.
        element: &'static str,
        /// The text, shortened if very long.
        value: String,
    },
    /// A `pieces` list whose count does not match the file size was dropped: using
    /// it would reject good data or accept unverified data.
    PieceCountMismatch {
        /// Pieces a file of the given size has.
        expected: u64,
        /// Digests listed.
        found: usize,
    },
    /// An element lacking an attribute it needs was skipped.
    MissingAttribute {
        /// The element.
        element: &'static str,
        /// The attribute it needs.
        attribute: &'static str,
    },
}

impl Warning {
    pub(crate) fn new(kind: WarningKind, offset: usize, file: Option<&FileRef>) -> Warning {
        Warning {
            kind,
            offset,
            file: file.cloned(),
        }
    }

    /// What was skipped or repaired.
    pub fn kind(&self) -> &WarningKind {
        &self.kind
    }

    /// Byte offset in the input of the element concerned.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The `file` entry concerned, if any.
    pub fn file(&self) -> Option<&FileRef> {
        self.file.as_ref()
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("metalink")?;
        if let Some(file) = &self.file {
            write!(f, ", {file}")?;
        }
        write!(f, ", byte {}: ", self.offset)?;
        match &self.kind {
            WarningKind::RelativeUrlWithoutBase { url } => write!(
                f,
                "relative URL {url:?} dropped: no base URI given (see --metalink-base-uri)"
            ),
            WarningKind::InvalidUrl { url, reason } => {
                write!(f, "URL {url:?} dropped: {reason}")
            }
            WarningKind::UnknownHashType { name } => {
                write!(f, "hash type {name:?} is not supported; skipped")
            }
            WarningKind::InvalidPriority { value } => {
                write!(f, "priority {value:?} ignored: not in 1..=999999")
            }
            WarningKind::InvalidLocation { value } => {
                write!(
                    f,
                    "location {value:?} ignored: not a two-letter country code"
                )
            }
            WarningKind::InvalidTimestamp { element, value } => {
                write!(
                    f,
                    "{element} date {value:?} ignored: not RFC 3339 or RFC 822"
                )
            }
            WarningKind::PieceCountMismatch { expected, found } => write!(
                f,
                "piece hashes dropped: {found} listed, but the size makes {expected} pieces"
            ),
            WarningKind::MissingAttribute { element, attribute } => {
                write!(f, "<{element}> without {attribute} attribute skipped")
            }
        }
    }
}

/// `text` cut to a length fit for an error message.
pub(crate) fn clip(text: &str) -> String {
    const MAX_CHARS: usize = 120;
    match text.char_indices().nth(MAX_CHARS) {
        None => text.to_owned(),
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_where_and_what() {
        let file = FileRef {
            number: 2,
            name: "../evil".into(),
        };
        let e = Error::new(ErrorKind::UnsafeFileName {
            name: "../evil".into(),
            reason: UnsafeName::ParentComponent,
        })
        .at(40)
        .in_file(Some(&file));
        assert_eq!(
            e.to_string(),
            "metalink, file #2 (\"../evil\"), byte 40: unsafe file name \"../evil\": `..` components are not allowed"
        );
    }

    #[test]
    fn clip_shortens_long_text_on_a_char_boundary() {
        let long = "é".repeat(500);
        let short = clip(&long);
        assert_eq!(short.chars().count(), 121);
        assert_eq!(clip("short"), "short");
    }
}
