//! The server's file tree: absolute paths, and directories implied by files.

use std::collections::HashMap;
use std::sync::Arc;

/// `arg` resolved against the directory `cwd`, as a normalised absolute
/// path (`/`, `/a/b`): `.` and empty parts vanish, `..` goes up (never
/// above `/`).
pub(crate) fn resolve(cwd: &str, arg: &str) -> String {
    let mut parts: Vec<&str> = if arg.starts_with('/') {
        Vec::new()
    } else {
        cwd.split('/').filter(|p| !p.is_empty()).collect()
    };
    for part in arg.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            name => parts.push(name),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Whether `path` (normalised) is a directory: the root, `home`, or a
/// prefix of some file's path.
pub(crate) fn is_dir(files: &HashMap<String, Arc<[u8]>>, home: &str, path: &str) -> bool {
    let prefix = if path == "/" {
        "/".to_owned()
    } else {
        format!("{path}/")
    };
    path == "/"
        || path == home
        || home.starts_with(&prefix)
        || files.keys().any(|f| f.starts_with(&prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve() {
        assert_eq!(resolve("/", "a/b"), "/a/b");
        assert_eq!(resolve("/a", "b"), "/a/b");
        assert_eq!(resolve("/a/b", ".."), "/a");
        assert_eq!(resolve("/a", "../../.."), "/");
        assert_eq!(resolve("/a", "/x//y/./z"), "/x/y/z");
        assert_eq!(resolve("/", ""), "/");
    }

    #[test]
    fn directories_come_from_files() {
        let mut files: HashMap<String, Arc<[u8]>> = HashMap::new();
        files.insert("/pub/a/f".into(), Arc::from(&b"x"[..]));
        for dir in ["/", "/pub", "/pub/a", "/home", "/home/ftp"] {
            assert!(is_dir(&files, "/home/ftp", dir), "{dir}");
        }
        for not in ["/pub/a/f", "/pu", "/pub/b", "/home/f"] {
            assert!(!is_dir(&files, "/home/ftp", not), "{not}");
        }
    }
}
