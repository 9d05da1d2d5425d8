//! Metalink documents fetched over HTTP and followed (`--follow-metalink`), and
//! Metalink/HTTP (RFC 6249) headers on plain downloads: `Link` mirrors, `Digest`,
//! `Want-Digest`, `rel=describedby`.

use swarmget_engine::options::FollowMetalink;
use swarmget_engine::{DownloadSpec, DownloadState, DownloadStatus, ErrorCode, Event, Gid};
use swarmget_test_support::{Behaviour, HttpServer, ServerConfig, TestFile, sha256_hex};

mod common;

use common::{Batch, Dir, assert_err, assert_ok, opts, run};

const META4: &str = "application/metalink4+xml";

/// A Metalink 4 document of `files` (name, body).
fn document(files: &[(&str, String)]) -> Vec<u8> {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metalink xmlns=\"urn:ietf:params:xml:ns:metalink\">\n",
    );
    for (name, body) in files {
        s += &format!("<file name=\"{name}\">{body}</file>\n");
    }
    (s + "</metalink>\n").into_bytes()
}

fn stopped(e: &Event, gid: Gid) -> bool {
    matches!(e, Event::Complete(g) | Event::Error(g) | Event::Stop(g) if *g == gid)
}

/// Waits for the first download and for every download it was followed by; returns
/// its status and theirs.
fn finish_with_followers(mut batch: Batch) -> (DownloadStatus, Vec<DownloadStatus>) {
    let doc = batch.gids[0];
    batch.wait_event(0, |e| stopped(e, doc));
    let followers = batch.handle.tell_status(doc).unwrap().followed_by;
    batch.gids.extend(followers);
    let mut all = batch.finish();
    let doc = all.remove(0);
    (doc, all)
}

/// A document describing two files, served at `doc_path` with `content_type`:
/// `one.bin` by a URL relative to the document (resolved against the document's URL,
/// as aria2 does), with its size and SHA-256, on the document's server; `sub/two.bin`
/// by an absolute URL on a second server.
struct Served {
    server: HttpServer,
    files: HttpServer,
    one: Vec<u8>,
    two: Vec<u8>,
    doc: Vec<u8>,
}

fn serve(doc_path: &str, content_type: Option<&str>) -> Served {
    let one = TestFile::random(300_000, 71);
    let two = TestFile::random(70_000, 72);
    let files = HttpServer::start(ServerConfig::new().file("/files/two.bin", two.clone())).unwrap();
    let doc = document(&[
        (
            "one.bin",
            format!(
                "<size>{}</size><hash type=\"sha-256\">{}</hash><url>files/one.bin</url>",
                one.len(),
                sha256_hex(&one)
            ),
        ),
        (
            "sub/two.bin",
            format!("<url>{}</url>", files.url("/files/two.bin")),
        ),
    ]);
    let mut config = ServerConfig::new()
        .file("/files/one.bin", one.clone())
        .file(doc_path, doc.clone());
    if let Some(t) = content_type {
        config = config.behaviour_for(doc_path, Behaviour::ContentType(t.to_owned()));
    }
    let server = HttpServer::start(config).unwrap();
    Served {
        server,
        files,
        one,
        two,
        doc,
    }
}

fn follow(served: &Served, path: &str, mode: FollowMetalink, dir: &Dir) -> Batch {
    let mut o = opts(&dir.0);
    o.follow_metalink = mode;
    let mut batch = Batch::new(&o);
    batch.add(DownloadSpec::new(vec![served.server.url(path)], o));
    batch
}

fn assert_followers(
    doc: &DownloadStatus,
    followers: &[DownloadStatus],
    served: &Served,
    dir: &Dir,
) {
    assert_eq!(doc.state, DownloadState::Complete, "{doc:?}");
    assert_eq!(followers.len(), 2, "{followers:?}");
    assert_eq!(
        doc.followed_by,
        followers.iter().map(|f| f.gid).collect::<Vec<_>>()
    );
    for f in followers {
        assert_eq!(f.following, Some(doc.gid));
    }
    assert_ok(&followers[0], &served.one);
    assert_ok(&followers[1], &served.two);
    assert_eq!(followers[0].path.as_deref(), Some(&*dir.0.join("one.bin")));
    assert_eq!(
        followers[1].path.as_deref(),
        Some(&*dir.0.join("sub/two.bin"))
    );
}

#[test]
fn a_document_served_as_metalink_is_kept_and_followed() {
    // Named by its content type only: the path says nothing.
    let served = serve("/list", Some(META4));
    let dir = Dir::new("follow-true");
    let batch = follow(&served, "/list", FollowMetalink::True, &dir);
    let (doc, followers) = finish_with_followers(batch);
    assert_followers(&doc, &followers, &served, &dir);
    assert_ok(&doc, &served.doc);
    assert_eq!(doc.path.as_deref(), Some(&*dir.0.join("list")));
}

