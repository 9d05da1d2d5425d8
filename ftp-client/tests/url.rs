//! `ftp://` URLs, remote paths and credentials.

use swarmget_ftp_client::{
    ArgumentError, Credentials, RemotePath, TransferType, Url, UrlError, ftp_url_parts,
};

fn parts(url: &str) -> Result<swarmget_ftp_client::FtpUrl, UrlError> {
    ftp_url_parts(&Url::parse(url).unwrap())
}

fn components(path: &RemotePath) -> (Vec<String>, String) {
    let dirs = path
        .dirs()
        .iter()
        .map(|d| String::from_utf8_lossy(d).into_owned())
        .collect();
    (dirs, path.file_name_lossy().into_owned())
}

#[test]
fn url_parts() {
    let p = parts("ftp://ftp.example.org/pub/linux/kernel.tar.xz").unwrap();
    assert_eq!((p.host.as_str(), p.port), ("ftp.example.org", 21));
    assert_eq!((p.user, p.password), (None, None));
    assert_eq!(
        components(&p.path),
        (vec!["pub".into(), "linux".into()], "kernel.tar.xz".into())
    );
    assert_eq!(p.transfer_type, None);

    let p = parts("ftp://u%3Ax:p%2Fw%40d@192.0.2.1:2121/f.bin").unwrap();
    assert_eq!((p.host.as_str(), p.port), ("192.0.2.1", 2121));
    assert_eq!(p.user.as_deref(), Some("u:x"));
    assert_eq!(p.password.as_deref(), Some("p/w@d"));
    assert_eq!(components(&p.path), (vec![], "f.bin".into()));

    let p = parts("ftp://user:@[::1]/f").unwrap();
    assert_eq!(p.host, "::1");
    assert_eq!((p.user.as_deref(), p.password), (Some("user"), None));

    // %2F stays inside its component; a leading one makes the path absolute.
    let p = parts("ftp://h/%2Fetc/a%2Fb/motd").unwrap();
    assert_eq!(
        components(&p.path),
        (vec!["/etc".into(), "a/b".into()], "motd".into())
    );
    // Empty segments are skipped; spaces and UTF-8 are decoded.
    let p = parts("ftp://h//a///caf%C3%A9%20menu.txt").unwrap();
    assert_eq!(
        components(&p.path),
        (vec!["a".into()], "café menu.txt".into())
    );
    // Bytes that are not UTF-8 are kept for the server.
    let p = parts("ftp://h/latin%E9.txt").unwrap();
    assert_eq!(p.path.file(), b"latin\xe9.txt");
    // Queries and fragments are not part of the path.
    let p = parts("ftp://h/d/f.txt?x=1#frag").unwrap();
    assert_eq!(components(&p.path), (vec!["d".into()], "f.txt".into()));
}

#[test]
fn type_suffixes() {
    let cases = [
        ("ftp://h/f.txt;type=a", Some(TransferType::Ascii), "f.txt"),
        ("ftp://h/f.txt;TYPE=A", Some(TransferType::Ascii), "f.txt"),
        ("ftp://h/f.bin;type=i", Some(TransferType::Binary), "f.bin"),
        ("ftp://h/f;x.bin", None, "f;x.bin"),
    ];
    for (url, transfer_type, file) in cases {
        let p = parts(url).unwrap();
        assert_eq!(p.transfer_type, transfer_type, "{url}");
        assert_eq!(p.path.file_name_lossy(), file, "{url}");
    }
    assert_eq!(
        parts("ftp://h/dir;type=d").unwrap_err(),
        UrlError::UnsupportedType {
            typecode: "d".into()
        }
    );
    assert_eq!(parts("ftp://h/;type=i").unwrap_err(), UrlError::NoFileName);
}

#[test]
fn url_errors() {
    assert_eq!(
        parts("http://h/f").unwrap_err(),
        UrlError::NotFtp {
            scheme: "http".into()
        }
    );
    assert_eq!(parts("ftp://h/").unwrap_err(), UrlError::NoFileName);
    assert_eq!(parts("ftp://h").unwrap_err(), UrlError::NoFileName);
    assert_eq!(parts("ftp://h/dir/").unwrap_err(), UrlError::NoFileName);
    // Command injection through percent-encoding is refused.
    assert_eq!(
        parts("ftp://h/f%0D%0ADELE%20x").unwrap_err(),
        UrlError::Argument(ArgumentError::ForbiddenByte {
            field: "file name",
            offset: 1
        })
    );
    assert_eq!(
        parts("ftp://h/d%00/f").unwrap_err(),
        UrlError::Argument(ArgumentError::ForbiddenByte {
            field: "directory",
            offset: 1
        })
    );
}

#[test]
fn remote_paths() {
    let path = RemotePath::parse("pub//x/file.iso").unwrap();
    assert_eq!(
        components(&path),
        (vec!["pub".into(), "x".into()], "file.iso".into())
    );
    assert_eq!(path.to_string(), "pub/x/file.iso");
    assert_eq!(
        RemotePath::parse("/dir/").unwrap_err(),
        ArgumentError::Empty { field: "file name" }
    );
    assert_eq!(
        RemotePath::new([""], "f").unwrap_err(),
        ArgumentError::Empty { field: "directory" }
    );
    assert_eq!(
        RemotePath::new(["a"], "f\nQUIT").unwrap_err(),
        ArgumentError::ForbiddenByte {
            field: "file name",
            offset: 1
        }
    );
    assert!(RemotePath::new(Vec::<Vec<u8>>::new(), b"\xff".to_vec()).is_ok());
}

#[test]
fn credentials_follow_aria2s_precedence() {
    let resolve = |url_user, url_pass, ftp_user, ftp_pass| {
        let c = Credentials::resolve(url_user, url_pass, ftp_user, ftp_pass).unwrap();
        (c.user().to_owned(), c.password().to_owned())
    };
    let pair = |u: &str, p: &str| (u.to_owned(), p.to_owned());
    assert_eq!(
        resolve(None, None, None, None),
        pair("anonymous", "ARIA2USER@")
    );
    assert_eq!(
        resolve(None, None, None, Some("pw")),
        pair("anonymous", "ARIA2USER@")
    );
    assert_eq!(
        resolve(None, None, Some("alice"), Some("pw")),
        pair("alice", "pw")
    );
    assert_eq!(resolve(None, None, Some("alice"), None), pair("alice", ""));
    assert_eq!(
        resolve(Some("bob"), Some("x"), Some("alice"), Some("pw")),
        pair("bob", "x")
    );
    assert_eq!(
        resolve(Some("bob"), None, Some("alice"), Some("pw")),
        pair("bob", "pw")
    );
    assert_eq!(resolve(Some("bob"), None, None, None), pair("bob", ""));
    assert_eq!(
        resolve(Some(""), None, Some(""), None),
        pair("anonymous", "ARIA2USER@")
    );

    assert_eq!(
        Credentials::new("a\r\nDELE x", "p").unwrap_err(),
        ArgumentError::ForbiddenByte {
            field: "user",
            offset: 1
        }
    );
    assert!(Credentials::new("u", "p\0").is_err());
    let debug = format!("{:?}", Credentials::new("u", "secret").unwrap());
    assert!(
        debug.contains("\"u\"") && !debug.contains("secret"),
        "{debug}"
    );
}
