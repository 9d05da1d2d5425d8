//! Reading a link: split into parameters, sort them into groups, decode each value.
//!
//! Two passes, so that errors can point at the exact parameter: the first splits and
//! decodes names (finding every group number), the second knows which group is the first
//! one and files each parameter, un-numbered ones included, into its group.

use std::collections::BTreeMap;

use crate::error::{ErrorKind, ParseError};
use crate::magnet::{Group, Magnet};
use crate::peer::PeerAddr;
use crate::percent::{self, DecodeError};
use crate::select::SelectOnly;
use crate::topic::{self, ExactTopic};

const PREFIX: &str = "magnet:?";

pub(crate) fn parse(link: &str) -> Result<Magnet, ParseError> {
    let query = match link.get(..PREFIX.len()) {
        Some(head) if head.eq_ignore_ascii_case(PREFIX) => &link[PREFIX.len()..],
        _ => return Err(ParseError::missing_prefix()),
    };

    let mut params = Vec::new();
    let mut offset = PREFIX.len();
    for raw in query.split('&') {
        // `&&` and a trailing `&` are harmless and common; they carry no parameter.
        if !raw.is_empty() {
            params.push(Param::split(raw, offset)?);
        }
        offset += raw.len() + 1;
    }

    let first = params.iter().filter_map(|p| p.group).min();
    let mut groups: BTreeMap<u32, Group> = BTreeMap::new();
    for param in &params {
        let number = param.group.or(first).unwrap_or(0);
        param.apply(groups.entry(number).or_default())?;
    }
    Ok(Magnet {
        groups: groups.into_values().collect(),
    })
}

/// One `name[.N]=value` item, its name decoded and its value still raw.
struct Param<'a> {
    /// The name as written, for error messages.
    raw_name: &'a str,
    /// Where the item starts in the link.
    offset: usize,
    /// The percent-decoded name without its group number.
    name: String,
    group: Option<u32>,
    raw_value: &'a str,
}

impl<'a> Param<'a> {
    fn split(raw: &'a str, offset: usize) -> Result<Self, ParseError> {
        let (raw_name, raw_value) = raw.split_once('=').unwrap_or((raw, ""));
        let error = |kind| ParseError::in_parameter(raw_name, offset, kind);
        let mut name = percent::decode(raw_name, false)
            .map_err(|e| error(decode_error(e, 0)))?
            .into_owned();
        let mut group = None;
        if let Some((base_len, digits)) = group_suffix(&name) {
            let number = digits.parse().map_err(|_| {
                error(ErrorKind::OutOfRange {
                    what: "group number",
                })
            })?;
            group = Some(number);
            name.truncate(base_len);
        }
        Ok(Param {
            raw_name,
            offset,
            name,
            group,
            raw_value,
        })
    }

    fn error(&self, kind: ErrorKind) -> ParseError {
        ParseError::in_parameter(self.raw_name, self.offset, kind)
    }

    /// Decodes the value and files it into `group`.
    fn apply(&self, group: &mut Group) -> Result<(), ParseError> {
        let value_start = self.raw_name.len() + 1;
        let value = percent::decode(self.raw_value, self.name == "kt")
            .map_err(|e| self.error(decode_error(e, value_start)))?
            .into_owned();
        let result = match self.name.as_str() {
            "xt" => ExactTopic::parse(&value).map(|t| group.exact_topics.push(t)),
            "dn" => set_once(&mut group.display_name, value),
            "xl" => topic::decimal(&value, "exact length", "1 to 20 decimal digits", 20)
                .and_then(|len| set_once(&mut group.exact_length, len)),
            "as" => push(&mut group.acceptable_sources, value),
            "xs" => push(&mut group.exact_sources, value),
            "kt" => set_once(&mut group.keywords, value),
            "mt" => push(&mut group.manifests, value),
            "tr" => push(&mut group.trackers, value),
            "ws" => push(&mut group.web_seeds, value),
            "so" => SelectOnly::parse(&value).and_then(|so| set_once(&mut group.select_only, so)),
            "x.pe" => PeerAddr::parse(&value).map(|peer| group.peers.push(peer)),
            _ => push(&mut group.extra, (self.name.clone(), value)),
        };
        result.map_err(|kind| self.error(kind))
    }
}

/// Splits a trailing `.<digits>` group number off a name: the length of the name before
/// the dot, and the digits.
pub(crate) fn group_suffix(name: &str) -> Option<(usize, &str)> {
    let (base, digits) = name.rsplit_once('.')?;
    let numeric = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    numeric.then_some((base.len(), digits))
}

fn push<T>(list: &mut Vec<T>, value: T) -> Result<(), ErrorKind> {
    list.push(value);
    Ok(())
}

fn set_once<T>(slot: &mut Option<T>, value: T) -> Result<(), ErrorKind> {
    if slot.is_some() {
        return Err(ErrorKind::Repeated);
    }
    *slot = Some(value);
    Ok(())
}

/// `base` is where the decoded text starts within the parameter's `name=value` text.
fn decode_error(err: DecodeError, base: usize) -> ErrorKind {
    match err {
        DecodeError::BadEscape(at) => ErrorKind::BadPercentEscape { at: base + at },
        DecodeError::NotUtf8 => ErrorKind::NotUtf8,
    }
}
