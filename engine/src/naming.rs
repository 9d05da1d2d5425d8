//! Where a download's bytes go: the output name, kept inside `--dir`, and aria2's
//! rules for a file that already exists.
//!
//! Deciding a name looks at the file system (does the file exist, is there a control
//! file, which `name.N.ext` is free) and opening it may create directories, so
//! [`prepare`] runs on the disk thread: a slow or network file system stalls that
//! download's start, never the loop that serves every other connection.

use std::fs::File;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use crate::control::{ControlState, control_path};
use crate::error::{Error, ErrorCode};

/// Joins `name` (from `-o`, Content-Disposition or the URI) under `dir`, refusing any
/// name that would leave it: absolute paths, `..`, empty components. `-o` may name a
/// subdirectory (`-o sub/file`), as in aria2.
pub fn output_path(dir: &Path, name: &str) -> Result<PathBuf, Error> {
    let bad = || {
        Error::new(
            ErrorCode::CreateFile,
            format!("refusing output name `{name}`: it leaves --dir"),
        )
    };
    if name.is_empty() || name.contains('\0') {
        return Err(bad());
    }
    let mut path = dir.to_path_buf();
    for c in Path::new(name).components() {
        match c {
            Component::Normal(part) => path.push(part),
            Component::CurDir => {}
            _ => return Err(bad()),
        }
    }
    if path == dir {
        return Err(bad());
    }
    Ok(path)
}

/// What to do about the output file before the first byte is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// Resume from the control file beside `path`.
    FromControl(PathBuf),
    /// `-c` without a control file: the first `len` bytes of `path` are kept.
    Sequential(PathBuf, u64),
    /// Start from nothing at `path` (truncating whatever is there).
    Fresh(PathBuf),
}

/// The choice aria2 makes for an output path (its `RequestGroup` start-up rules):
/// a control file means resume; a file without one is continued with `-c`,
/// overwritten with `--allow-overwrite`, or sidestepped with `--auto-file-renaming`
/// (`name.1.ext` … `name.9999.ext`); otherwise it is an error (exit code 13).
pub fn decide(
    path: PathBuf,
    continue_: bool,
    allow_overwrite: bool,
    auto_rename: bool,
) -> Result<Start, Error> {
    let exists = path.exists();
    let control = control_path(&path);
    if control.exists() {
        if exists {
            return Ok(Start::FromControl(path));
        }
        // A control file without its data is stale.
        let _ = std::fs::remove_file(&control);
    }
    if !exists {
        return Ok(Start::Fresh(path));
    }
    if continue_ {
        let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        return Ok(Start::Sequential(path, len));
    }
    if allow_overwrite {
        return Ok(Start::Fresh(path));
    }
    if auto_rename {
        for n in 1..=9999 {
            let candidate = numbered(&path, n);
            if !candidate.exists() {
                return Ok(Start::Fresh(candidate));
            }
        }
        return Err(Error::new(
            ErrorCode::RenameFailed,
            format!("no free name for {}", path.display()),
        ));
    }
    Err(Error::new(
        ErrorCode::FileExists,
        format!(
            "file {} exists, but a control file does not; use --allow-overwrite=true or -c",
            path.display()
        ),
    ))
}

/// What [`prepare`] is asked to settle for one download's output file.
#[derive(Debug, Clone)]
pub struct OutputRequest {
    /// The path the name gives (already inside `--dir`).
    pub path: PathBuf,
    /// `--remove-control-file`: delete the control file first.
    pub remove_control: bool,
    /// `-c` (or `-V`, which keeps the bytes to check them).
    pub continue_: bool,
    /// `--allow-overwrite`.
    pub allow_overwrite: bool,
    /// `--auto-file-renaming`.
    pub auto_rename: bool,
    /// `--remote-time`: a continued file's modification time is wanted.
    pub remote_time: bool,
    /// `--dry-run`: decide, but create and open nothing.
    pub dry_run: bool,
}

/// What [`prepare`] found and did.
#[derive(Debug)]
pub struct Prepared {
    /// The path chosen (renamed under `--auto-file-renaming`).
    pub path: PathBuf,
    /// How the download starts.
    pub origin: Origin,
    /// The open file (read and write), or `None` under `--dry-run`.
    pub file: Option<Arc<File>>,
}