#[test]
fn a_metalink_content_type_with_parameters_and_version_3_type_is_recognised() {
    let served = serve("/list", Some("application/metalink+xml; charset=utf-8"));
    let dir = Dir::new("follow-v3type");
    let batch = follow(&served, "/list", FollowMetalink::True, &dir);
    let (doc, followers) = finish_with_followers(batch);
    assert_followers(&doc, &followers, &served, &dir);
}

#[test]
fn a_meta4_name_is_followed_whatever_the_content_type() {
    let served = serve("/doc.meta4", None);
    let dir = Dir::new("follow-name");
    let batch = follow(&served, "/doc.meta4", FollowMetalink::True, &dir);
    let (doc, followers) = finish_with_followers(batch);
    assert_followers(&doc, &followers, &served, &dir);
}

#[test]
fn mem_follows_without_writing_the_document() {
    let served = serve("/doc.meta4", Some(META4));
    let dir = Dir::new("follow-mem");
    let batch = follow(&served, "/doc.meta4", FollowMetalink::Mem, &dir);
    let (doc, followers) = finish_with_followers(batch);
    assert_followers(&doc, &followers, &served, &dir);
    assert_eq!(doc.path, None);
    assert_eq!(doc.completed, served.doc.len() as u64);
    let mut names: Vec<String> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["one.bin", "sub"], "nothing else on disk");
}

#[test]
fn false_downloads_the_document_as_a_file() {
    let served = serve("/doc.meta4", Some(META4));
    let dir = Dir::new("follow-false");
    let batch = follow(&served, "/doc.meta4", FollowMetalink::False, &dir);
    let (doc, followers) = finish_with_followers(batch);
    assert_ok(&doc, &served.doc);
    assert!(followers.is_empty() && doc.followed_by.is_empty());
    assert!(served.server.requests_for("/files/one.bin").is_empty());
    assert!(served.files.log().is_empty());
    assert!(!dir.0.join("one.bin").exists());
}

#[test]
fn a_broken_document_fails_with_exit_20_and_follows_nothing() {
    for mode in [FollowMetalink::True, FollowMetalink::Mem] {
        let server = HttpServer::start(
            ServerConfig::new()
                .file("/bad.meta4", b"<metalink><file name=".to_vec())
                .content_type(META4),
        )
        .unwrap();
        let dir = Dir::new("follow-broken");
        let mut o = opts(&dir.0);
        o.follow_metalink = mode;
        let st = run(vec![server.url("/bad.meta4")], o);
        assert_err(&st, ErrorCode::Metalink);
        assert_eq!(ErrorCode::Metalink.exit_code(), 20);
        assert!(st.followed_by.is_empty());
    }
}

#[test]
fn a_document_naming_a_file_outside_the_directory_is_refused_whole() {
    // Neither file may be fetched, not even the harmless one.
    let untouched = HttpServer::start(ServerConfig::new()).unwrap();
    let server = HttpServer::start(
        ServerConfig::new()
            .file(
                "/evil.meta4",
                document(&[
                    ("ok", format!("<url>{}</url>", untouched.url("/ok"))),
                    ("../escape", format!("<url>{}</url>", untouched.url("/x"))),
                ]),
            )
            .content_type(META4),
    )
    .unwrap();
    let dir = Dir::new("follow-escape");
    let st = run(vec![server.url("/evil.meta4")], opts(&dir.0));
    assert_err(&st, ErrorCode::Metalink);
    assert!(st.followed_by.is_empty());
    assert_eq!(untouched.connections(), 0);
}

#[test]
fn link_duplicates_become_mirrors_only_from_the_files_own_answer() {
    let data = TestFile::random(1 << 20, 73);
    let mirror = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let unused = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let origin = HttpServer::start(
        ServerConfig::new()
            .file("/f", data.clone())
            .redirect("/old", "/f", 302)
            // A redirect's links describe the redirect, not the file.
            .behaviour_for(
                "/old",
                Behaviour::Header(
                    "Link".into(),
                    format!("<{}>; rel=duplicate", unused.url("/f")),
                ),
            )
            .behaviour_for(
                "/f",
                Behaviour::Header(
                    "Link".into(),
                    format!(
                        "<{}>; rel=duplicate; pri=1, <gopher://127.0.0.1/f>; rel=duplicate",
                        mirror.url("/f")
                    ),
                ),
            ),
    )
    .unwrap();
    let dir = Dir::new("link-dup");
    let mut o = common::segmented(&dir.0, 4);
    o.max_connection_per_server = 1;
    let st = run(vec![origin.url("/old")], o);
    assert_ok(&st, &data);
    let uris: Vec<&str> = st.files[0].uris.iter().map(|u| u.uri.as_str()).collect();
    assert_eq!(uris, [origin.url("/old"), mirror.url("/f")]);
    assert!(
        !mirror.requests_for("/f").is_empty(),
        "the Link mirror was never asked"
    );
    assert!(unused.log().is_empty(), "a redirect's Link was used");
}

