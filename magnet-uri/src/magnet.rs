//! The parsed link: groups of parameters, one group per file.

use std::str::FromStr;

use crate::error::ParseError;
use crate::multihash::Multihash;
use crate::peer::PeerAddr;
use crate::select::SelectOnly;
use crate::topic::ExactTopic;

/// A parsed magnet link.
///
/// A link describes one or more files. The draft's group form numbers parameters
/// (`xt.1`, `dn.1`, `xt.2`, `dn.2`, …) so that one link can carry several files; each
/// distinct number is one [`Group`], in ascending numeric order. **Un-numbered parameters
/// belong to the first group** (the one with the lowest number, or the only group when
/// nothing is numbered), so `xt=A&dn.1=a` is one file and `tr=T&xt.1=A&xt.2=B` gives the
/// tracker to the first file only. The numbers themselves are not kept: formatting
/// renumbers groups from 1, and a link with a single group is written without numbers.
///
/// `Display` writes the link (see [`Magnet::parse`] for the reverse); formatting a parsed
/// link and parsing it again gives an equal `Magnet`, and formatting that gives the same
/// string.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Magnet {
    /// The files the link describes, in group-number order. Empty for `magnet:?`.
    pub groups: Vec<Group>,
}

/// The parameters of one file in a magnet link.
///
/// Parameters that name a single thing per file (`dn`, `xl`, `kt`, `so`) may appear once
/// per group; the others accumulate in link order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Group {
    /// `xt`: content hashes (exact topics).
    pub exact_topics: Vec<ExactTopic>,
    /// `dn`: display name, a file name suggestion (never trust it as a path).
    pub display_name: Option<String>,
    /// `xl`: exact length in bytes.
    pub exact_length: Option<u64>,
    /// `as`: acceptable sources, web URLs to fall back on.
    pub acceptable_sources: Vec<String>,
    /// `xs`: exact sources, direct or P2P URLs (`http:`, `dchub:`, `ed2kftp:`, …).
    pub exact_sources: Vec<String>,
    /// `kt`: keyword topic, search terms (`+` in the link reads as a space).
    pub keywords: Option<String>,
    /// `mt`: manifest topics, links or URNs of a list of further items.
    pub manifests: Vec<String>,
    /// `tr`: BitTorrent tracker URLs.
    pub trackers: Vec<String>,
    /// `ws`: web seeds (BEP 19).
    pub web_seeds: Vec<String>,
    /// `so`: select-only file list (BEP 53).
    pub select_only: Option<SelectOnly>,
    /// `x.pe`: peer addresses (BEP 9).
    pub peers: Vec<PeerAddr>,
    /// Every other parameter — experimental `x.*` ones and unknown ones — as
    /// percent-decoded `(name, value)` pairs in link order, names without group numbers.
    /// A name here must not be one of the parameters above, or it would be read back as
    /// that parameter.
    pub extra: Vec<(String, String)>,
}

impl Magnet {
    /// Parses a link starting with `magnet:?`. See [`crate::ErrorKind`] for what is
    /// rejected; unknown URN kinds and unknown parameters are kept, not rejected.
    pub fn parse(link: &str) -> Result<Magnet, ParseError> {
        crate::parse::parse(link)
    }

    /// The first (usually the only) group.
    pub fn first(&self) -> Option<&Group> {
        self.groups.first()
    }

    /// Every exact topic of every group, in order.
    pub fn exact_topics(&self) -> impl Iterator<Item = &ExactTopic> {
        self.groups.iter().flat_map(|g| g.exact_topics.iter())
    }
}

impl FromStr for Magnet {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Magnet::parse(s)
    }
}

impl Group {
    /// The first BitTorrent v1 info hash (`urn:btih:`), if any.
    pub fn btih(&self) -> Option<&[u8; 20]> {
        self.exact_topics.iter().find_map(|t| match t {
            ExactTopic::Btih(h) => Some(h),
            _ => None,
        })
    }

    /// The first BitTorrent v2 info hash (`urn:btmh:`), if any.
    pub fn btmh(&self) -> Option<&Multihash> {
        self.exact_topics.iter().find_map(|t| match t {
            ExactTopic::Btmh(m) => Some(m),
            _ => None,
        })
    }

    /// Whether the group has no parameters at all. An empty group is not written when the
    /// link is formatted.
    pub fn is_empty(&self) -> bool {
        self == &Group::default()
    }
}
