//! Writing a link.
//!
//! Parameters of a group are written in a fixed order — `xl`, `dn`, `xt` (the order
//! `rhash --magnet` uses), then `as`, `xs`, `kt`, `mt`, `tr`, `ws`, `so`, `x.pe` and the
//! extra parameters — and values are percent-encoded except for RFC 3986 unreserved
//! characters (plus `:` inside `xt` URNs and `x.pe` addresses, `,` in `so`, and `+` for a
//! space in `kt`).
//! With several groups every parameter carries its group number, counted from 1.

use std::fmt::{self, Write as _};

use crate::magnet::{Group, Magnet};
use crate::parse::group_suffix;
use crate::percent;

impl fmt::Display for Magnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let groups: Vec<&Group> = self.groups.iter().filter(|g| !g.is_empty()).collect();
        let mut out = Writer {
            text: String::from("magnet:?"),
            empty: true,
            number: None,
        };
        for (i, group) in groups.iter().enumerate() {
            out.number = (groups.len() > 1).then_some(i + 1);
            out.group(group);
        }
        f.write_str(&out.text)
    }
}

struct Writer {
    text: String,
    /// No parameter written yet (so no `&` before the next).
    empty: bool,
    /// The group number to append to names, if the link has several groups.
    number: Option<usize>,
}

impl Writer {
    fn group(&mut self, g: &Group) {
        if let Some(len) = g.exact_length {
            self.param("xl", &len.to_string(), b"", false);
        }
        if let Some(name) = &g.display_name {
            self.param("dn", name, b"", false);
        }
        for topic in &g.exact_topics {
            self.param("xt", &topic.to_string(), b":", false);
        }
        self.all("as", &g.acceptable_sources);
        self.all("xs", &g.exact_sources);
        if let Some(keywords) = &g.keywords {
            self.param("kt", keywords, b"", true);
        }
        self.all("mt", &g.manifests);
        self.all("tr", &g.trackers);
        self.all("ws", &g.web_seeds);
        if let Some(so) = &g.select_only {
            self.param("so", &so.to_string(), b",", false);
        }
        for peer in &g.peers {
            self.param("x.pe", &peer.to_string(), b":", false);
        }
        for (name, value) in &g.extra {
            self.param(name, value, b"", false);
        }
    }

    fn all(&mut self, name: &str, values: &[String]) {
        for value in values {
            self.param(name, value, b"", false);
        }
    }

    fn param(&mut self, name: &str, value: &str, keep: &[u8], space_as_plus: bool) {
        if !self.empty {
            self.text.push('&');
        }
        self.empty = false;
        percent::encode_into(&mut self.text, name, b"", false);
        // A name that itself ends in `.<digits>` would lose that suffix to the group-number
        // rule when read back, so it always gets an explicit number (the first group's is 1).
        match self.number {
            Some(n) => {
                let _ = write!(self.text, ".{n}");
            }
            None if group_suffix(name).is_some() => self.text.push_str(".1"),
            None => {}
        }
        self.text.push('=');
        percent::encode_into(&mut self.text, value, keep, space_as_plus);
    }
}