#[test]
fn link_mirrors_are_ordered_by_location_then_priority() {
    let data = TestFile::random(1000, 74);
    let origin = HttpServer::start(ServerConfig::new().file("/f", data.clone()).header(
        "Link",
        "<http://us.invalid/f>; rel=duplicate; pri=1; geo=us, \
             <http://de.invalid/f>; rel=duplicate; pri=5; geo=de, \
             <http://jp.invalid/f>; rel=duplicate; pri=2; geo=jp",
    ))
    .unwrap();
    let dir = Dir::new("link-geo");
    let mut o = opts(&dir.0);
    o.set("metalink-location", "de").unwrap();
    let st = run(vec![origin.url("/f")], o);
    assert_ok(&st, &data);
    let uris: Vec<&str> = st.files[0].uris.iter().map(|u| u.uri.as_str()).collect();
    assert_eq!(
        uris,
        [
            origin.url("/f").as_str(),
            "http://de.invalid/f",
            "http://us.invalid/f",
            "http://jp.invalid/f"
        ]
    );
}

fn digest_header(data: &[u8]) -> String {
    use swarmget_engine::digest::{HashKind, Hasher};
    use swarmget_metalink::Hash;
    let mut h = Hasher::new(HashKind::Sha256);
    h.update(data);
    let d = h.finish();
    let hash = Hash::new(swarmget_metalink::HashAlgorithm::Sha256, d.bytes).unwrap();
    swarmget_metalink::http::format_digest_header(&[hash])
}

#[test]
fn a_matching_digest_header_completes() {
    let data = TestFile::random(200_000, 75);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/f", data.clone())
            .header("Digest", &digest_header(&data)),
    )
    .unwrap();
    let dir = Dir::new("digest-ok");
    // Agreeing with --checksum, it is no reason to drop the server.
    let mut o = opts(&dir.0);
    o.set("checksum", &format!("sha-256={}", sha256_hex(&data)))
        .unwrap();
    assert_ok(&run(vec![server.url("/f")], o), &data);
}

#[test]
fn a_digest_header_the_file_does_not_match_fails_with_32() {
    let data = TestFile::random(200_000, 76);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/f", data)
            .header("Digest", &digest_header(b"another file")),
    )
    .unwrap();
    let dir = Dir::new("digest-bad");
    let st = run(vec![server.url("/f")], opts(&dir.0));
    assert_err(&st, ErrorCode::Checksum);
    assert_eq!(ErrorCode::Checksum.exit_code(), 32);
}

#[test]
fn a_digest_header_contradicting_checksum_drops_the_server_with_32() {
    let data = TestFile::random(200_000, 77);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/f", data.clone())
            .header("Digest", &digest_header(b"another file")),
    )
    .unwrap();
    let dir = Dir::new("digest-conflict");
    let mut o = opts(&dir.0);
    o.set("checksum", &format!("sha-256={}", sha256_hex(&data)))
        .unwrap();
    let st = run(vec![server.url("/f")], o);
    assert_err(&st, ErrorCode::Checksum);
    let e = st.error().unwrap();
    assert!(e.message.contains("Digest header"), "{e}");
    // Dropped at its head: one request, no retry.
    assert_eq!(server.log().len(), 1);
}

#[test]
fn want_digest_is_sent_on_the_first_request_unless_disabled() {
    let data = TestFile::random(300_000, 78);
    let server = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let dir = Dir::new("want-digest");
    let mut o = common::segmented(&dir.0, 3);
    o.min_split_size = 64 << 10;
    assert_ok(&run(vec![server.url("/f")], o.clone()), &data);
    let log = server.log();
    assert_eq!(
        log[0].header("want-digest"),
        Some("SHA-512;q=1, SHA-256;q=1, SHA;q=0.1")
    );
    assert!(log.len() > 1, "{log:?}");
    assert!(log[1..].iter().all(|r| r.header("want-digest").is_none()));

    // A --header of the same name replaces it.
    let server = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    std::fs::remove_file(dir.0.join("f")).unwrap();
    let mut own = o.clone();
    own.headers.push("want-digest: MD5".into());
    assert_ok(&run(vec![server.url("/f")], own), &data);
    let log = server.log();
    let sent: Vec<&str> = log[0]
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("want-digest"))
        .map(|(_, value)| value.as_str())
        .collect();
    assert_eq!(sent, ["MD5"]);

    let server = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    std::fs::remove_file(dir.0.join("f")).unwrap();
    o.no_want_digest_header = true;
    assert_ok(&run(vec![server.url("/f")], o), &data);
    assert!(
        server
            .log()
            .iter()
            .all(|r| r.header("want-digest").is_none())
    );
}

