//! File names: RFC 6266 / RFC 8187 samples, URL names, and sanitising (with a
//! property test that nothing unsafe ever comes out).

use proptest::prelude::*;
use swarmget_http_seg::{
    Url, content_disposition_filename, file_name_from_url, sanitize_file_name,
};

fn cd(value: &str) -> Option<String> {
    content_disposition_filename(value, false)
}

#[test]
fn rfc_6266_examples() {
    assert_eq!(
        cd("Attachment; filename=example.html"),
        Some("example.html".into())
    );
    assert_eq!(
        cd("INLINE; FILENAME= \"an example.html\""),
        Some("an example.html".into())
    );
    assert_eq!(
        cd("attachment; filename*= UTF-8''%e2%82%ac%20rates"),
        Some("€ rates".into())
    );
    assert_eq!(
        cd("attachment; filename=\"EURO rates\"; filename*=utf-8''%e2%82%ac%20rates"),
        Some("€ rates".into())
    );
    // Order does not matter: filename* wins either way.
    assert_eq!(
        cd("attachment; filename*=utf-8''%e2%82%ac%20rates; filename=\"EURO rates\""),
        Some("€ rates".into())
    );
}

#[test]
fn rfc_8187_ext_values() {
    assert_eq!(
        cd("attachment; filename*=iso-8859-1'en'%A3%20rates"),
        Some("£ rates".into())
    );
    assert_eq!(
        cd("attachment; filename*=UTF-8''%c2%a3%20and%20%e2%82%ac%20rates"),
        Some("£ and € rates".into())
    );
    assert_eq!(
        cd("attachment; FileName*=UTF-8'en-US'plain.txt"),
        Some("plain.txt".into())
    );
    // Unusable filename* falls back to filename.
    for bad in [
        "Shift_JIS''%82%a0",
        "UTF-8''%zz",
        "UTF-8''%e2%82",
        "UTF-8''%ff",
        "UTF-8'no-second-quote",
        "UTF-8''",
    ] {
        assert_eq!(
            cd(&format!(
                "attachment; filename*={bad}; filename=\"fallback.txt\""
            )),
            Some("fallback.txt".into()),
            "{bad}"
        );
    }
    // Lenient: a quoted ext-value.
    assert_eq!(
        cd("attachment; filename*=\"UTF-8''a%20b\""),
        Some("a b".into())
    );
}

