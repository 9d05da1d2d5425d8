//! aria2's parameterized URIs (`-P/--parameterized-uri`).
//!
//! A pattern is text with two kinds of parts, expanded left to right like an odometer
//! (the last part turns fastest):
//!
//! - `{a,b,c}` picks each value in turn (`http://{sv1,sv2}/f.iso`);
//! - `[START-END:STEP]` counts from START to END by STEP (`:STEP` optional, 1 by
//!   default). Digits count in decimal and keep START's width (`[000-100:2]` gives
//!   `000`, `002`, … `100`); lower- or upper-case letters count in base 26 with `a`/`A`
//!   as zero and keep START's width (`[a-z]`, `[AA-ZZ]`).
//!
//! aria2 rules kept: an unclosed `{` or `[`, an empty `{}`, a range missing an end, a
//! step that is not a number, or ends of mixed kinds are errors. Where aria2 loops
//! forever or allocates without bound, this refuses: a step of 0, START after END,
//! and a pattern expanding to more than [`MAX_EXPANSIONS`] URIs are errors.

use std::fmt;

/// The most URIs one pattern may expand to.
pub const MAX_EXPANSIONS: u64 = 1_000_000;

/// Why a pattern cannot be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternError {
    /// A `{` or `[` without its closing bracket.
    Unclosed(char),
    /// `{}` or a `{…}` whose values are all empty.
    EmptySelect,
    /// A `[…]` without two ends around a `-`.
    MissingEnd,
    /// A step that is not a positive number.
    BadStep(String),
    /// Ends that are not both digits, both lower-case or both upper-case letters.
    BadRange(String),
    /// START after END.
    Backwards(String),
    /// More than [`MAX_EXPANSIONS`] URIs.
    TooMany,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternError::Unclosed(c) => {
                let close = if *c == '{' { '}' } else { ']' };
                write!(f, "missing '{close}' in the parameterized URI")
            }
            PatternError::EmptySelect => write!(f, "empty {{}} in the parameterized URI"),
            PatternError::MissingEnd => write!(f, "a [START-END] range is missing an end"),
            PatternError::BadStep(s) => write!(f, "the step {s:?} is not a positive number"),
            PatternError::BadRange(r) => write!(
                f,
                "the range {r:?} must join two numbers, or two words of the same case"
            ),
            PatternError::Backwards(r) => write!(f, "the range {r:?} counts backwards"),
            PatternError::TooMany => write!(
                f,
                "the parameterized URI expands to more than {MAX_EXPANSIONS} URIs"
            ),
        }
    }
}

impl std::error::Error for PatternError {}

/// One part of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Select(Vec<String>),
    Count(Counter),
}

/// A `[START-END:STEP]` part.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Counter {
    start: u64,
    end: u64,
    step: u64,
    width: usize,
    digits: Digits,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Digits {
    Decimal,
    Lower,
    Upper,
}

impl Counter {
    /// Values counted; saturates (a range of all of `u64` is refused as too many).
    fn len(&self) -> u64 {
        ((self.end - self.start) / self.step).saturating_add(1)
    }

    fn nth(&self, i: u64) -> String {
        let n = self.start + i * self.step;
        match self.digits {
            Digits::Decimal => format!("{n:0width$}", width = self.width),
            Digits::Lower | Digits::Upper => {
                let zero = if self.digits == Digits::Lower {
                    b'a'
                } else {
                    b'A'
                };
                let mut letters = Vec::new();
                let mut rest = n;
                while rest > 0 || letters.is_empty() {
                    letters.push(zero + (rest % 26) as u8);
                    rest /= 26;
                }
                while letters.len() < self.width {
                    letters.push(zero);
                }
                letters.reverse();
                String::from_utf8(letters).expect("ASCII letters")
            }
        }
    }
}

/// A parsed pattern: iterate it for the URIs, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    parts: Vec<Part>,
    count: u64,
}

impl Pattern {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        let mut parts = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let Some(open) = rest.find(['{', '[']) else {
                parts.push(Part::Text(rest.to_owned()));
                break;
            };
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            let bracket = rest[open..].chars().next().expect("found above");
            let close = if bracket == '{' { '}' } else { ']' };
            let body_start = open + 1;
            let Some(len) = rest[body_start..].find(close) else {
                return Err(PatternError::Unclosed(bracket));
            };
            let body = &rest[body_start..body_start + len];
            parts.push(if bracket == '{' {
                select(body)?
            } else {
                Part::Count(counter(body)?)
            });
            rest = &rest[body_start + len + 1..];
        }
        let mut count: u64 = 1;
        for part in &parts {
            let n = match part {
                Part::Text(_) => 1,
                Part::Select(values) => values.len() as u64,
                Part::Count(c) => c.len(),
            };
            count = count
                .checked_mul(n)
                .filter(|&c| c <= MAX_EXPANSIONS)
                .ok_or(PatternError::TooMany)?;
        }
        Ok(Pattern { parts, count })
    }

    /// How many URIs the pattern gives.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The URIs, in order.
    pub fn iter(&self) -> impl Iterator<Item = String> + '_ {
        (0..self.count).map(move |mut index| {
            // The last part turns fastest: peel its digit off first.
            let mut pieces: Vec<std::borrow::Cow<'_, str>> = Vec::with_capacity(self.parts.len());
            for part in self.parts.iter().rev() {
                pieces.push(match part {
                    Part::Text(t) => t.as_str().into(),
                    Part::Select(values) => {
                        let n = values.len() as u64;
                        let v = values[(index % n) as usize].as_str();
                        index /= n;
                        v.into()
                    }
                    Part::Count(c) => {
                        let n = c.len();
                        let v = c.nth(index % n);
                        index /= n;
                        v.into()
                    }
                });
            }
            pieces.iter().rev().map(|p| p.as_ref()).collect()
        })
    }
}

