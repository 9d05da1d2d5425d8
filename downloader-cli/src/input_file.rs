//! aria2's input file (`-i`), read one entry at a time.
//!
//! A line of TAB-separated URIs is one download; indented `name=value` lines after it
//! are its options; blank lines and lines starting with `#` are skipped anywhere.
//!
//! [`InputReader`] holds one entry and one line of lookahead, never the file, so a
//! list of a million URIs is read as downloads are handed to the engine (aria2 reads
//! the whole file first unless `--deferred-input`, its issue #902). A bad line is an
//! error for its entry only; the reader goes on with the next one, and the caller
//! decides whether that ends the run.

use std::io::BufRead;

/// One download from an input file: mirrors and per-download option lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputEntry {
    /// Mirrors of one file.
    pub uris: Vec<String>,
    /// `name=value` lines that followed, indented.
    pub options: Vec<(String, String)>,
}

/// The entries of an input file, in order.
pub struct InputReader<R> {
    source: R,
    /// What the file is called in error messages (`-` for stdin).
    name: String,
    /// The line read ahead (the next entry's URI line), with its number.
    peeked: Option<(usize, String)>,
    /// Lines read so far.
    line: usize,
    /// A read error ended the file.
    failed: bool,
}

impl<R: BufRead> InputReader<R> {
    /// Reads entries from `source`, calling it `name` in read errors.
    pub fn new(source: R, name: &str) -> InputReader<R> {
        InputReader {
            source,
            name: name.to_owned(),
            peeked: None,
            line: 0,
            failed: false,
        }
    }

    /// The next line that is neither blank nor a comment, with its number.
    fn next_line(&mut self) -> Option<Result<(usize, String), String>> {
        if let Some(peeked) = self.peeked.take() {
            return Some(Ok(peeked));
        }
        if self.failed {
            return None;
        }
        let mut text = String::new();
        loop {
            text.clear();
            match self.source.read_line(&mut text) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    self.failed = true;
                    return Some(Err(format!("{}: {e}", self.name)));
                }
            }
            self.line += 1;
            let line = text.trim_end_matches(['\n', '\r']);
            let content = line.trim();
            if !content.is_empty() && !content.starts_with('#') {
                return Some(Ok((self.line, line.to_owned())));
            }
        }
    }
}

fn is_option_line(line: &str) -> bool {
    line.starts_with([' ', '\t'])
}

impl<R: BufRead> Iterator for InputReader<R> {
    type Item = Result<InputEntry, String>;

    fn next(&mut self) -> Option<Self::Item> {
        let (n, line) = match self.next_line()? {
            Ok(l) => l,
            Err(e) => return Some(Err(e)),
        };
        if is_option_line(&line) {
            return Some(Err(format!("input line {n}: option before any URI")));
        }
        let mut entry = InputEntry {
            uris: line
                .split('\t')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            options: Vec::new(),
        };
        // The first bad option line is the entry's error, once all its lines are read
        // (so the next entry starts at its own URI line).
        let mut error = None;
        loop {
            let (n, line) = match self.next_line() {
                None => break,
                Some(Err(e)) => return Some(Err(e)),
                Some(Ok(l)) => l,
            };
            if !is_option_line(&line) {
                self.peeked = Some((n, line));
                break;
            }
            match line.trim().split_once('=') {
                Some((name, value)) => entry
                    .options
                    .push((name.trim().to_string(), value.to_string())),
                None => {
                    error.get_or_insert_with(|| format!("input line {n}: expected name=value"));
                }
            }
        }
        Some(match error {
            Some(e) => Err(e),
            None => Ok(entry),
        })
    }
}

/// Parses input-file text whole (see [`InputReader`]); the first error ends it.
#[cfg(test)]
pub fn parse_input(text: &str) -> Result<Vec<InputEntry>, String> {
    InputReader::new(text.as_bytes(), "input").collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_with_options_and_comments() {
        let text =
            "# list\nhttp://a/f\thttp://b/f\n  out=f.bin\n# between\n\n\tsplit=2\nhttp://c/g\r\n";
        let entries = parse_input(text).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].uris, ["http://a/f", "http://b/f"]);
        assert_eq!(
            entries[0].options,
            [
                ("out".to_string(), "f.bin".to_string()),
                ("split".to_string(), "2".to_string())
            ]
        );
        assert_eq!(entries[1].uris, ["http://c/g"]);
        assert!(entries[1].options.is_empty());
    }

    #[test]
    fn a_bad_line_is_its_entrys_error_and_reading_goes_on() {
        let text = "  out=x\nhttp://a/f\n  out\n  split=2\nhttp://b/g\n";
        let results: Vec<_> = InputReader::new(text.as_bytes(), "list").collect();
        assert_eq!(
            results,
            [
                Err("input line 1: option before any URI".to_string()),
                Err("input line 3: expected name=value".to_string()),
                Ok(InputEntry {
                    uris: vec!["http://b/g".into()],
                    options: vec![]
                }),
            ]
        );
    }

    #[test]
    fn a_million_lines_are_read_one_entry_at_a_time() {
        // A source that makes its lines as they are read: the reader must not ask for
        // more than the entry it returns and one line of lookahead.
        struct Lines {
            made: usize,
            buf: Vec<u8>,
            at: usize,
        }
        impl std::io::Read for Lines {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                let n = std::io::BufRead::fill_buf(self)?.len().min(out.len());
                out[..n].copy_from_slice(&self.buf[self.at..self.at + n]);
                self.at += n;
                Ok(n)
            }
        }
        impl BufRead for Lines {
            fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
                if self.at == self.buf.len() && self.made < 1_000_000 {
                    self.made += 1;
                    self.buf = format!("http://h/{}\n", self.made).into_bytes();
                    self.at = 0;
                }
                Ok(&self.buf[self.at..])
            }
            fn consume(&mut self, n: usize) {
                self.at += n;
            }
        }
        let mut reader = InputReader::new(
            Lines {
                made: 0,
                buf: Vec::new(),
                at: 0,
            },
            "gen",
        );
        let first = reader.next().unwrap().unwrap();
        assert_eq!(first.uris, ["http://h/1"]);
        assert_eq!(reader.source.made, 2, "read past one line of lookahead");
        assert_eq!(reader.count(), 999_999);
    }
}
