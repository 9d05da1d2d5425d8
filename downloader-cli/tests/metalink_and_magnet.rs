//! Metalink documents (`-M`, `.meta4` arguments) and magnet links with web sources
//! from the command line: `--show-files`, the documents refused before anything is
//! written, and downloads of every file a document selects.

mod common;

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use common::{Run, TempDir, assert_download, run, swarmget};
use swarmget_test_support::{HttpServer, ServerConfig, TestFile, sha256_hex};

const LIMIT: Duration = Duration::from_secs(20);

/// Runs swarmget with `-d DIR/out` (created), so the document's own directory is
/// separate from where downloads may go.
fn get(dir: &TempDir, args: &[&str]) -> Run {
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    run(swarmget(dir.path()).arg("-d").arg(&out).args(args), LIMIT)
}

/// The names under `DIR/out`, recursively, sorted.
fn written(dir: &TempDir) -> Vec<String> {
    fn walk(base: &std::path::Path, at: &std::path::Path, names: &mut Vec<String>) {
        for entry in std::fs::read_dir(at).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, names);
            } else {
                let rel = path.strip_prefix(base).unwrap();
                names.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    let mut names = Vec::new();
    walk(&dir.join("out"), &dir.join("out"), &mut names);
    names.sort();
    names
}

fn document(files: &[(&str, &str)]) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metalink xmlns=\"urn:ietf:params:xml:ns:metalink\">\n",
    );
    for (name, body) in files {
        s += &format!("  <file name=\"{name}\">{body}</file>\n");
    }
    s + "</metalink>\n"
}