/// Expands `text` to its URIs.
pub fn expand(text: &str) -> Result<Vec<String>, PatternError> {
    Ok(Pattern::parse(text)?.iter().collect())
}

fn select(body: &str) -> Result<Part, PatternError> {
    let values: Vec<String> = body
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(String::from)
        .collect();
    if values.is_empty() {
        return Err(PatternError::EmptySelect);
    }
    Ok(Part::Select(values))
}

fn counter(body: &str) -> Result<Counter, PatternError> {
    let (range, step) = match body.split_once(':') {
        Some((range, step)) => {
            let n = step
                .parse::<u64>()
                .ok()
                .filter(|&n| n > 0 && step.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| PatternError::BadStep(step.to_owned()))?;
            (range, n)
        }
        None => (body, 1),
    };
    let (first, last) = range.split_once('-').ok_or(PatternError::MissingEnd)?;
    if first.is_empty() || last.is_empty() {
        return Err(PatternError::MissingEnd);
    }
    let bad = || PatternError::BadRange(range.to_owned());
    let kind = |s: &str| {
        if s.bytes().all(|b| b.is_ascii_digit()) {
            Some(Digits::Decimal)
        } else if s.bytes().all(|b| b.is_ascii_lowercase()) {
            Some(Digits::Lower)
        } else if s.bytes().all(|b| b.is_ascii_uppercase()) {
            Some(Digits::Upper)
        } else {
            None
        }
    };
    let digits = kind(first)
        .filter(|&k| Some(k) == kind(last))
        .ok_or_else(bad)?;
    let value = |s: &str| -> Option<u64> {
        match digits {
            Digits::Decimal => s.parse().ok(),
            Digits::Lower | Digits::Upper => s.bytes().try_fold(0u64, |acc, b| {
                let zero = if digits == Digits::Lower { b'a' } else { b'A' };
                acc.checked_mul(26)?.checked_add(u64::from(b - zero))
            }),
        }
    };
    let (start, end) = (value(first).ok_or_else(bad)?, value(last).ok_or_else(bad)?);
    if start > end {
        return Err(PatternError::Backwards(range.to_owned()));
    }
    Ok(Counter {
        start,
        end,
        step,
        width: first.len(),
        digits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_and_counters_expand_like_an_odometer() {
        assert_eq!(
            expand("http://{sv1,sv2}/f[1-3].iso").unwrap(),
            [
                "http://sv1/f1.iso",
                "http://sv1/f2.iso",
                "http://sv1/f3.iso",
                "http://sv2/f1.iso",
                "http://sv2/f2.iso",
                "http://sv2/f3.iso",
            ]
        );
        assert_eq!(expand("plain").unwrap(), ["plain"]);
    }

    #[test]
    fn counters_keep_the_start_width_and_step() {
        assert_eq!(
            expand("i[000-010:4].img").unwrap(),
            ["i000.img", "i004.img", "i008.img"]
        );
        assert_eq!(expand("[8-11]").unwrap(), ["8", "9", "10", "11"]);
        assert_eq!(expand("[x-bb]").unwrap(), ["x", "y", "z", "ba", "bb"]);
        assert_eq!(expand("[AY-BA]").unwrap(), ["AY", "AZ", "BA"]);
    }

    #[test]
    fn bad_patterns_say_why() {
        assert_eq!(expand("a{b,c"), Err(PatternError::Unclosed('{')));
        assert_eq!(expand("a[1-2"), Err(PatternError::Unclosed('[')));
        assert_eq!(expand("a{ , }"), Err(PatternError::EmptySelect));
        assert_eq!(expand("a[1-]"), Err(PatternError::MissingEnd));
        assert_eq!(expand("a[5]"), Err(PatternError::MissingEnd));
        assert_eq!(expand("a[1-5:x]"), Err(PatternError::BadStep("x".into())));
        assert_eq!(expand("a[1-5:0]"), Err(PatternError::BadStep("0".into())));
        assert_eq!(expand("a[1-z]"), Err(PatternError::BadRange("1-z".into())));
        assert_eq!(expand("a[a-Z]"), Err(PatternError::BadRange("a-Z".into())));
        assert_eq!(expand("a[9-1]"), Err(PatternError::Backwards("9-1".into())));
        assert_eq!(
            expand("[1-99999999999999999999999]"),
            Err(PatternError::BadRange("1-99999999999999999999999".into()))
        );
        assert_eq!(expand("[1-1000][1-1001]"), Err(PatternError::TooMany));
        // Found by the fuzzer: the whole of u64 in one counter.
        assert_eq!(
            expand("x/[0-18446744073709551615]"),
            Err(PatternError::TooMany)
        );
    }

    proptest::proptest! {
        #[test]
        fn the_count_is_what_iteration_gives(a in 0u64..30, n in 1u64..30, step in 1u64..5) {
            let p = Pattern::parse(&format!("x{{p,q}}[{a}-{}:{step}]", a + n)).unwrap();
            proptest::prop_assert_eq!(p.iter().count() as u64, p.count());
        }
    }
}
