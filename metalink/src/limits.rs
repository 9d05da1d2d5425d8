//! Bounds on what one document may make the parser do.

/// How much input the parser accepts. Every bound is checked before the memory it
/// guards is spent, and breaking one is an [`Error`](crate::Error), never a panic.
///
/// The defaults fit every real document seen from mirror networks with room to spare
/// (a DVD image with 256 KiB SHA-256 piece hashes is about 1.5 MB; a 10,000-file
/// document with a hash and three mirrors per file is about 6 MB) while keeping the
/// parser's peak memory near 200 MB at worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest input accepted, in bytes; longer input is refused before parsing.
    /// Default 32 MiB.
    pub max_document_bytes: usize,
    /// Most XML nodes (elements, text runs, comments…) the XML parser may build; this
    /// bounds the tree's memory (about 70 bytes a node). Default 1,000,000.
    pub max_nodes: u32,
    /// Most `file` entries. Default 100,000.
    pub max_files: usize,
    /// Most `url` plus `metaurl` entries in one file. Default 10,000 (mirror
    /// networks list tens to hundreds).
    pub max_sources_per_file: usize,
}

impl Limits {
    /// The default limits.
    pub const DEFAULT: Limits = Limits {
        max_document_bytes: 32 * 1024 * 1024,
        max_nodes: 1_000_000,
        max_files: 100_000,
        max_sources_per_file: 10_000,
    };
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::DEFAULT
    }
}
