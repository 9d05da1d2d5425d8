//! `--help[=#tag|keyword]`, grouped by aria2's help tags.

use swarmget_engine::options::{Arg, OPTIONS};

const TAGS: &[&str] = &[
    "basic", "advanced", "http", "https", "file", "metalink", "checksum",
];

/// Help text for `--help=TAG` (`#basic` by default, `#all` for everything) or
/// `--help=WORD` (options whose name contains the word).
pub fn render(which: &str) -> String {
    let mut out = String::from(
        "Usage: swarmget [OPTIONS] [URI | MAGNET | FILE.meta4]...\n\
         \x20      swarmget [OPTIONS] -M FILE.meta4\n\
         \x20      swarmget magnet FILE... | magnet --parse URI\n\
         \x20      swarmget metalink show FILE\n\n\
         URIs given together are mirrors of one file; use -Z to download each separately.\n\n\
         Options:\n",
    );
    let selected: Vec<_> = match which.strip_prefix('#') {
        Some("all") => OPTIONS.iter().collect(),
        Some(tag) => OPTIONS
            .iter()
            .filter(|o| o.tag.split(',').any(|t| t == tag))
            .collect(),
        None => OPTIONS.iter().filter(|o| o.name.contains(which)).collect(),
    };
    for o in selected {
        let short = o.short.map(|c| format!("-{c}, ")).unwrap_or_default();
        let value = if o.arg == Arg::Value {
            "=VALUE"
        } else {
            "[=true|false]"
        };
        out += &format!(" {short}--{}{value}\n", o.name);
        out += &format!("        {}\n", o.help);
        if !o.default.is_empty() {
            out += &format!("        Default: {}\n", o.default);
        }
        let tags: Vec<String> = o.tag.split(',').map(|t| format!("#{t}")).collect();
        out += &format!("        Tags: {}\n\n", tags.join(", "));
    }
    out += &format!(
        "Refer to man page for more information.\nTags: {}, #all\n",
        TAGS.iter()
            .map(|t| format!("#{t}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_option_is_listed_under_each_of_its_tags() {
        let metalink = render("#metalink");
        for name in [
            "--metalink-file",
            "--show-files",
            "--check-integrity",
            "--select-file",
        ] {
            assert!(metalink.contains(name), "{name} missing from #metalink");
        }
        assert!(!metalink.contains("--split"));
        assert!(metalink.contains(" -M, --metalink-file=VALUE\n"));
        assert!(metalink.contains("        Tags: #basic, #metalink\n"));
        assert!(render("#basic").contains(" -V, --check-integrity[=true|false]\n"));
        assert!(render("#checksum").contains("--realtime-chunk-checksum"));
        assert!(render("#all").ends_with("#file, #metalink, #checksum, #all\n"));
    }
}