#[test]
fn quoted_strings_and_leniency() {
    assert_eq!(
        cd(r#"attachment; filename="a \"quoted\" \\ name.txt""#),
        Some(r#"a "quoted" \ name.txt"#.into())
    );
    assert_eq!(
        cd("attachment; filename=\"a;b.txt\"; size=3"),
        Some("a;b.txt".into())
    );
    assert_eq!(
        cd("attachment; filename=my file.txt"),
        Some("my file.txt".into())
    );
    assert_eq!(
        cd("attachment; filename=a=b.txt; x=y"),
        Some("a=b.txt".into())
    );
    assert_eq!(cd("filename=\"no-type.bin\""), Some("no-type.bin".into()));
    assert_eq!(
        cd("attachment; filename=\"unterminated"),
        Some("unterminated".into())
    );
    assert_eq!(
        cd("attachment; filename=first; filename=second"),
        Some("first".into())
    );
    assert_eq!(
        cd("attachment; size=3; filename = spaced.txt ;"),
        Some("spaced.txt".into())
    );
    assert_eq!(
        cd("attachment; junk; filename=after-junk"),
        Some("after-junk".into())
    );
    assert_eq!(cd("attachment; filename=\"\""), None);
    assert_eq!(cd("attachment"), None);
    assert_eq!(cd("inline; name=\"x\""), None);
    assert_eq!(cd(""), None);
    assert_eq!(cd(";;;=;\"\\"), None);
}

#[test]
fn plain_filename_charsets_and_default_utf8() {
    let utf8_bytes = "attachment; filename=\"café.txt\"".as_bytes();
    assert_eq!(
        content_disposition_filename(utf8_bytes, false),
        Some("cafÃ©.txt".into())
    );
    assert_eq!(
        content_disposition_filename(utf8_bytes, true),
        Some("café.txt".into())
    );

    let latin1_bytes = b"attachment; filename=\"caf\xe9.txt\"";
    assert_eq!(
        content_disposition_filename(latin1_bytes, false),
        Some("café.txt".into())
    );
    assert_eq!(
        content_disposition_filename(latin1_bytes, true),
        Some("café.txt".into())
    );

    let escaped = "attachment; filename=\"%E2%82%AC%20rates.txt\"";
    assert_eq!(
        content_disposition_filename(escaped, false),
        Some("%E2%82%AC%20rates.txt".into())
    );
    assert_eq!(
        content_disposition_filename(escaped, true),
        Some("€ rates.txt".into())
    );
    // filename* is RFC 8187 whatever default_utf8 says.
    assert_eq!(
        content_disposition_filename("attachment; filename*=iso-8859-1''%e9", true),
        Some("é".into())
    );
}

#[test]
fn names_from_urls() {
    let name = |u: &str| file_name_from_url(&Url::parse(u).unwrap());
    assert_eq!(
        name("http://h/dir/file%20name.iso?x=1#f"),
        Some("file name.iso".into())
    );
    assert_eq!(name("http://h/dir/"), Some("dir".into()));
    assert_eq!(name("http://h/a//"), Some("a".into()));
    assert_eq!(name("http://h/"), None);
    assert_eq!(name("http://h"), None);
    assert_eq!(name("http://h/%E2%82%AC.txt"), Some("€.txt".into()));
    assert_eq!(name("http://h/%FF.bin"), Some("ÿ.bin".into()));
    assert_eq!(name("http://h/a%2Fb"), Some("a/b".into()));
    // `Url` resolves a bare `%2e%2e` segment itself; with an encoded slash it survives.
    assert_eq!(name("http://h/x/%2e%2e"), None);
    assert_eq!(name("http://h/x/%2e%2e%2F"), Some("../".into()));
    // Undecoded names still need sanitising.
    assert_eq!(
        sanitize_file_name(&name("http://h/a%2Fb").unwrap()),
        Some("b".into())
    );
    assert_eq!(
        sanitize_file_name(&name("http://h/x/%2e%2e%2F").unwrap()),
        None
    );
}

#[test]
fn sanitising_examples() {
    let cases: &[(&str, Option<&str>)] = &[
        ("report.pdf", Some("report.pdf")),
        ("../../etc/passwd", Some("passwd")),
        ("..\\..\\windows\\win.ini", Some("win.ini")),
        ("/absolute/path.txt", Some("path.txt")),
        ("dir/", Some("dir")),
        ("a/b/ ", Some("b")),
        ("..", None),
        (".", None),
        ("", None),
        ("/", None),
        ("   ", None),
        ("a/..", None),
        ("a/.", None),
        ("...", None),
        (".bashrc", Some("bashrc")),
        (". .hidden", Some("hidden")),
        ("...x", Some("x")),
        ("a\0b", Some("a_b")),
        ("line\nbreak\r.txt", Some("line_break_.txt")),
        ("tab\there", Some("tab_here")),
        ("del\u{7f}", Some("del_")),
        ("c1\u{85}", Some("c1_")),
        ("\u{202e}fdp.exe", Some("_fdp.exe")),
        ("  spaced name.txt  ", Some("spaced name.txt")),
        ("C:name.txt", Some("C:name.txt")),
        ("名前.txt", Some("名前.txt")),
    ];
    for (input, want) in cases {
        assert_eq!(sanitize_file_name(input).as_deref(), *want, "{input:?}");
    }
}

#[test]
fn long_names_are_cut_keeping_the_extension() {
    let long = format!("{}.tar.gz", "a".repeat(300));
    let short = sanitize_file_name(&long).unwrap();
    assert_eq!(short.len(), 255);
    assert!(short.ends_with("a.gz"));

    let wide = "é".repeat(200);
    let short = sanitize_file_name(&wide).unwrap();
    assert_eq!(short, "é".repeat(127));

    let no_ext = format!("{}.{}", "b".repeat(250), "x".repeat(100));
    let short = sanitize_file_name(&no_ext).unwrap();
    assert_eq!(short.len(), 255);
    assert!(short.starts_with("bbb"));

    let exactly = "c".repeat(255);
    assert_eq!(sanitize_file_name(&exactly), Some(exactly.clone()));
}

proptest! {
    #[test]
    fn sanitised_names_are_always_one_safe_component(name in "\\PC*|[./\\\\ a\\x00\\n\u{202e}é]{0,40}|.{250,300}") {
        if let Some(safe) = sanitize_file_name(&name) {
            prop_assert!(!safe.is_empty());
            prop_assert!(safe.len() <= 255);
            prop_assert!(!safe.contains(['/', '\\', '\0']));
            prop_assert!(safe != "." && safe != "..");
            prop_assert!(!safe.starts_with('.'));
            prop_assert!(!safe.chars().any(char::is_control));
            prop_assert_eq!(sanitize_file_name(&safe), Some(safe.clone()), "idempotent");
        }
    }

    #[test]
    fn any_name_survives_the_extended_form(name in "\\PC{1,60}", utf8 in any::<bool>()) {
        let encoded: String = name.bytes().map(|b| format!("%{b:02X}")).collect();
        let value = format!("attachment; filename=\"fallback.bin\"; filename*=UTF-8''{encoded}");
        prop_assert_eq!(content_disposition_filename(&value, utf8), Some(name));
    }

    #[test]
    fn a_quoted_name_reads_back_with_its_escapes_undone(name in "[ -~]{1,60}") {
        let quoted: String = name
            .chars()
            .flat_map(|c| matches!(c, '"' | '\\').then_some('\\').into_iter().chain([c]))
            .collect();
        let value = format!("attachment; filename=\"{quoted}\"");
        prop_assert_eq!(cd(&value), Some(name));
    }

    /// Any octets after any start: no panic, and where the flag cannot matter (ASCII with
    /// no `%` escapes) both readings agree.
    #[test]
    fn content_disposition_never_panics_and_reads_plain_ascii_alike(
        start in prop::sample::select(vec!["", "attachment; filename=", "inline; filename=\"", "attachment; filename*=UTF-8''"]),
        rest in proptest::collection::vec(any::<u8>(), 0..200),
        utf8 in any::<bool>(),
    ) {
        let mut value = start.as_bytes().to_vec();
        value.extend_from_slice(&rest);
        let read = content_disposition_filename(&value, utf8);
        if value.is_ascii() && !value.contains(&b'%') {
            prop_assert_eq!(read, content_disposition_filename(&value, !utf8));
        }
    }
}
