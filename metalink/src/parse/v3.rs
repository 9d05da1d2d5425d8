//! Metalink 3.0: `metalink` > `files` > `file` > `verification` / `resources`.
//!
//! Mapped onto the Metalink 4 model the way aria2 maps it: `preference` (0–100,
//! higher wins) becomes priority `101 - preference`, `url type="bittorrent"` becomes
//! a `torrent` metaurl, `signature type="pgp"` becomes `application/pgp-signature`,
//! and the root's `origin`/`type`/`pubdate`/`refreshdate`/`generator` attributes fill
//! the document fields. A `url` without `type` is kept, its scheme saying what it is
//! (aria2 drops it).

use roxmltree::Node;

use super::{NS_V3, Reader, children, text, trim_xml};
use crate::error::{Error, ErrorKind, WarningKind, clip};
use crate::model::{
    File, MetaUrl, Metalink, Origin, Pieces, Priority, Publisher, Resource, Signature,
};

pub(super) fn read(reader: &mut Reader<'_>, root: Node<'_, '_>) -> Result<Metalink, Error> {
    let mut metalink = Metalink {
        generator: root.attribute("generator").map(|g| trim_xml(g).to_owned()),
        ..Metalink::default()
    };
    if let Some(origin) = root.attribute("origin") {
        let dynamic = root
            .attribute("type")
            .is_some_and(|t| trim_xml(t) == "dynamic");
        metalink.origin = reader
            .url_text(origin, root)
            .map(|url| Origin { url, dynamic });
    }
    if let Some(date) = root.attribute("pubdate") {
        metalink.published = reader.timestamp(date, "pubdate", root);
    }
    if let Some(date) = root.attribute("refreshdate") {
        metalink.updated = reader.timestamp(date, "refreshdate", root);
    }
    let mut number = 0;
    for files in children(root, NS_V3).filter(|c| c.tag_name().name() == "files") {
        for file in children(files, NS_V3).filter(|c| c.tag_name().name() == "file") {
            number += 1;
            metalink.files.push(read_file(reader, file, number)?);
            reader.file = None;
        }
    }
    Ok(metalink)
}

fn read_file(reader: &mut Reader<'_>, node: Node<'_, '_>, number: usize) -> Result<File, Error> {
    let mut file = reader.begin_file(number, node)?;
    let mut sources = 0;
    let mut pending_pieces = Vec::new();
    for child in children(node, NS_V3) {
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
                file.publisher = read_publisher(child);
            }
            "verification" => {
                read_verification(reader, child, &mut file, &mut pending_pieces)?;
            }
            "resources" => {
                for url in children(child, NS_V3).filter(|c| c.tag_name().name() == "url") {
                    reader.count_source(&mut sources, url)?;
                    read_url(reader, url, &mut file);
                }
            }
            _ => {}
        }
    }
    for (pieces, child) in pending_pieces {
        reader.accept_pieces(&mut file, pieces, child);
    }
    Ok(file)
}

/// Metalink 3 writes the publisher as child elements: `<name>` and `<url>`.
fn read_publisher(node: Node<'_, '_>) -> Option<Publisher> {
    let part = |name: &str| {
        children(node, NS_V3)
            .find(|c| c.tag_name().name() == name)
            .map(|c| text(c).into_owned())
    };
    Some(Publisher {
        name: part("name")?,
        url: part("url"),
    })
}

fn read_verification<'a, 'i>(
    reader: &mut Reader<'_>,
    node: Node<'a, 'i>,
    file: &mut File,
    pending_pieces: &mut Vec<(Pieces, Node<'a, 'i>)>,
) -> Result<(), Error> {
    for child in children(node, NS_V3) {
        match child.tag_name().name() {
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
            "signature" if file.signature.is_none() => {
                let media_type = match child.attribute("type").map(trim_xml) {
                    Some("pgp") => "application/pgp-signature".to_owned(),
                    Some(other) => other.to_owned(),
                    None => {
                        reader.warn(
                            WarningKind::MissingAttribute {
                                element: "signature",
                                attribute: "type",
                            },
                            child,
                        );
                        continue;
                    }
                };
                file.signature = Some(Signature {
                    media_type,
                    body: text(child).into_owned(),
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// Metalink 3 piece digests may carry `piece="N"` indexes; when they do, the list is
/// put in index order and must cover 0..n exactly.
fn read_pieces(reader: &mut Reader<'_>, node: Node<'_, '_>) -> Result<Option<Pieces>, Error> {
    let Some(algorithm) = reader.hash_algorithm(node, "pieces") else {
        return Ok(None);
    };
    let Some(length) = reader.piece_length(node)? else {
        return Ok(None);
    };
    let hashes: Vec<Node<'_, '_>> = children(node, NS_V3)
        .filter(|c| c.tag_name().name() == "hash")
        .collect();
    let indexed = hashes.iter().filter(|h| h.has_attribute("piece")).count();
    let mut order: Vec<(usize, Node<'_, '_>)> = Vec::with_capacity(hashes.len());
    if indexed == 0 {
        order.extend(hashes.iter().copied().enumerate());
    } else {
        for &hash in &hashes {
            let raw = hash.attribute("piece").unwrap_or("");
            let index = trim_xml(raw)
                .parse::<usize>()
                .ok()
                .filter(|&i| i < hashes.len() && trim_xml(raw).bytes().all(|b| b.is_ascii_digit()));
            match index {
                Some(index) => order.push((index, hash)),
                None => {
                    return Err(
                        reader.error(ErrorKind::InvalidPieceIndex { value: clip(raw) }, hash)
                    );
                }
            }
        }
        order.sort_by_key(|&(index, _)| index);
        // Sorted indexes below n with no repeats are exactly 0..n.
        if let Some(pair) = order.windows(2).find(|w| w[0].0 == w[1].0) {
            let (index, hash) = pair[1];
            return Err(reader.error(
                ErrorKind::InvalidPieceIndex {
                    value: index.to_string(),
                },
                hash,
            ));
        }
    }
    let mut pieces = Pieces::new(algorithm, length);
    for (_, hash) in order {
        pieces
            .push_hex(&text(hash))
            .map_err(|reason| reader.error(ErrorKind::InvalidHash { algorithm, reason }, hash))?;
    }
    Ok(Some(pieces))
}

fn read_url(reader: &mut Reader<'_>, node: Node<'_, '_>, file: &mut File) {
    let Some(url) = reader.url(node) else {
        return;
    };
    let priority = node.attribute("preference").and_then(|raw| {
        let preference = trim_xml(raw).parse::<u32>().ok();
        if preference.is_none() {
            reader.warn(WarningKind::InvalidPriority { value: clip(raw) }, node);
        }
        preference.map(Priority::from_v3_preference)
    });
    if node
        .attribute("type")
        .is_some_and(|t| trim_xml(t).eq_ignore_ascii_case("bittorrent"))
    {
        file.metaurls.push(MetaUrl {
            url,
            media_type: "torrent".to_owned(),
            name: None,
            priority,
        });
        return;
    }
    let location = reader.location(node);
    file.urls.push(Resource {
        url,
        location,
        priority,
    });
}
