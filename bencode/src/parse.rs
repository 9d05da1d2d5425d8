//! The parser behind [`Decoder`](crate::Decoder).
//!
//! It is iterative: open lists and dictionaries live on an explicit stack, so nesting costs
//! heap, not call stack, and the depth limit is a policy rather than a safety net. Children
//! of open containers collect on two shared scratch vectors; closing a container moves its
//! children out into a vector of exactly their number. No length or count read from the
//! input is ever used to reserve memory, and byte strings are never copied.

use crate::{Dict, Error, ErrorKind, Kind, Value, Warning, WarningKind};

/// An open container.
enum Frame<'a> {
    List {
        /// Offset of the `l`.
        start: usize,
        /// Where this list's items begin on the item scratch.
        base: usize,
    },
    Dict {
        /// Offset of the `d`.
        start: usize,
        /// Where this dictionary's entries begin on the entry scratch.
        base: usize,
        /// A key read whose value has not been read yet.
        pending_key: Option<&'a [u8]>,
        /// No key so far was smaller than the one before it.
        sorted: bool,
    },
}

pub(crate) struct Parser<'a, 'w> {
    input: &'a [u8],
    pos: usize,
    lenient: bool,
    max_depth: usize,
    warnings: &'w mut Vec<Warning>,
}

impl<'a, 'w> Parser<'a, 'w> {
    pub(crate) fn new(
        input: &'a [u8],
        lenient: bool,
        max_depth: usize,
        warnings: &'w mut Vec<Warning>,
    ) -> Self {
        Self {
            input,
            pos: 0,
            lenient,
            max_depth,
            warnings,
        }
    }

    /// Parses one value starting at offset 0. It ends at `value.span().end`; whatever
    /// follows is the caller's business.
    pub(crate) fn parse(mut self) -> Result<Value<'a>, Error> {
        let mut stack: Vec<Frame<'a>> = Vec::new();
        let mut items: Vec<Value<'a>> = Vec::new();
        let mut entries: Vec<(&'a [u8], Value<'a>)> = Vec::new();

