//! Magnet manifests (`mt=`): the list a link points to is fetched over HTTP by a
//! download following the link's, kept in memory, and each item in it (a magnet link
//! or a URI per line) is queued as a download following the manifest's.

use swarmget_engine::magnet_download;
use swarmget_engine::{DownloadState, DownloadStatus, ErrorCode, Event, Gid, Options};
use swarmget_test_support::{HttpServer, ServerConfig, TestFile};

mod common;

use common::{Batch, Dir, assert_ok, opts};

fn enc(uri: &str) -> String {
    uri.replace(':', "%3A").replace('/', "%2F")
}

/// The downloads magnet `link` describes, added to a new batch.
fn add_link(link: &str, o: &Options) -> Batch {
    let mut batch = Batch::new(o);
    for spec in magnet_download::specs(link, o, &mut |_| {}).unwrap() {
        batch.add(spec);
    }
    batch
}

fn stopped(batch: &mut Batch, gid: Gid) -> DownloadStatus {
    batch.wait_event(
        0,
        |e| matches!(e, Event::Complete(g) | Event::Error(g) | Event::Stop(g) if *g == gid),
    );
    batch.handle.tell_status(gid).unwrap()
}

#[test]
fn a_manifest_queues_each_item_and_reports_bad_lines() {
    let dir = Dir::new("manifest-items");
    let (a, b, c) = (
        TestFile::random(90_000, 31),
        TestFile::random(50_000, 32),
        TestFile::random(20_000, 33),
    );
    let files = HttpServer::start(
        ServerConfig::new()
            .file("/a.bin", a.clone())
            .file("/b.bin", b.clone())
            .file("/c.bin", c.clone()),
    )
    .unwrap();
    let list = format!(
        "# two items and a bad line\n{}\nnot a uri\nmagnet:?dn=b-named.bin&as={}\n",
        files.url("/a.bin"),
        enc(&files.url("/b.bin")),
    );
    let lists =
        HttpServer::start(ServerConfig::new().file("/list.txt", list.into_bytes())).unwrap();
    let link = format!(
        "magnet:?dn=c.bin&as={}&mt={}",
        enc(&files.url("/c.bin")),
        enc(&lists.url("/list.txt"))
    );
    let o = opts(&dir.0);
    let mut batch = add_link(&link, &o);
    let main = batch.gids[0];
    let st = stopped(&mut batch, main);
    assert_ok(&st, &c);
    let [manifest] = st.followed_by[..] else {
        panic!("followed by {:?}", st.followed_by)
    };
    let st = stopped(&mut batch, manifest);
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    assert_eq!(st.following, Some(main));
    let [first, second] = st.followed_by[..] else {
        panic!("the manifest is followed by {:?}", st.followed_by)
    };
    let st = stopped(&mut batch, first);
    assert_ok(&st, &a);
    assert_eq!(st.following, Some(manifest));
    let st = stopped(&mut batch, second);
    assert_ok(&st, &b);
    assert!(st.path.unwrap().ends_with("b-named.bin"));
    batch.wait_event(0, |e| {
        matches!(e, Event::Notice(g, m) if *g == manifest
            && m.starts_with("magnet manifest line 3: not a magnet link"))
    });
    // The manifest was kept in memory, never written.
    assert!(!dir.0.join("list.txt").exists());
}

#[test]
fn an_oversized_manifest_fails_its_download_alone() {
    let dir = Dir::new("manifest-huge");
    let huge = "http://example.test/x\n".repeat((2 << 20) / 22);
    let lists = HttpServer::start(ServerConfig::new().file("/big.txt", huge.into_bytes())).unwrap();
    let link = format!("magnet:?mt={}", enc(&lists.url("/big.txt")));
    let o = opts(&dir.0);
    let mut batch = add_link(&link, &o);
    let gid = batch.gids[0];
    let st = stopped(&mut batch, gid);
    let DownloadState::Error(e) = &st.state else {
        panic!("{st:?}")
    };
    assert_eq!(e.code, ErrorCode::BadMagnet);
    assert!(e.message.contains("larger than"), "{e:?}");
    assert!(st.followed_by.is_empty());
}
