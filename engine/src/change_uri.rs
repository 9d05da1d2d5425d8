//! aria2's `changeUri`: mirrors of a queued or running download taken out and put in.
//!
//! Mirrors are named by index everywhere (connections, plan slots, validators), so a
//! removed mirror keeps its index and is only marked (`removed`, and `failed` so that
//! nothing picks it); the try order is each mirror's `rank`, rewritten here when
//! mirrors are inserted at a position.
//!
//! A torrent's URIs are its web seeds, listed per file as aria2 lists them (a
//! multi-file torrent's file at `BASE/name/path`). A web seed is one mirror of the
//! whole byte space here, so deleting a file's URI takes that web seed out for every
//! file, and a URI added to a file must be that file's place under some base, which
//! becomes a web seed for every file ([`crate::bt::web_seed::seed_for`]).

use url::Url;

use crate::commands::source_url;
use crate::download::Source;
use crate::engine::Engine;
use crate::error::{Error, ErrorCode};
use crate::gid::Gid;

/// What a `changeUri` call asks for.
pub struct UriChange {
    /// 1-based file index (a download of one file has only 1).
    pub file_index: usize,
    /// URIs to take out, each once.
    pub delete: Vec<String>,
    /// URIs to put in.
    pub add: Vec<String>,
    /// Where among the waiting URIs the new ones go (0 = first); at the end if `None`.
    pub position: Option<usize>,
}

impl Engine {
    /// As aria2: each URI of `delete` is taken out once, a used one (its connections
    /// close) before a waiting one; then each acceptable URI of `add` is inserted among
    /// the waiting ones at `position` (appended without one). Returns how many were
    /// deleted and how many added; URIs that match nothing or cannot be downloaded
    /// from are not counted, as in aria2.
    pub(crate) fn change_uri(
        &mut self,
        gid: Gid,
        change: &UriChange,
    ) -> Result<(usize, usize), Error> {
        let d = self
            .downloads
            .get(gid)
            .filter(|d| !d.is_finished())
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::Unknown,
                    format!("Cannot remove URIs from GID#{gid}"),
                )
            })?;
        let files =
            d.bt.as_ref()
                .map_or(1, |s| s.torrent.metainfo().info.files.len());
        if change.file_index == 0 || change.file_index > files {
            return Err(Error::new(ErrorCode::Unknown, "fileIndex is out of range"));
        }
        let index = change.file_index - 1;
        let mut deleted = 0;
        for uri in &change.delete {
            let Ok(url) = Url::parse(uri) else {
                continue;
            };
            if let Some(i) = self.find_source(gid, index, &url) {
                self.remove_source(gid, i);
                deleted += 1;
            }
        }
        let d = &self.downloads[gid];
        let urls: Vec<Url> = match &d.bt {
            Some(swarm) => change
                .add
                .iter()
                .filter_map(|u| crate::bt::web_seed::seed_for(swarm.torrent.metainfo(), index, u))
                .collect(),
            None => change
                .add
                .iter()
                .filter_map(|u| source_url(u).ok())
                .collect(),
        };
        let added = urls.len();
        let d = &mut self.downloads[gid];
        let (mut order, mut waiting): (Vec<usize>, Vec<usize>) = d
            .sources_in_order()
            .into_iter()
            .partition(|&i| d.sources[i].used());
        let first_new = d.sources.len();
        d.sources.extend(urls.into_iter().map(Source::new));
        let at = change.position.unwrap_or(usize::MAX).min(waiting.len());
        waiting.splice(at..at, first_new..d.sources.len());
        order.extend(waiting);
        for (rank, i) in order.into_iter().enumerate() {
            d.sources[i].rank = rank as u32;
        }
        Ok((deleted, added))
    }

    /// The mirror whose URI for file `index` is `url` (a torrent's web seed, by where
    /// it serves that file): one in use first, as aria2 looks in its spent URIs before
    /// the remaining ones.
    fn find_source(&self, gid: Gid, index: usize, url: &Url) -> Option<usize> {
        let d = &self.downloads[gid];
        let names = |i: usize| match &d.bt {
            Some(_) => d.web_seed_url(i, index).as_ref() == Some(url),
            None => d.sources[i].url == *url,
        };
        let live = |i: usize| !d.sources[i].removed && names(i);
        let order = d.sources_in_order();
        order
            .iter()
            .copied()
            .find(|&i| live(i) && d.sources[i].used())
            .or_else(|| order.into_iter().find(|&i| live(i)))
    }

    /// Takes mirror `i` out: its connections close (their unfinished runs go back to
    /// the plan) and nothing picks it again.
    fn remove_source(&mut self, gid: Gid, i: usize) {
        let keys: Vec<usize> = self.downloads[gid]
            .conns
            .iter()
            .copied()
            .filter(|&k| {
                self.conns
                    .get(k)
                    .and_then(Option::as_ref)
                    .is_some_and(|c| c.source == i)
            })
            .collect();
        for key in keys {
            self.drop_conn(key);
        }
        let s = &mut self.downloads[gid].sources[i];
        s.removed = true;
        s.failed = true;
    }
}