/// Where a prepared download's bytes start from.
#[derive(Debug)]
pub enum Origin {
    /// A control file is beside the file: its record (`Ok(None)`: empty), or why it
    /// could not be read.
    Control(Result<Option<ControlState>, String>),
    /// `-c` without a control file: the first `len` bytes are kept; `mtime` is the
    /// file's time when `--remote-time` asked for it.
    Sequential {
        /// Bytes already there.
        len: u64,
        /// The file's modification time.
        mtime: Option<SystemTime>,
    },
    /// Nothing kept (the file was created or truncated).
    Fresh,
}

/// Decides the output file of `req` by aria2's rules ([`decide`]), reads its control
/// file, and creates its directory and opens it. File-system work only: it runs on
/// the disk thread.
pub fn prepare(req: &OutputRequest) -> Result<Prepared, Error> {
    if req.remove_control {
        let _ = std::fs::remove_file(control_path(&req.path));
    }
    let start = decide(
        req.path.clone(),
        req.continue_,
        req.allow_overwrite,
        req.auto_rename,
    )?;
    let (path, origin) = match start {
        Start::FromControl(path) => {
            let record = ControlState::load(&control_path(&path)).map_err(|e| e.to_string());
            (path, Origin::Control(record))
        }
        Start::Sequential(path, len) => {
            let mtime = (req.remote_time && len > 0)
                .then(|| std::fs::metadata(&path).and_then(|m| m.modified()).ok())
                .flatten();
            (path, Origin::Sequential { len, mtime })
        }
        Start::Fresh(path) => (path, Origin::Fresh),
    };
    if req.dry_run {
        return Ok(Prepared {
            path,
            origin,
            file: None,
        });
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::new(ErrorCode::CreateDir, format!("{}: {e}", dir.display())))?;
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(matches!(origin, Origin::Fresh))
        .open(&path)
        .map_err(|e| Error::new(ErrorCode::CreateFile, format!("{}: {e}", path.display())))?;
    Ok(Prepared {
        path,
        origin,
        file: Some(Arc::new(file)),
    })
}

/// `dir/name.ext` → `dir/name.N.ext` (aria2's renaming scheme).
fn numbered(path: &Path, n: u32) -> PathBuf {
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let renamed = match name.rfind('.').filter(|&i| i > 0) {
        Some(dot) => format!("{}.{n}{}", &name[..dot], &name[dot..]),
        None => format!("{name}.{n}"),
    };
    path.with_file_name(renamed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_never_leave_dir() {
        let dir = Path::new("/d");
        assert_eq!(output_path(dir, "a.iso").unwrap(), Path::new("/d/a.iso"));
        assert_eq!(
            output_path(dir, "sub/a.iso").unwrap(),
            Path::new("/d/sub/a.iso")
        );
        for bad in ["../x", "/etc/passwd", "a/../../x", "", ".", "a\0b"] {
            assert!(output_path(dir, bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn renaming_follows_aria2() {
        assert_eq!(
            numbered(Path::new("/d/a.tar.gz"), 1),
            Path::new("/d/a.tar.1.gz")
        );
        assert_eq!(numbered(Path::new("/d/file"), 2), Path::new("/d/file.2"));
        assert_eq!(
            numbered(Path::new("/d/.hidden"), 3),
            Path::new("/d/.hidden.3")
        );
    }

    #[test]
    fn existing_file_rules() {
        let dir = std::env::temp_dir().join(format!("swarmget-naming-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("f.bin");
        assert_eq!(
            decide(f.clone(), false, false, false).unwrap(),
            Start::Fresh(f.clone())
        );
        std::fs::write(&f, b"12345").unwrap();
        assert_eq!(
            decide(f.clone(), false, false, false).unwrap_err().code,
            ErrorCode::FileExists
        );
        assert_eq!(
            decide(f.clone(), true, false, true).unwrap(),
            Start::Sequential(f.clone(), 5)
        );
        assert_eq!(
            decide(f.clone(), false, true, true).unwrap(),
            Start::Fresh(f.clone())
        );
        assert_eq!(
            decide(f.clone(), false, false, true).unwrap(),
            Start::Fresh(dir.join("f.1.bin"))
        );
        std::fs::write(control_path(&f), b"x").unwrap();
        assert_eq!(
            decide(f.clone(), false, false, false).unwrap(),
            Start::FromControl(f.clone())
        );
        std::fs::remove_file(&f).unwrap();
        assert_eq!(
            decide(f.clone(), false, false, false).unwrap(),
            Start::Fresh(f.clone())
        );
        assert!(!control_path(&f).exists(), "stale control file removed");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
