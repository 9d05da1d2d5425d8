//! Metalink 4 (RFC 5854): `metalink` > `file` > `url`, `metaurl`, `hash`, `pieces`…

use roxmltree::Node;

use super::{NS_V4, Reader, children, text, trim_xml};
use crate::error::{Error, ErrorKind, WarningKind};
use crate::model::{File, MetaUrl, Metalink, Origin, Pieces, Publisher, Resource, Signature};

pub(super) fn read(reader: &mut Reader<'_>, root: Node<'_, '_>) -> Result<Metalink, Error> {
    let mut metalink = Metalink::default();
    let mut number = 0;
    for child in children(root, NS_V4) {
        match child.tag_name().name() {
            "file" => {
                number += 1;
                metalink.files.push(read_file(reader, child, number)?);
                reader.file = None;
            }
            "generator" if metalink.generator.is_none() => {
                metalink.generator = Some(text(child).into_owned());
            }
            "origin" if metalink.origin.is_none() => {
                let dynamic = child
                    .attribute("dynamic")
                    .is_some_and(|d| trim_xml(d) == "true");
                metalink.origin = reader.url(child).map(|url| Origin { url, dynamic });
            }
            "published" if metalink.published.is_none() => {
                metalink.published = reader.timestamp(&text(child), "published", child);
            }
            "updated" if metalink.updated.is_none() => {
                metalink.updated = reader.timestamp(&text(child), "updated", child);
            }
            _ => {}
        }
    }
    Ok(metalink)
}

fn read_file(reader: &mut Reader<'_>, node: Node<'_, '_>, number: usize) -> Result<File, Error> {
    let mut file = reader.begin_file(number, node)?;
    let mut sources = 0;
    // `pieces` are checked against the size, which may come after them.
    let mut pending_pieces = Vec::new();
    for child in children(node, NS_V4) {
        match child.tag_name().name() {
            "size" if file.size.is_none() => file.size = Some(reader.size(child)?),
            "identity" if file.identity.is_none() => {
                file.identity = Some(text(child).into_owned());
            }
            "version" if file.version.is_none() => {
                file.version = Some(text(child).into_owned());
            }
            "description" if file.description.is_none() => {
                file.description = Some(text(child).into_owned());
            }
            "copyright" if file.copyright.is_none() => {
                file.copyright = Some(text(child).into_owned());
            }
            "language" => file.languages.push(text(child).into_owned()),
            "os" => file.oses.push(text(child).into_owned()),
            "publisher" if file.publisher.is_none() => {
                file.publisher = read_publisher(reader, child);
            }
            "hash" => {
                if let Some(hash) = reader.hash(child)? {
                    file.hashes.push(hash);
                }
            }
            "pieces" => {
                if let Some(pieces) = read_pieces(reader, child)? {
                    pending_pieces.push((pieces, child));
                }
            }
            "url" => {
                reader.count_source(&mut sources, child)?;
                if let Some(url) = reader.url(child) {
                    let location = reader.location(child);
                    let priority = reader.priority(child);
                    file.urls.push(Resource {
                        url,
                        location,
                        priority,
                    });
                }
            }
            "metaurl" => {
                reader.count_source(&mut sources, child)?;
                if let Some(metaurl) = read_metaurl(reader, child)? {
                    file.metaurls.push(metaurl);
                }
            }
            "signature" if file.signature.is_none() => match child.attribute("mediatype") {
                Some(media_type) => {
                    file.signature = Some(Signature {
                        media_type: trim_xml(media_type).to_owned(),
                        body: text(child).into_owned(),
                    });
                }
                None => reader.warn(
                    WarningKind::MissingAttribute {
                        element: "signature",
                        attribute: "mediatype",
                    },
                    child,
                ),
            },
            _ => {}
        }
    }
    for (pieces, child) in pending_pieces {
        reader.accept_pieces(&mut file, pieces, child);
    }
    Ok(file)
}

fn read_publisher(reader: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Publisher> {
    let Some(name) = node.attribute("name") else {
        reader.warn(
            WarningKind::MissingAttribute {
                element: "publisher",
                attribute: "name",
            },
            node,
        );
        return None;
    };
    Some(Publisher {
        name: trim_xml(name).to_owned(),
        url: node.attribute("url").map(|u| trim_xml(u).to_owned()),
    })
}

fn read_pieces(reader: &mut Reader<'_>, node: Node<'_, '_>) -> Result<Option<Pieces>, Error> {
    let Some(algorithm) = reader.hash_algorithm(node, "pieces") else {
        return Ok(None);
    };
    let Some(length) = reader.piece_length(node)? else {
        return Ok(None);
    };
    let mut pieces = Pieces::new(algorithm, length);
    for hash in children(node, NS_V4).filter(|c| c.tag_name().name() == "hash") {
        pieces
            .push_hex(&text(hash))
            .map_err(|reason| reader.error(ErrorKind::InvalidHash { algorithm, reason }, hash))?;
    }
    Ok(Some(pieces))
}

fn read_metaurl(reader: &mut Reader<'_>, node: Node<'_, '_>) -> Result<Option<MetaUrl>, Error> {
    let Some(media_type) = node.attribute("mediatype") else {
        reader.warn(
            WarningKind::MissingAttribute {
                element: "metaurl",
                attribute: "mediatype",
            },
            node,
        );
        return Ok(None);
    };
    let name = match node.attribute("name") {
        Some(raw) => Some(reader.file_name(raw, node)?),
        None => None,
    };
    let Some(url) = reader.url(node) else {
        return Ok(None);
    };
    let priority = reader.priority(node);
    Ok(Some(MetaUrl {
        url,
        media_type: trim_xml(media_type).to_owned(),
        name,
        priority,
    }))
}