        loop {
            let start = self.pos;
            let byte = self.byte_at(start)?;

            // Inside a dictionary, every other item is a key (until the closing `e`).
            if let Some(Frame::Dict {
                base,
                pending_key: pending @ None,
                sorted,
                ..
            }) = stack.last_mut().filter(|_| byte != b'e')
            {
                let key = self.key(byte)?;
                let previous = entries.get(*base..).and_then(<[_]>::last);
                if let Some(&(previous, _)) = previous {
                    self.check_key_order(previous, key, start, sorted)?;
                }
                *pending = Some(key);
                continue;
            }

            let value = match byte {
                b'i' => self.integer()?,
                b'0'..=b'9' => {
                    let bytes = self.byte_string()?;
                    self.value_from(start, Kind::Bytes(bytes))
                }
                b'l' | b'd' => {
                    if stack.len() >= self.max_depth {
                        return Err(Error::new(
                            ErrorKind::DepthLimitExceeded {
                                limit: self.max_depth,
                            },
                            start,
                        ));
                    }
                    self.pos += 1;
                    stack.push(if byte == b'l' {
                        Frame::List {
                            start,
                            base: items.len(),
                        }
                    } else {
                        Frame::Dict {
                            start,
                            base: entries.len(),
                            pending_key: None,
                            sorted: true,
                        }
                    });
                    continue;
                }
                b'e' => match stack.pop() {
                    Some(Frame::List { start: open, base }) => {
                        self.pos += 1;
                        let list = items.split_off(base.min(items.len()));
                        self.value_from(open, Kind::List(list))
                    }
                    Some(Frame::Dict {
                        pending_key: Some(_),
                        ..
                    }) => return Err(Error::new(ErrorKind::MissingDictValue, start)),
                    Some(Frame::Dict {
                        start: open,
                        base,
                        sorted,
                        ..
                    }) => {
                        self.pos += 1;
                        let dict = entries.split_off(base.min(entries.len()));
                        if !sorted {
                            self.warn_scattered_repeats(&dict);
                        }
                        self.value_from(open, Kind::Dict(Dict::new(dict, sorted)))
                    }
                    None => return Err(Error::new(ErrorKind::InvalidValueStart(byte), start)),
                },
                other => return Err(Error::new(ErrorKind::InvalidValueStart(other), start)),
            };

            match stack.last_mut() {
                None => return Ok(value),
                Some(Frame::List { .. }) => items.push(value),
                Some(Frame::Dict { pending_key, .. }) => {
                    // A value is only parsed in a dictionary once its key is pending.
                    if let Some(key) = pending_key.take() {
                        entries.push((key, value));
                    }
                }
            }
        }
    }

    fn byte_at(&self, at: usize) -> Result<u8, Error> {
        self.input
            .get(at)
            .copied()
            .ok_or_else(|| Error::new(ErrorKind::UnexpectedEof, self.input.len()))
    }

    /// The value whose bytes run from `start` to the current position.
    fn value_from(&self, start: usize, kind: Kind<'a>) -> Value<'a> {
        let raw = self.input.get(start..self.pos).unwrap_or_default();
        Value::new(raw, start, kind)
    }

    /// Strict mode turns a departure from canonical form into an error; lenient mode notes it.
    fn tolerate(&mut self, error: ErrorKind, warning: WarningKind, at: usize) -> Result<(), Error> {
        if self.lenient {
            self.warnings.push(Warning::new(warning, at));
            Ok(())
        } else {
            Err(Error::new(error, at))
        }
    }

    fn key(&mut self, byte: u8) -> Result<&'a [u8], Error> {
        match byte {
            b'0'..=b'9' => self.byte_string(),
            b'i' | b'l' | b'd' => Err(Error::new(ErrorKind::NonStringKey, self.pos)),
            other => Err(Error::new(ErrorKind::InvalidValueStart(other), self.pos)),
        }
    }

    /// Checks `key` (found at `at`) against the key before it in the same dictionary.
    fn check_key_order(
        &mut self,
        previous: &[u8],
        key: &[u8],
        at: usize,
        sorted: &mut bool,
    ) -> Result<(), Error> {
        match previous.cmp(key) {
            core::cmp::Ordering::Less => Ok(()),
            core::cmp::Ordering::Equal => {
                self.tolerate(ErrorKind::DuplicateKey, WarningKind::DuplicateKey, at)
            }
            core::cmp::Ordering::Greater => {
                *sorted = false;
                self.tolerate(ErrorKind::UnsortedKey, WarningKind::UnsortedKey, at)
            }
        }
    }

    /// In an unsorted dictionary a key can repeat one that is not its neighbour; those
    /// repeats escaped the neighbour check while parsing, so find them now.
    fn warn_scattered_repeats(&mut self, entries: &[(&'a [u8], Value<'a>)]) {
        let mut order: Vec<usize> = (0..entries.len()).collect();
        order.sort_by_key(|&i| entries.get(i).map(|(key, _)| *key));
        let key_of = |i: usize| entries.get(i).map(|(key, _)| *key);
        for pair in order.windows(2) {
            let &[earlier, later] = pair else { continue };
            let Some(key) = key_of(later) else { continue };
            // Same key as an earlier entry, but not its input neighbour (those were reported).
            let repeat = key_of(earlier) == Some(key);
            let neighbour_repeat = later
                .checked_sub(1)
                .is_some_and(|before| key_of(before) == Some(key));
            if repeat && !neighbour_repeat {
                let at = self.key_token_offset(key);
                self.warnings
                    .push(Warning::new(WarningKind::DuplicateKey, at));
            }
        }
    }

    /// Where the token of a key (a slice of the input) starts: its length prefix.
    fn key_token_offset(&self, key: &[u8]) -> usize {
        let content = (key.as_ptr() as usize).saturating_sub(self.input.as_ptr() as usize);
        let colon = content.saturating_sub(1);
        let digits = self
            .input
            .get(..colon)
            .unwrap_or_default()
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_digit())
            .count();
        colon - digits
    }

    /// An integer, `i…e`, starting at the current position (the `i`).
    fn integer(&mut self) -> Result<Value<'a>, Error> {
        let start = self.pos;
        let mut at = start + 1;
        let negative = self.input.get(at) == Some(&b'-');
        if negative {
            at += 1;
        }
        let digits_start = at;
        let mut n: i64 = 0;
        loop {
            match self.byte_at(at)? {
                b'e' => break,
                digit @ b'0'..=b'9' => {
                    let digit = i64::from(digit - b'0');
                    // Accumulating negative numbers downwards reaches i64::MIN without wrapping.
                    n = n
                        .checked_mul(10)
                        .and_then(|n| {
                            if negative {
                                n.checked_sub(digit)
                            } else {
                                n.checked_add(digit)
                            }
                        })
                        .ok_or(Error::new(ErrorKind::IntegerOverflow, start))?;
                    at += 1;
                }
                other => return Err(Error::new(ErrorKind::InvalidIntegerByte(other), at)),
            }
        }
        let digits = at - digits_start;
        if digits == 0 {
            return Err(Error::new(ErrorKind::EmptyInteger, start));
        }
        if digits > 1 && self.input.get(digits_start) == Some(&b'0') {
            self.tolerate(
                ErrorKind::IntegerLeadingZero,
                WarningKind::IntegerLeadingZero,
                start,
            )?;
        }
        if negative && n == 0 {
            self.tolerate(ErrorKind::NegativeZero, WarningKind::NegativeZero, start)?;
        }
        self.pos = at + 1;
        Ok(self.value_from(start, Kind::Int(n)))
    }

    /// A byte string, `len:bytes`, starting at the current position (the first digit).
    /// Borrows the input; the declared length is checked against it before anything else.
    fn byte_string(&mut self) -> Result<&'a [u8], Error> {
        let start = self.pos;
        let mut at = start;
        let mut len: usize = 0;
        loop {
            match self.byte_at(at)? {
                b':' => break,
                digit @ b'0'..=b'9' => {
                    len = len
                        .checked_mul(10)
                        .and_then(|len| len.checked_add(usize::from(digit - b'0')))
                        .ok_or(Error::new(ErrorKind::LengthOverflow, start))?;
                    at += 1;
                }
                other => return Err(Error::new(ErrorKind::InvalidLengthByte(other), at)),
            }
        }
        if at - start > 1 && self.input.get(start) == Some(&b'0') {
            self.tolerate(
                ErrorKind::LengthLeadingZero,
                WarningKind::LengthLeadingZero,
                start,
            )?;
        }
        let body = at + 1;
        let rest = self.input.get(body..).unwrap_or_default();
        let bytes = rest.get(..len).ok_or(Error::new(
            ErrorKind::StringBeyondInput {
                declared: len,
                available: rest.len(),
            },
            start,
        ))?;
        self.pos = body + len;
        Ok(bytes)
    }
}
