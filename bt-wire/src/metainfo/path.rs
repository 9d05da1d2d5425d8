//! Path components from a torrent, checked before they can name a file.
//!
//! Invariant: every component that leaves this module is a single, non-empty name that
//! cannot climb out of (or be absolute outside) the directory it is joined to, on Unix or
//! on Windows: no `.`/`..`, no separators, no drive letter, no NUL, no device name.

use super::error::{MetainfoError, PathProblem};

/// Names Windows gives to devices; `CON.txt` is as reserved as `CON`.
const RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// What is wrong with `component`, if anything.
pub fn problem(component: &str) -> Option<PathProblem> {
    if component.is_empty() {
        return Some(PathProblem::Empty);
    }
    if component == "." {
        return Some(PathProblem::Dot);
    }
    if component == ".." {
        return Some(PathProblem::DotDot);
    }
    if component.contains(['/', '\\']) {
        return Some(PathProblem::Separator);
    }
    if component.contains('\0') {
        return Some(PathProblem::Nul);
    }
    let bytes = component.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return Some(PathProblem::DriveLetter);
    }
    // Windows ignores trailing dots and spaces and anything after the first dot.
    let stem = component.split('.').next().unwrap_or(component);
    let stem = stem.trim_end_matches([' ', '.']);
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(stem)) {
        return Some(PathProblem::ReservedName);
    }
    None
}

/// Checks every component of `path`, naming the whole path in the error.
pub fn check(path: &[String]) -> Result<(), MetainfoError> {
    if path.is_empty() {
        return Err(MetainfoError::EmptyPath);
    }
    for component in path {
        if let Some(problem) = problem(component) {
            return Err(MetainfoError::UnsafePath {
                path: path.join("/"),
                problem,
            });
        }
    }
    Ok(())
}

/// A name from the torrent as text: `.utf-8` variant first (BEP 3 clients write it when
/// the plain key is in a legacy encoding), then the plain key, replacing invalid UTF-8.
pub fn text(utf8: Option<&[u8]>, plain: &[u8]) -> String {
    if let Some(s) = utf8.and_then(|b| std::str::from_utf8(b).ok()) {
        return s.to_string();
    }
    String::from_utf8_lossy(plain).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_unsafe_component_is_named() {
        let cases = [
            ("", PathProblem::Empty),
            (".", PathProblem::Dot),
            ("..", PathProblem::DotDot),
            ("a/b", PathProblem::Separator),
            ("/etc", PathProblem::Separator),
            ("..\\x", PathProblem::Separator),
            ("C:", PathProblem::DriveLetter),
            ("c:evil", PathProblem::DriveLetter),
            ("a\0b", PathProblem::Nul),
            ("CON", PathProblem::ReservedName),
            ("nul.txt", PathProblem::ReservedName),
            ("Com1 ", PathProblem::ReservedName),
            ("lpt9.tar.gz", PathProblem::ReservedName),
        ];
        for (component, expected) in cases {
            assert_eq!(problem(component), Some(expected), "{component:?}");
        }
    }

    #[test]
    fn ordinary_names_pass() {
        for ok in [
            "a",
            "..a",
            "a..",
            ".hidden",
            "CONSOLE",
            "COM10",
            "ab:c",
            "über.txt",
        ] {
            assert_eq!(problem(ok), None, "{ok:?}");
        }
    }

    #[test]
    fn check_names_the_whole_path() {
        let path = vec!["dir".to_string(), "..".to_string(), "x".to_string()];
        assert_eq!(
            check(&path),
            Err(MetainfoError::UnsafePath {
                path: "dir/../x".into(),
                problem: PathProblem::DotDot
            })
        );
        assert_eq!(check(&[]), Err(MetainfoError::EmptyPath));
    }
}