#[test]
fn a_describedby_metalink_link_is_followed_instead_of_the_file() {
    let served = serve("/doc.meta4", Some(META4));
    let dir = Dir::new("describedby");
    // The plain file's server points at the document; its own bytes are not used.
    let plain = HttpServer::start(
        ServerConfig::new()
            .file("/one.bin", served.one.clone())
            .header(
                "Link",
                &format!(
                    "<{}>; rel=describedby; type=\"application/metalink4+xml\"",
                    served.server.url("/doc.meta4")
                ),
            ),
    )
    .unwrap();
    let mut o = opts(&dir.0);
    o.follow_metalink = FollowMetalink::Mem;
    let mut batch = Batch::new(&o);
    batch.add(DownloadSpec::new(vec![plain.url("/one.bin")], o));
    let (doc, followers) = finish_with_followers(batch);
    assert_followers(&doc, &followers, &served, &dir);
    assert_eq!(plain.log().len(), 1, "only the first answer is read");
}

/// A `mem` document has no file for the end-of-download check; it is checked in
/// memory, before it is followed.
#[test]
fn a_mem_document_that_fails_its_digest_fails_with_32_and_follows_nothing() {
    let served = serve("/doc.meta4", Some(META4));
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/doc.meta4", served.doc.clone())
            .content_type(META4)
            .header("Digest", &digest_header(b"another document")),
    )
    .unwrap();
    let dir = Dir::new("mem-digest");
    let mut o = opts(&dir.0);
    o.follow_metalink = FollowMetalink::Mem;
    let st = run(vec![server.url("/doc.meta4")], o);
    assert_err(&st, ErrorCode::Checksum);
    assert!(st.followed_by.is_empty());
    assert!(served.server.log().is_empty());
}

/// `--dry-run` fetches no bytes: the document completes with nothing to follow.
#[test]
fn dry_run_does_not_follow() {
    let served = serve("/doc.meta4", Some(META4));
    let dir = Dir::new("follow-dry");
    let mut o = opts(&dir.0);
    o.dry_run = true;
    let st = run(vec![served.server.url("/doc.meta4")], o);
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    assert!(st.followed_by.is_empty());
    assert!(served.server.requests_for("/files/one.bin").is_empty());
}

/// `mem` holds at most what the parser accepts: a longer document is refused when its
/// length is announced, or once its bytes pass the limit when it is not.
#[test]
fn a_mem_document_past_the_parsers_limit_is_refused() {
    let limit = swarmget_metalink::Limits::DEFAULT.max_document_bytes;
    let big = std::sync::Arc::<[u8]>::from(vec![b' '; limit + 1]);
    for chunked in [false, true] {
        let mut config = ServerConfig::new()
            .file_shared("/big.meta4", big.clone())
            .content_type(META4);
        if chunked {
            // A whole, chunked answer: no length until its end.
            config = config.ignore_ranges().chunked();
        }
        let server = HttpServer::start(config).unwrap();
        let dir = Dir::new("mem-big");
        let mut o = opts(&dir.0);
        o.follow_metalink = FollowMetalink::Mem;
        let st = run(vec![server.url("/big.meta4")], o);
        assert_err(&st, ErrorCode::Metalink);
        let e = st.error().unwrap();
        assert!(e.message.contains("the most kept in memory"), "{e}");
        assert!(st.completed <= limit as u64, "{}", st.completed);
        assert_eq!(server.log().len(), 1, "chunked: {chunked}");
    }
}

/// FTP has no content type: a `.meta4` name is what makes it a document; relative URLs
/// resolve against the ftp:// URL it came from.
#[test]
fn a_meta4_fetched_over_ftp_is_followed() {
    use swarmget_test_support::{FtpConfig, FtpServer};
    let one = TestFile::random(100_000, 79);
    let doc = document(&[("one.bin", "<url>one.bin</url>".into())]);
    let server = FtpServer::start(
        FtpConfig::new()
            .file("/pub/list.meta4", doc)
            .file("/pub/one.bin", one.clone()),
    )
    .unwrap();
    let dir = Dir::new("follow-ftp");
    let mut o = opts(&dir.0);
    o.follow_metalink = FollowMetalink::Mem;
    let mut batch = Batch::new(&o);
    batch.add(DownloadSpec::new(vec![server.url("/pub/list.meta4")], o));
    let (doc, followers) = finish_with_followers(batch);
    assert_eq!(doc.state, DownloadState::Complete, "{doc:?}");
    assert_eq!(doc.path, None);
    assert_eq!(followers.len(), 1);
    assert_ok(&followers[0], &one);
    assert_eq!(followers[0].uri, server.url("/pub/one.bin"));
}
