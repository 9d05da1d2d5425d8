//! File names that are safe to join onto a download directory.
//!
//! RFC 5854 §4.1.2.1 says a name "MUST be relative" and must not begin with `/`, `./`
//! or `../`, contain `/../` or end with `/..`. This module enforces that and more,
//! because the same document may be opened on Windows: a backslash also separates
//! components, a drive letter makes a path absolute, and control characters have no
//! business in a file name.

use std::fmt;

/// A relative path from a document, checked so that joining it onto a directory can
/// never leave that directory.
///
/// Components are separated by `/`. The name is non-empty, and no component is empty,
/// `.`, or `..`; there is no backslash, no drive letter, and no control character
/// (C0, DEL or C1) or other character XML cannot carry.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileName(String);

/// Why a file name was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnsafeName {
    /// The name is empty.
    Empty,
    /// The name starts with `/` or `\` (absolute or UNC path).
    Absolute,
    /// The name starts with a drive letter such as `C:`.
    DriveLetter,
    /// A component is `..`.
    ParentComponent,
    /// A component is `.` (RFC 5854 forbids a leading `./`; elsewhere it is noise that
    /// would make two names for one file).
    CurrentComponent,
    /// Two separators in a row, or a trailing separator.
    EmptyComponent,
    /// A backslash, which Windows treats as a separator.
    Backslash,
    /// A NUL byte.
    Nul,
    /// A control character other than NUL, or a character XML 1.0 cannot carry.
    ControlCharacter,
}

impl fmt::Display for UnsafeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UnsafeName::Empty => "the name is empty",
            UnsafeName::Absolute => "absolute paths are not allowed",
            UnsafeName::DriveLetter => "drive letters are not allowed",
            UnsafeName::ParentComponent => "`..` components are not allowed",
            UnsafeName::CurrentComponent => "`.` components are not allowed",
            UnsafeName::EmptyComponent => "empty path components are not allowed",
            UnsafeName::Backslash => "backslashes are not allowed",
            UnsafeName::Nul => "NUL characters are not allowed",
            UnsafeName::ControlCharacter => "control characters are not allowed",
        })
    }
}

impl std::error::Error for UnsafeName {}

impl FileName {
    /// Checks `name` and wraps it.
    pub fn new(name: &str) -> Result<FileName, UnsafeName> {
        check(name)?;
        Ok(FileName(name.to_owned()))
    }

    /// The name as written, with `/` separators.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path components, none of them empty, `.` or `..`.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl AsRef<str> for FileName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

fn check(name: &str) -> Result<(), UnsafeName> {
    if name.is_empty() {
        return Err(UnsafeName::Empty);
    }
    // Characters first: a NUL or a control character can make the later checks see a
    // different path than the operating system would.
    for c in name.chars() {
        if c == '\0' {
            return Err(UnsafeName::Nul);
        }
        if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' {
            return Err(UnsafeName::ControlCharacter);
        }
    }
    if name.starts_with('/') || name.starts_with('\\') {
        return Err(UnsafeName::Absolute);
    }
    let bytes = name.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return Err(UnsafeName::DriveLetter);
    }
    // Components are judged with both separators so that `a\..\b` is caught as a
    // parent component rather than only as a backslash.
    for component in name.split(['/', '\\']) {
        match component {
            "" => return Err(UnsafeName::EmptyComponent),
            "." => return Err(UnsafeName::CurrentComponent),
            ".." => return Err(UnsafeName::ParentComponent),
            _ => {}
        }
    }
    if name.contains('\\') {
        return Err(UnsafeName::Backslash);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_pass() {
        for ok in [
            "example.ext",
            "dir/sub/file.iso",
            "..hidden",
            "a..b",
            "Ünïcode ファイル.txt",
            "notes:2024.txt",
        ] {
            assert_eq!(FileName::new(ok).map(|n| n.to_string()), Ok(ok.to_owned()));
        }
    }

    #[test]
    fn each_unsafe_shape_is_refused_with_its_reason() {
        let cases = [
            ("", UnsafeName::Empty),
            ("/etc/passwd", UnsafeName::Absolute),
            ("\\\\server\\share", UnsafeName::Absolute),
            ("C:evil", UnsafeName::DriveLetter),
            ("c:\\windows\\x", UnsafeName::DriveLetter),
            ("../x", UnsafeName::ParentComponent),
            ("a/../../x", UnsafeName::ParentComponent),
            ("a/..", UnsafeName::ParentComponent),
            ("a\\..\\x", UnsafeName::ParentComponent),
            ("./x", UnsafeName::CurrentComponent),
            ("a//b", UnsafeName::EmptyComponent),
            ("dir/", UnsafeName::EmptyComponent),
            ("a\\b", UnsafeName::Backslash),
            ("a\0b", UnsafeName::Nul),
            ("a\nb", UnsafeName::ControlCharacter),
            ("a\u{7f}b", UnsafeName::ControlCharacter),
            ("a\u{85}b", UnsafeName::ControlCharacter),
            ("a\u{ffff}", UnsafeName::ControlCharacter),
        ];
        for (name, reason) in cases {
            assert_eq!(FileName::new(name), Err(reason), "{name:?}");
        }
    }

    #[test]
    fn components_split_on_slash() {
        let n = FileName::new("a/b/c").unwrap();
        assert_eq!(n.components().collect::<Vec<_>>(), ["a", "b", "c"]);
    }
}