fn write(dir: &TempDir, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

const THREE_FILES: &[(&str, &str)] = &[
    ("a.bin", "<size>200000</size><url>http://h/a</url>"),
    ("sub/b.bin", "<size>13631488</size><url>http://h/b</url>"),
    ("c.bin", "<url>http://h/c</url>"),
];

const TABLE: &str = "\
Files:
idx|path/length
===+===========================================================================
  1|a.bin
   |195KiB (200,000)
---+---------------------------------------------------------------------------
  2|sub/b.bin
   |13MiB (13,631,488)
---+---------------------------------------------------------------------------
  3|c.bin
   |unknown
---+---------------------------------------------------------------------------

";

#[test]
fn show_files_prints_aria2s_table_and_downloads_nothing() {
    let dir = TempDir::new("ml-show");
    let doc = write(&dir, "three.meta4", &document(THREE_FILES));
    let r = get(&dir, &["-S", "-M", &doc]);
    r.expect_code(0);
    assert_eq!(r.stdout, TABLE);
    assert!(written(&dir).is_empty());
    // The preferences filter what is listed and renumber it, as --select-file counts.
    let doc = write(
        &dir,
        "languages.meta4",
        &document(&[
            ("de.bin", "<language>de</language><url>http://h/d</url>"),
            (
                "en.bin",
                "<language>en</language><size>5</size><url>http://h/e</url>",
            ),
        ]),
    );
    let r = get(
        &dir,
        &["--show-files", "--metalink-language=en", "-M", &doc],
    );
    r.expect_code(0);
    assert!(
        r.stdout.contains("\n  1|en.bin\n   |5B (5)\n"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("de.bin"), "{}", r.stdout);
}

#[test]
fn show_files_for_arguments_names_each_one() {
    let dir = TempDir::new("ml-show-args");
    let doc = write(&dir, "three.meta4", &document(THREE_FILES));
    let notes = write(&dir, "notes.txt", "plain text");
    let r = get(&dir, &["-S", &doc, &notes]);
    r.expect_code(0);
    assert_eq!(
        r.stdout,
        format!(
            ">>> Printing the contents of file '{doc}'...\n{TABLE}\
             >>> Printing the contents of file '{notes}'...\n\
             This file is neither Torrent nor Metalink file. Skipping.\n\n"
        )
    );
}

#[test]
fn show_files_reads_the_document_from_stdin() {
    let dir = TempDir::new("ml-show-stdin");
    let mut child = swarmget(dir.path())
        .args(["-S", "-M", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(document(THREE_FILES).as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), TABLE);
}

#[test]
fn a_document_naming_a_file_outside_the_directory_is_refused_whole() {
    let dir = TempDir::new("ml-escape");
    for name in ["../escaped.bin", "/tmp/swarmget-absolute.bin"] {
        let doc = write(
            &dir,
            "evil.meta4",
            &document(&[
                ("fine.bin", "<url>http://127.0.0.1:1/f</url>"),
                (name, "<url>http://127.0.0.1:1/e</url>"),
            ]),
        );
        let r = get(&dir, &["-M", &doc]);
        r.expect_code(20);
        assert!(r.stderr.contains("unsafe file name"), "{}", r.stderr);
        assert!(written(&dir).is_empty());
        assert!(!dir.join("escaped.bin").exists());
        // The same refusal for a document given as an argument.
        let r = get(&dir, &[&doc]);
        r.expect_code(20);
    }
}

#[test]
fn bad_documents_and_options_get_aria2s_exit_codes() {
    let dir = TempDir::new("ml-codes");
    let url = "<url>http://127.0.0.1:1/x</url>";
    let overlap = write(
        &dir,
        "overlap.meta4",
        &document(&[("d", url), ("d/e", url)]),
    );
    let r = get(&dir, &["-M", &overlap]);
    r.expect_code(11);
    assert!(
        r.stderr.contains("is in a directory named like file 1"),
        "{}",
        r.stderr
    );
    // A metaurl that is not a torrent's is no source (a torrent's is followed).
    let other = r#"<metaurl mediatype="application/x-other">http://127.0.0.1:1/t.x</metaurl>"#;
    let no_mirror = write(&dir, "other.meta4", &document(&[("t", other)]));
    let r = get(&dir, &["-M", &no_mirror]);
    r.expect_code(1);
    assert!(
        r.stderr.contains("has no http, https or ftp URL"),
        "{}",
        r.stderr
    );
    let r = get(
        &dir,
        &["-M", &dir.join("missing.meta4").display().to_string()],
    );
    r.expect_code(28);
    let r = get(&dir, &["--select-file=0", "-M", &overlap]);
    r.expect_code(28);
    assert!(
        r.stderr
            .contains("select-file must be between 1 and 1048576"),
        "{}",
        r.stderr
    );
    let r = get(
        &dir,
        &["--metalink-preferred-protocol=gopher", "-M", &overlap],
    );
    r.expect_code(28);
    let r = get(
        &dir,
        &[
            "magnet:?xt=urn:btmh:1220d8dd32ac93357c368556af3ac1d95c9d76bd0dff6fa9833ecdac3d53134efabb",
        ],
    );
    r.expect_code(27);
    assert!(r.stderr.contains("v2-only torrents"), "{}", r.stderr);
    let r = get(&dir, &["magnet:?xt=urn:sha1:nothex"]);
    r.expect_code(27);
    assert!(written(&dir).is_empty());
}

/// Two mirrors' files into `-d` with their relative paths, only the selected ones.
#[test]
fn the_selected_files_of_a_document_are_downloaded_into_the_directory() {
    let a = TestFile::random(150_000, 11);
    let b = TestFile::random(90_000, 12);
    let c = TestFile::random(10_000, 13);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/a", a.clone())
            .file("/b", b.clone())
            .file("/c", c),
    )
    .unwrap();
    let dir = TempDir::new("ml-download");
    let body = |path: &str, len: usize| {
        format!(
            "<size>{len}</size><url>{}</url><url>ftp://127.0.0.1:1/unused</url>",
            server.url(path)
        )
    };
    let doc = write(
        &dir,
        "set.meta4",
        &document(&[
            ("a.bin", &body("/a", a.len())),
            ("c.bin", &body("/c", 10_000)),
            ("sub/dir/b.bin", &body("/b", b.len())),
        ]),
    );
    let r = get(&dir, &["-q", "--select-file=1,3", "-M", &doc]);
    r.expect_code(0);
    assert_download(&dir.join("out/a.bin"), &a);
    assert_download(&dir.join("out/sub/dir/b.bin"), &b);
    assert_eq!(written(&dir), ["a.bin", "sub/dir/b.bin"]);
    assert!(server.requests_for("/c").is_empty());
}

/// A magnet link's `as` source, named by `dn`.
#[test]
fn a_magnet_link_with_a_web_source_is_downloaded() {
    let data = TestFile::random(120_000, 21);
    let server = HttpServer::start(ServerConfig::new().file("/m", data.clone())).unwrap();
    let dir = TempDir::new("magnet-download");
    let link = format!(
        "magnet:?xl={}&dn=from-magnet.bin&as={}",
        data.len(),
        server.url("/m")
    );
    let r = get(&dir, &["-q", &link]);
    r.expect_code(0);
    assert_download(&dir.join("out/from-magnet.bin"), &data);
}

/// A mirror serving other bytes than the document's SHA-256 names: exit 32, as aria2.
#[test]
fn a_whole_file_hash_mismatch_exits_32() {
    let served = TestFile::random(50_000, 31);
    let expected = TestFile::random(50_000, 32);
    let server = HttpServer::start(ServerConfig::new().file("/f", served)).unwrap();
    let dir = TempDir::new("ml-mismatch");
    let doc = write(
        &dir,
        "f.meta4",
        &document(&[(
            "f.bin",
            &format!(
                "<size>50000</size><hash type=\"sha-256\">{}</hash><url>{}</url>",
                sha256_hex(&expected),
                server.url("/f")
            ),
        )]),
    );
    get(&dir, &["-q", "-M", &doc]).expect_code(32);
}

/// A magnet link whose `xt` does not match what its web source serves: exit 32.
#[test]
fn a_magnet_hash_mismatch_exits_32() {
    let served = TestFile::random(40_000, 41);
    let server = HttpServer::start(ServerConfig::new().file("/m", served)).unwrap();
    let dir = TempDir::new("magnet-mismatch");
    // The MD5 of the empty file: certainly not the served bytes'.
    let link = format!(
        "magnet:?xt=urn:md5:d41d8cd98f00b204e9800998ecf8427e&dn=m.bin&as={}",
        server.url("/m")
    );
    get(&dir, &["-q", &link]).expect_code(32);
}

/// An input-file line may be a local document or a magnet link too, with its options.
#[test]
fn input_file_lines_may_be_documents_and_magnet_links() {
    let a = TestFile::random(70_000, 51);
    let m = TestFile::random(30_000, 52);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/a", a.clone())
            .file("/m", m.clone()),
    )
    .unwrap();
    let dir = TempDir::new("ml-input");
    let doc = write(
        &dir,
        "one.meta4",
        &document(&[
            ("skipped.bin", &format!("<url>{}</url>", server.url("/a"))),
            ("kept.bin", &format!("<url>{}</url>", server.url("/a"))),
        ]),
    );
    let list = write(
        &dir,
        "list.txt",
        &format!(
            "{doc}\n  select-file=2\nmagnet:?dn=m.bin&as={}\n",
            server.url("/m")
        ),
    );
    let r = get(&dir, &["-q", "-i", &list]);
    r.expect_code(0);
    assert_download(&dir.join("out/kept.bin"), &a);
    assert_download(&dir.join("out/m.bin"), &m);
    assert_eq!(written(&dir), ["kept.bin", "m.bin"]);
}

/// A server with a document at `/doc.meta4` (served as Metalink) naming `/a` as
/// `a.bin` and `/b` as `sub/b.bin` by URLs relative to the document, and `/gone` as
/// `gone.bin` when `with_missing`.
fn served_document(with_missing: bool) -> (HttpServer, Vec<u8>, Vec<u8>) {
    let a = TestFile::random(150_000, 31);
    let b = TestFile::random(40_000, 32);
    let mut files = vec![
        ("a.bin", format!("<size>{}</size><url>a</url>", a.len())),
        ("sub/b.bin", "<url>b</url>".to_owned()),
    ];
    if with_missing {
        files.push(("gone.bin", "<url>gone</url>".to_owned()));
    }
    let files: Vec<(&str, &str)> = files.iter().map(|(n, b)| (*n, b.as_str())).collect();
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/a", a.clone())
            .file("/b", b.clone())
            .file("/doc.meta4", document(&files).into_bytes())
            .behaviour_for(
                "/doc.meta4",
                swarmget_test_support::Behaviour::ContentType("application/metalink4+xml".into()),
            ),
    )
    .unwrap();
    (server, a, b)
}

