//! BEP 52: the v2 `file tree`, `piece layers`, and hybrid torrents' agreement with v1.

use swarmget_bencode::{Dict, Value};

use super::error::MetainfoError;
use super::{File, MAX_PATH_DEPTH, merkle, path};

fn malformed(path: &[String]) -> MetainfoError {
    MetainfoError::MalformedFileTree(path.join("/"))
}

/// The files of `tree` in order (dictionary key order), each starting on a piece boundary,
/// and whether the torrent is multi-file. A tree of one file at its root is a single-file
/// torrent named by that key.
pub fn files(
    tree: &Value<'_>,
    name: &str,
    piece_length: u64,
    layers: Option<&Dict<'_>>,
    require_layers: bool,
) -> Result<(Vec<File>, bool), MetainfoError> {
    let root = tree.as_dict().ok_or(MetainfoError::WrongType {
        key: "info.file tree",
        expected: "a dictionary",
    })?;
    let single = root.len() == 1 && root.entries()[0].1.get("").is_some();
    let mut prefix = if single {
        Vec::new()
    } else {
        vec![name.to_string()]
    };
    let mut out = Vec::new();
    walk(root, &mut prefix, &mut out)?;

    let mut offset = 0u64;
    for file in &mut out {
        file.offset = offset;
        let pieces = file.length.div_ceil(piece_length);
        offset = pieces
            .checked_mul(piece_length)
            .and_then(|span| offset.checked_add(span))
            .ok_or(MetainfoError::TotalTooLarge)?;
        if file.length > piece_length {
            check_layer(file, piece_length, layers, require_layers)?;
        }
    }
    Ok((out, !single))
}

/// Depth-first over the tree. Recursion is bounded by the bencode decoder's nesting limit.
fn walk(
    dir: &Dict<'_>,
    prefix: &mut Vec<String>,
    out: &mut Vec<File>,
) -> Result<(), MetainfoError> {
    if dir.is_empty() {
        return Err(malformed(prefix));
    }
    for (key, node) in dir.iter() {
        let component = std::str::from_utf8(key).map_err(|_| malformed(prefix))?;
        prefix.push(component.to_string());
        if prefix.len() > MAX_PATH_DEPTH {
            return Err(MetainfoError::OutOfRange {
                key: "info.file tree depth",
                value: prefix.len() as i64,
                min: 1,
                max: MAX_PATH_DEPTH as i64,
            });
        }
        path::check(prefix)?;
        let node = node.as_dict().ok_or_else(|| malformed(prefix))?;
        match node.get("") {
            // A file: `{"": {length, pieces root}}` and nothing beside it.
            Some(leaf) if node.len() == 1 => out.push(leaf_file(leaf, prefix)?),
            Some(_) => return Err(malformed(prefix)),
            None => walk(node, prefix, out)?,
        }
        prefix.pop();
    }
    Ok(())
}

fn leaf_file(leaf: &Value<'_>, path: &[String]) -> Result<File, MetainfoError> {
    let leaf = leaf.as_dict().ok_or_else(|| malformed(path))?;
    let length = leaf
        .get("length")
        .ok_or(MetainfoError::Missing("info.file tree length"))?
        .as_int()
        .ok_or(MetainfoError::WrongType {
            key: "info.file tree length",
            expected: "an integer",
        })?;
    if length < 0 {
        return Err(MetainfoError::OutOfRange {
            key: "info.file tree length",
            value: length,
            min: 0,
            max: i64::MAX,
        });
    }
    let pieces_root = match leaf.get("pieces root") {
        None if length > 0 => return Err(MetainfoError::Missing("info.file tree pieces root")),
        None => None,
        Some(v) => Some(hash32(v, "info.file tree pieces root")?),
    };
    let attr = leaf.get("attr").and_then(Value::as_bytes).unwrap_or(b"");
    Ok(File {
        path: path.to_vec(),
        length: length as u64,
        offset: 0,
        padding: attr.contains(&b'p'),
        executable: attr.contains(&b'x'),
        hidden: attr.contains(&b'h'),
        pieces_root,
        piece_layer: Vec::new(),
    })
}

fn hash32(v: &Value<'_>, key: &'static str) -> Result<[u8; 32], MetainfoError> {
    let bytes = v.as_bytes().ok_or(MetainfoError::WrongType {
        key,
        expected: "a string",
    })?;
    bytes.try_into().map_err(|_| MetainfoError::HashLength {
        key,
        expected: 32,
        found: bytes.len(),
    })
}

/// Finds the file's layer, checks its size, and that it hashes up to `pieces root`.
fn check_layer(
    file: &mut File,
    piece_length: u64,
    layers: Option<&Dict<'_>>,
    require: bool,
) -> Result<(), MetainfoError> {
    let root = file.pieces_root.expect("non-empty files have a root");
    let layer = layers.and_then(|l| l.get(root));
    let Some(layer) = layer else {
        return if require {
            Err(MetainfoError::MissingPieceLayer(file.path.join("/")))
        } else {
            Ok(())
        };
    };
    let bytes = layer.as_bytes().ok_or(MetainfoError::WrongType {
        key: "piece layers",
        expected: "a dictionary of strings",
    })?;
    // Compare before allocating: the expected size may be huge, the found one is input.
    let expected = file.length.div_ceil(piece_length).saturating_mul(32);
    if bytes.len() as u64 != expected {
        return Err(MetainfoError::PieceLayerLength {
            path: file.path.join("/"),
            found: bytes.len(),
            expected,
        });
    }
    let hashes: Vec<[u8; 32]> = bytes
        .chunks_exact(32)
        .map(|c| c.try_into().expect("chunks of 32"))
        .collect();
    let pad = merkle::zero_subtree_root(piece_length / merkle::BLOCK_SIZE);
    if merkle::root(&hashes, pad) != root {
        return Err(MetainfoError::PieceLayerRootMismatch(file.path.join("/")));
    }
    file.piece_layer = hashes;
    Ok(())
}

/// Hybrid torrents: the v1 files (padding left out) must be the v2 files, in order; the
/// v2 roots and layers are attached to the v1 list, which keeps the padding and offsets.
pub fn merge_hybrid(
    v1: &mut [File],
    v2: Vec<File>,
    piece_length: u64,
) -> Result<(), MetainfoError> {
    let mut v2 = v2.into_iter();
    for file in v1.iter_mut().filter(|f| !f.padding) {
        let Some(other) = v2.next() else {
            return Err(MetainfoError::HybridMismatch(file.path.join("/")));
        };
        // A single-file tree names its file by its key, and v1 by `name`: they must agree.
        // BEP 47/52: padding aligns every file to a piece, as v2 pieces never span files.
        let aligned = file.length == 0 || file.offset % piece_length == 0;
        if file.path != other.path || file.length != other.length || !aligned {
            return Err(MetainfoError::HybridMismatch(file.path.join("/")));
        }
        file.pieces_root = other.pieces_root;
        file.piece_layer = other.piece_layer;
    }
    if let Some(extra) = v2.next() {
        return Err(MetainfoError::HybridMismatch(extra.path.join("/")));
    }
    Ok(())
}
