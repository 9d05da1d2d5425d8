//! `.torrent` files fetched over HTTP and followed (`--follow-torrent`): by name or by
//! the `application/x-bittorrent` type, kept (`true`), in memory only (`mem`), or a
//! plain file (`false`).

use swarmget_engine::options::FollowMetalink;
use swarmget_engine::{DownloadSpec, DownloadState, DownloadStatus, Event, Gid};
use swarmget_test_support::{Behaviour, HttpServer, Seeder, ServerConfig, Tracker, make_torrent};

mod common;

use common::{Batch, Dir, assert_ok, bt_opts, torrent_data};

const PIECE: u64 = 32 << 10;

/// A torrent of one file, a seeder and tracker for it, and an HTTP server serving the
/// `.torrent` at `path` (with `content_type`, if given).
struct Served {
    server: HttpServer,
    body: Vec<u8>,
    torrent: Vec<u8>,
    _swarm: (Seeder, Tracker),
}

fn serve(path: &str, content_type: Option<&str>) -> Served {
    let body = torrent_data(150_000, 31);
    let placeholder = make_torrent("followed.bin", &[], &body, PIECE, None);
    let seeder = Seeder::start(&placeholder, body.clone());
    let tracker = Tracker::start(vec![seeder.addr()]);
    let torrent = make_torrent("followed.bin", &[], &body, PIECE, Some(&tracker.url()));
    let mut config = ServerConfig::new().file(path, torrent.clone());
    if let Some(t) = content_type {
        config = config.behaviour_for(path, Behaviour::ContentType(t.to_owned()));
    }
    Served {
        server: HttpServer::start(config).unwrap(),
        body,
        torrent,
        _swarm: (seeder, tracker),
    }
}

fn stopped(e: &Event, gid: Gid) -> bool {
    matches!(e, Event::Complete(g) | Event::Error(g) | Event::Stop(g) if *g == gid)
}

/// Downloads `path` with `--follow-torrent=mode`; returns the `.torrent` download's
/// status and those of the downloads that followed it.
fn follow(
    served: &Served,
    path: &str,
    mode: FollowMetalink,
    dir: &Dir,
) -> (DownloadStatus, Vec<DownloadStatus>) {
    let mut o = bt_opts(&dir.0);
    o.follow_torrent = mode;
    let mut batch = Batch::new(&o);
    let doc = batch.add(DownloadSpec::new(vec![served.server.url(path)], o));
    batch.wait_event(0, |e| stopped(e, doc));
    let followers = batch.handle.tell_status(doc).unwrap().followed_by;
    batch.gids.extend(followers);
    let mut all = batch.finish();
    let doc = all.remove(0);
    (doc, all)
}

fn assert_followed(doc: &DownloadStatus, followers: &[DownloadStatus], served: &Served, dir: &Dir) {
    assert_eq!(doc.state, DownloadState::Complete, "{doc:?}");
    assert_eq!(followers.len(), 1, "{followers:?}");
    assert_eq!(followers[0].state, DownloadState::Complete, "{followers:?}");
    assert_eq!(followers[0].following, Some(doc.gid));
    assert!(followers[0].bittorrent.is_some());
    assert_eq!(
        std::fs::read(dir.0.join("followed.bin")).unwrap(),
        served.body
    );
}

#[test]
fn a_dot_torrent_name_is_followed_and_kept() {
    let served = serve("/t/x.torrent", None);
    let dir = Dir::new("follow-torrent-name");
    let (doc, followers) = follow(&served, "/t/x.torrent", FollowMetalink::True, &dir);
    assert_followed(&doc, &followers, &served, &dir);
    assert_ok(&doc, &served.torrent);
}

#[test]
fn the_bittorrent_content_type_is_followed_whatever_the_name() {
    let served = serve("/get/3", Some("application/x-bittorrent"));
    let dir = Dir::new("follow-torrent-type");
    let (doc, followers) = follow(&served, "/get/3", FollowMetalink::True, &dir);
    assert_followed(&doc, &followers, &served, &dir);
}

#[test]
fn mem_follows_without_writing_the_torrent() {
    let served = serve("/x.torrent", None);
    let dir = Dir::new("follow-torrent-mem");
    let (doc, followers) = follow(&served, "/x.torrent", FollowMetalink::Mem, &dir);
    assert_followed(&doc, &followers, &served, &dir);
    assert_eq!(doc.path, None);
    assert!(!dir.0.join("x.torrent").exists());
}

#[test]
fn false_downloads_the_torrent_as_a_file() {
    let served = serve("/x.torrent", Some("application/x-bittorrent"));
    let dir = Dir::new("follow-torrent-false");
    let (doc, followers) = follow(&served, "/x.torrent", FollowMetalink::False, &dir);
    assert_ok(&doc, &served.torrent);
    assert!(followers.is_empty() && doc.followed_by.is_empty());
    assert!(!dir.0.join("followed.bin").exists());
}

#[test]
fn a_metalink_file_whose_source_is_a_torrent_metaurl_is_downloaded_through_it() {
    // The torrent at a path that does not say so, served as any file: the metaurl's
    // mediatype is what names it a torrent.
    let served = serve("/get/9", None);
    let doc = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metalink xmlns=\"urn:ietf:params:xml:ns:metalink\">\n\
         <file name=\"listed.bin\"><metaurl mediatype=\"torrent\">{}</metaurl></file>\n</metalink>\n",
        served.server.url("/get/9")
    );
    let documents =
        HttpServer::start(ServerConfig::new().file("/d.meta4", doc.into_bytes())).unwrap();
    let dir = Dir::new("follow-metaurl");
    let o = bt_opts(&dir.0);
    let mut batch = Batch::new(&o);
    let mut gid = batch.add(DownloadSpec::new(vec![documents.url("/d.meta4")], o));
    // Document, then the torrent file, then the torrent: each followed by the next.
    for _ in 0..2 {
        batch.wait_event(0, |e| stopped(e, gid));
        let next = batch.handle.tell_status(gid).unwrap().followed_by;
        assert_eq!(next.len(), 1, "{:?}", batch.seen);
        gid = next[0];
        batch.gids.push(gid);
    }
    let statuses = batch.finish();
    let torrent = statuses.last().unwrap();
    assert_eq!(torrent.state, DownloadState::Complete, "{torrent:?}");
    assert!(torrent.bittorrent.is_some());
    assert_eq!(
        std::fs::read(dir.0.join("followed.bin")).unwrap(),
        served.body
    );
    assert!(!dir.0.join("listed.bin.torrent").exists(), "kept in memory");
}