#[test]
fn a_metalink_uri_is_followed_into_the_files_it_describes() {
    let (server, a, b) = served_document(false);
    let dir = TempDir::new("follow-uri");
    let r = get(&dir, &["-q", &server.url("/doc.meta4")]);
    r.expect_code(0);
    assert_download(&dir.join("out/a.bin"), &a);
    assert_download(&dir.join("out/sub/b.bin"), &b);
    assert_eq!(written(&dir), ["a.bin", "doc.meta4", "sub/b.bin"]);

    let dir = TempDir::new("follow-uri-mem");
    let r = get(
        &dir,
        &["-q", "--follow-metalink=mem", &server.url("/doc.meta4")],
    );
    r.expect_code(0);
    assert_eq!(written(&dir), ["a.bin", "sub/b.bin"]);

    let dir = TempDir::new("follow-uri-false");
    let r = get(
        &dir,
        &["-q", "--follow-metalink=false", &server.url("/doc.meta4")],
    );
    r.expect_code(0);
    assert_eq!(written(&dir), ["doc.meta4"]);
}

/// aria2: the followed downloads' results count; the document's success does not
/// hide a file that failed.
#[test]
fn a_failed_follower_sets_the_exit_code() {
    let (server, a, _) = served_document(true);
    let dir = TempDir::new("follow-fail");
    let r = get(&dir, &["--max-tries=1", &server.url("/doc.meta4")]);
    r.expect_code(3);
    assert_download(&dir.join("out/a.bin"), &a);
    let line = |stat: &str, end: &str| {
        r.stdout
            .lines()
            .any(|l| l.contains(&format!("|{stat}|")) && l.ends_with(end))
    };
    assert!(line("OK  ", "doc.meta4"), "{}", r.stdout);
    assert!(line("ERR ", "/gone"), "{}", r.stdout);
}

