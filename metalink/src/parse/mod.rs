//! Reading Metalink 4 and Metalink 3 documents into the [`Metalink`] model.
//!
//! roxmltree builds the tree (with DTDs refused and a node limit), then one module per
//! version walks it. What the versions share — names, sizes, digests, URL resolution,
//! priorities — lives here so both apply the same rules.

mod v3;
mod v4;

use std::borrow::Cow;
use std::num::NonZeroU64;

use roxmltree::Node;
use url::Url;

use crate::error::{Error, ErrorKind, FileRef, Warning, WarningKind, clip};
use crate::hash::{Hash, HashAlgorithm};
use crate::limits::Limits;
use crate::model::{File, Location, Metalink, Pieces, Priority};
use crate::name::FileName;
use crate::time::Timestamp;

/// The Metalink 4 namespace (RFC 5854).
pub const NS_V4: &str = "urn:ietf:params:xml:ns:metalink";
/// The Metalink 3.0 namespace.
pub const NS_V3: &str = "http://www.metalinker.org/";

/// Which Metalink version a document was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Metalink 4 (RFC 5854), usually `.meta4`.
    V4,
    /// Metalink 3.0, usually `.metalink`.
    V3,
}

/// How to read a document.
#[derive(Clone, Debug, Default)]
pub struct ParseOptions {
    /// The URI the document came from (or aria2's `--metalink-base-uri`): relative
    /// `url`, `metaurl` and `origin` values are resolved against it. Without it they
    /// are dropped with a [`WarningKind::RelativeUrlWithoutBase`].
    pub base_uri: Option<Url>,
    /// Bounds on the input.
    pub limits: Limits,
}

/// A document that was read, with what had to be skipped on the way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// The model.
    pub metalink: Metalink,
    /// The version the document was written in.
    pub format: Format,
    /// What was skipped or repaired, in document order.
    pub warnings: Vec<Warning>,
}

/// Reads a Metalink 4 or Metalink 3 document.
///
/// Fails on malformed XML, a root that is not `metalink` in either namespace, a DTD,
/// input beyond [`ParseOptions::limits`], an unsafe file name, an invalid size or
/// digest. Unknown elements and attributes (vendor extensions) are ignored; unusable
/// sources are dropped with a warning.
pub fn parse(input: &[u8], options: &ParseOptions) -> Result<Parsed, Error> {
    let limits = &options.limits;
    if input.len() > limits.max_document_bytes {
        return Err(Error::new(ErrorKind::DocumentTooLarge {
            len: input.len(),
            limit: limits.max_document_bytes,
        }));
    }
    let text = std::str::from_utf8(input)
        .map_err(|e| Error::new(ErrorKind::NotUtf8).at(e.valid_up_to()))?;
    let xml_options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: limits.max_nodes,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, xml_options).map_err(|e| {
        Error::new(match e {
            roxmltree::Error::DtdDetected => ErrorKind::DtdNotAllowed,
            roxmltree::Error::NodesLimitReached => ErrorKind::TooManyNodes {
                limit: limits.max_nodes,
            },
            other => ErrorKind::Xml {
                line: other.pos().row,
                column: other.pos().col,
                message: other.to_string(),
            },
        })
    })?;

    let root = doc.root_element();
    let mut reader = Reader {
        base: options.base_uri.as_ref(),
        limits,
        warnings: Vec::new(),
        file: None,
    };
    let name = root.tag_name();
    let (format, metalink) = match (name.namespace(), name.name()) {
        (Some(NS_V4), "metalink") => (Format::V4, v4::read(&mut reader, root)?),
        (Some(NS_V3), "metalink") => (Format::V3, v3::read(&mut reader, root)?),
        (ns, local) => {
            let found = match ns {
                Some(ns) => format!("{{{}}}{}", clip(ns), clip(local)),
                None => clip(local),
            };
            return Err(Error::new(ErrorKind::NotMetalink { root: found }).at(root.range().start));
        }
    };
    if metalink.files.is_empty() {
        return Err(Error::new(ErrorKind::NoFiles).at(root.range().start));
    }
    Ok(Parsed {
        metalink,
        format,
        warnings: reader.warnings,
    })
}