#[test]
fn a_metalink_uri_that_does_not_parse_exits_20() {
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/bad.meta4", b"<metalink".to_vec())
            .content_type("application/metalink4+xml"),
    )
    .unwrap();
    let dir = TempDir::new("follow-bad");
    let r = get(&dir, &["-q", &server.url("/bad.meta4")]);
    r.expect_code(20);
}

/// `--metalink-os` and `--metalink-version` keep only the files for that OS and version
/// (numbered afterwards, as `-S` shows); `--metalink-file` is `-M`'s long form.
#[test]
fn metalink_os_and_version_filter_the_files() {
    let dir = TempDir::new("ml-os-version");
    let doc = write(
        &dir,
        "builds.meta4",
        &document(&[
            (
                "linux-1.bin",
                "<os>Linux-x64</os><version>1.0</version><url>http://h/l1</url>",
            ),
            (
                "linux-2.bin",
                "<os>Linux-x64</os><version>2.0</version><url>http://h/l2</url>",
            ),
            (
                "win-2.bin",
                "<os>Windows-x64</os><version>2.0</version><url>http://h/w2</url>",
            ),
        ]),
    );
    let listed = |args: &[&str]| {
        let mut all = vec!["-S"];
        all.extend_from_slice(args);
        let r = get(&dir, &all);
        r.expect_code(0);
        r.stdout
            .lines()
            .filter_map(|l| l.split_once('|').map(|(_, p)| p.to_string()))
            .filter(|p| p.ends_with(".bin"))
            .collect::<Vec<_>>()
    };
    let file_opt = format!("--metalink-file={doc}");
    assert_eq!(
        listed(&[&file_opt]),
        ["linux-1.bin", "linux-2.bin", "win-2.bin"]
    );
    assert_eq!(
        listed(&["--metalink-os=Linux-x64", &file_opt]),
        ["linux-1.bin", "linux-2.bin"]
    );
    assert_eq!(
        listed(&[
            "--metalink-os=Linux-x64",
            "--metalink-version=2.0",
            &file_opt
        ]),
        ["linux-2.bin"]
    );
    assert!(written(&dir).is_empty());
}

/// `--metalink-base-uri` resolves a document's relative URLs: the file comes from the
/// server the base names.
#[test]
fn metalink_base_uri_resolves_relative_urls() {
    let data = TestFile::random(20_000, 77);
    let server = HttpServer::start(ServerConfig::new().file("/pub/rel.bin", data.clone())).unwrap();
    let dir = TempDir::new("ml-base-uri");
    let doc = write(
        &dir,
        "relative.meta4",
        &document(&[("rel.bin", "<url>rel.bin</url>")]),
    );
    let base = format!("--metalink-base-uri={}", server.url("/pub/"));
    let r = get(&dir, &[&base, "-M", &doc]);
    r.expect_code(0);
    assert_eq!(
        std::fs::read(dir.join("out/rel.bin")).unwrap(),
        data,
        "{}",
        r.stdout
    );
    assert_eq!(server.requests_for("/pub/rel.bin").len(), 1);
}