/// State shared while one document is walked.
pub(crate) struct Reader<'o> {
    base: Option<&'o Url>,
    limits: &'o Limits,
    warnings: Vec<Warning>,
    /// The `file` entry being read, for error context.
    file: Option<FileRef>,
}

impl Reader<'_> {
    fn warn(&mut self, kind: WarningKind, node: Node<'_, '_>) {
        self.warnings
            .push(Warning::new(kind, node.range().start, self.file.as_ref()));
    }

    fn error(&self, kind: ErrorKind, node: Node<'_, '_>) -> Error {
        Error::new(kind)
            .at(node.range().start)
            .in_file(self.file.as_ref())
    }

    /// Starts file entry number `number` (from 1): checks the count limit and the name.
    fn begin_file(&mut self, number: usize, node: Node<'_, '_>) -> Result<File, Error> {
        self.file = None;
        if number > self.limits.max_files {
            return Err(self.error(
                ErrorKind::TooManyFiles {
                    limit: self.limits.max_files,
                },
                node,
            ));
        }
        let Some(raw) = node.attribute("name") else {
            self.file = Some(FileRef {
                number,
                name: String::new(),
            });
            return Err(self.error(
                ErrorKind::MissingAttribute {
                    element: "file",
                    attribute: "name",
                },
                node,
            ));
        };
        self.file = Some(FileRef {
            number,
            name: clip(raw),
        });
        let name = self.file_name(raw, node)?;
        Ok(File::new(name))
    }

    fn file_name(&self, raw: &str, node: Node<'_, '_>) -> Result<FileName, Error> {
        FileName::new(raw).map_err(|reason| {
            self.error(
                ErrorKind::UnsafeFileName {
                    name: clip(raw),
                    reason,
                },
                node,
            )
        })
    }

    /// Counts one more `url`/`metaurl` for the current file.
    fn count_source(&self, count: &mut usize, node: Node<'_, '_>) -> Result<(), Error> {
        *count += 1;
        if *count > self.limits.max_sources_per_file {
            return Err(self.error(
                ErrorKind::TooManySources {
                    limit: self.limits.max_sources_per_file,
                },
                node,
            ));
        }
        Ok(())
    }

    fn size(&self, node: Node<'_, '_>) -> Result<u64, Error> {
        let text = text(node);
        let parsed = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            text.parse::<u64>().ok()
        } else {
            None
        };
        parsed.ok_or_else(|| self.error(ErrorKind::InvalidSize { value: clip(&text) }, node))
    }

    /// The algorithm a `type` attribute names; unknown or missing ones are warned
    /// about and give `None` so the element is skipped.
    fn hash_algorithm(
        &mut self,
        node: Node<'_, '_>,
        element: &'static str,
    ) -> Option<HashAlgorithm> {
        let Some(name) = node.attribute("type") else {
            self.warn(
                WarningKind::MissingAttribute {
                    element,
                    attribute: "type",
                },
                node,
            );
            return None;
        };
        let algorithm = HashAlgorithm::from_metalink_name(name);
        if algorithm.is_none() {
            self.warn(WarningKind::UnknownHashType { name: clip(name) }, node);
        }
        algorithm
    }

    /// A whole-file `hash` element's value.
    fn hash(&mut self, node: Node<'_, '_>) -> Result<Option<Hash>, Error> {
        let Some(algorithm) = self.hash_algorithm(node, "hash") else {
            return Ok(None);
        };
        Hash::from_hex(algorithm, &text(node))
            .map(Some)
            .map_err(|reason| self.error(ErrorKind::InvalidHash { algorithm, reason }, node))
    }

    /// A `pieces` element's `length`; `None` (with a warning) when it is missing.
    fn piece_length(&mut self, node: Node<'_, '_>) -> Result<Option<NonZeroU64>, Error> {
        let Some(raw) = node.attribute("length") else {
            self.warn(
                WarningKind::MissingAttribute {
                    element: "pieces",
                    attribute: "length",
                },
                node,
            );
            return Ok(None);
        };
        let trimmed = trim_xml(raw);
        let parsed = if trimmed.bytes().all(|b| b.is_ascii_digit()) {
            trimmed.parse::<u64>().ok().and_then(NonZeroU64::new)
        } else {
            None
        };
        match parsed {
            Some(length) => Ok(Some(length)),
            None => Err(self.error(ErrorKind::InvalidPieceLength { value: clip(raw) }, node)),
        }
    }

    /// Keeps `pieces` only if its count fits `size` (when the size is known).
    fn accept_pieces(&mut self, file: &mut File, pieces: Pieces, node: Node<'_, '_>) {
        if let Some(size) = file.size {
            let expected = pieces.expected_count(size);
            if expected != pieces.len() as u64 {
                self.warn(
                    WarningKind::PieceCountMismatch {
                        expected,
                        found: pieces.len(),
                    },
                    node,
                );
                return;
            }
        }
        file.pieces.push(pieces);
    }

    /// Resolves a `url`/`metaurl`/`origin` value; `None` (with a warning) if it cannot
    /// be used.
    fn url(&mut self, node: Node<'_, '_>) -> Option<Url> {
        self.url_text(&text(node), node)
    }

    /// Resolves URL text found in an attribute of `node`.
    fn url_text(&mut self, raw: &str, node: Node<'_, '_>) -> Option<Url> {
        let raw = trim_xml(raw);
        match Url::parse(raw) {
            Ok(url) => Some(url),
            Err(url::ParseError::RelativeUrlWithoutBase) => match self.base {
                Some(base) => match base.join(raw) {
                    Ok(url) => Some(url),
                    Err(reason) => {
                        self.warn(
                            WarningKind::InvalidUrl {
                                url: clip(raw),
                                reason,
                            },
                            node,
                        );
                        None
                    }
                },
                None => {
                    self.warn(WarningKind::RelativeUrlWithoutBase { url: clip(raw) }, node);
                    None
                }
            },
            Err(reason) => {
                self.warn(
                    WarningKind::InvalidUrl {
                        url: clip(raw),
                        reason,
                    },
                    node,
                );
                None
            }
        }
    }

    /// A Metalink 4 `priority` attribute; out-of-range values are ignored with a
    /// warning.
    fn priority(&mut self, node: Node<'_, '_>) -> Option<Priority> {
        let raw = node.attribute("priority")?;
        let priority = trim_xml(raw).parse::<u32>().ok().and_then(Priority::new);
        if priority.is_none() {
            self.warn(WarningKind::InvalidPriority { value: clip(raw) }, node);
        }
        priority
    }

    fn location(&mut self, node: Node<'_, '_>) -> Option<Location> {
        let raw = node.attribute("location")?;
        let location = Location::new(trim_xml(raw));
        if location.is_none() {
            self.warn(WarningKind::InvalidLocation { value: clip(raw) }, node);
        }
        location
    }

    fn timestamp(
        &mut self,
        raw: &str,
        element: &'static str,
        node: Node<'_, '_>,
    ) -> Option<Timestamp> {
        let parsed = Timestamp::parse_any(raw);
        if parsed.is_none() {
            self.warn(
                WarningKind::InvalidTimestamp {
                    element,
                    value: clip(raw),
                },
                node,
            );
        }
        parsed
    }
}

/// The element children of `node` in namespace `ns`; elements of other namespaces
/// are extensions and are passed over.
fn children<'a, 'i>(node: Node<'a, 'i>, ns: &'static str) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().namespace() == Some(ns))
}

/// The text directly inside `node` (all its text and CDATA runs, joined), without
/// surrounding XML whitespace.
fn text<'a>(node: Node<'a, '_>) -> Cow<'a, str> {
    let mut runs = node
        .children()
        .filter(Node::is_text)
        .filter_map(|c| c.text());
    let joined = match (runs.next(), runs.next()) {
        (None, _) => return Cow::Borrowed(""),
        (Some(only), None) => Cow::Borrowed(only),
        (Some(first), Some(second)) => {
            let mut all = String::from(first);
            all.push_str(second);
            runs.for_each(|run| all.push_str(run));
            Cow::Owned(all)
        }
    };
    match joined {
        Cow::Borrowed(s) => Cow::Borrowed(trim_xml(s)),
        Cow::Owned(s) => Cow::Owned(trim_xml(&s).to_owned()),
    }
}

/// Trims XML white space (space, tab, CR, LF) only: other Unicode spaces are content.
pub(crate) fn trim_xml(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\r', '\n'])
}
