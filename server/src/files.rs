//! Local files, for the config loader and the catalog alike: lexical path normalisation (Node's
//! `path.normalize` / `path.resolve`, without touching the file system) and bounded UTF-8 reads
//! that refuse directories, devices and files over a size limit.
//!
//! Hand-written because the standard library has no lexical normalisation (`canonicalize`
//! resolves links and needs the file to exist) and the read checks are a few lines.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// Removes `.` and `..` components without touching the file system (like `path.normalize`);
/// `..` above the root stays at the root, `..` above a relative start is kept.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::RootDir | Component::Prefix(_)) => {}
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                _ => out.push(".."),
            },
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `path` resolved against `base` (like Node's `path.resolve`): an absolute `path` as is,
/// otherwise joined to `base`, then [`normalize`]d.
pub fn resolve(base: &Path, path: &Path) -> PathBuf {
    normalize(&base.join(path))
}

/// Why a local file could not be read. Each names the file as given.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// Nothing at that path.
    #[error("file {0} does not exist")]
    NotFound(String),
    /// The path is a directory.
    #[error(
        "file {0} is a directory, not a YAML file (list the files, or use a glob like {0}/*.yaml)"
    )]
    Directory(String),
    /// Bigger than the limit: what, its size, the limit.
    #[error("{0} is {1} bytes, more than the {2}-byte limit; it was not read")]
    TooLarge(String, u64, u64),
    /// Not UTF-8 text: what, and the offset of the first invalid byte.
    #[error(
        "{0} is not UTF-8 text (invalid byte at offset {1}); catalog files must be UTF-8 YAML"
    )]
    NotUtf8(String, usize),
    /// The operating system refused the read, or the path is not a regular file.
    #[error("file {0} could not be read, {1}")]
    Io(String, String),
}

impl FileError {
    /// The reason alone, without the file's name (for messages that name it already).
    pub fn reason(&self) -> String {
        match self {
            FileError::NotFound(_) => "it does not exist".into(),
            FileError::Directory(_) => "it is a directory".into(),
            FileError::TooLarge(_, size, max) => {
                format!("it is {size} bytes, more than the {max}-byte limit")
            }
            FileError::NotUtf8(_, at) => {
                format!("it is not UTF-8 text (invalid byte at offset {at})")
            }
            FileError::Io(_, message) => message.clone(),
        }
    }

    /// The same error naming `shown` where it named `real` (a file read through its resolved
    /// path is reported under the path as written).
    pub fn renamed(self, real: &Path, shown: &Path) -> FileError {
        if real == shown {
            return self;
        }
        let (real, shown) = (real.to_string_lossy(), shown.to_string_lossy());
        let swap = |s: String| s.replace(real.as_ref(), shown.as_ref());
        match self {
            FileError::NotFound(p) => FileError::NotFound(swap(p)),
            FileError::Directory(p) => FileError::Directory(swap(p)),
            FileError::TooLarge(p, a, b) => FileError::TooLarge(swap(p), a, b),
            FileError::NotUtf8(p, n) => FileError::NotUtf8(swap(p), n),
            FileError::Io(p, m) => FileError::Io(swap(p), m),
        }
    }
}

/// Reads a local file as UTF-8 text, refusing directories, anything but a regular file, and
/// files over `max_bytes` (checked on the metadata before reading, and again while reading in
/// case the file grows).
pub fn read_text(path: &Path, max_bytes: u64) -> Result<String, FileError> {
    let shown = path.to_string_lossy().into_owned();
    let metadata = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(FileError::NotFound(shown))
        }
        Err(e) => return Err(FileError::Io(shown, e.to_string())),
    };
    if metadata.is_dir() {
        return Err(FileError::Directory(shown));
    }
    if !metadata.is_file() {
        // A FIFO or device could block or never end.
        return Err(FileError::Io(shown, "not a regular file".into()));
    }
    let too_large = |size: u64| FileError::TooLarge(format!("file {shown}"), size, max_bytes);
    if metadata.len() > max_bytes {
        return Err(too_large(metadata.len()));
    }
    let mut bytes = Vec::new();
    let file =
        std::fs::File::open(path).map_err(|e| FileError::Io(shown.clone(), e.to_string()))?;
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| FileError::Io(shown.clone(), e.to_string()))?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_large(bytes.len() as u64));
    }
    String::from_utf8(bytes)
        .map_err(|e| FileError::NotUtf8(format!("file {shown}"), e.utf8_error().valid_up_to()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_paths_lexically() {
        let cases = [
            ("/a/b/../c/./d.yaml", "/a/c/d.yaml"),
            ("/a/../../b", "/b"),
            ("a/../../b", "../b"),
        ];
        for (path, expected) in cases {
            assert_eq!(
                normalize(Path::new(path)),
                PathBuf::from(expected),
                "{path}"
            );
        }
        assert_eq!(
            resolve(Path::new("/etc/app"), Path::new("../x/./y.yaml")),
            PathBuf::from("/etc/x/y.yaml")
        );
        assert_eq!(
            resolve(Path::new("/etc/app"), Path::new("/abs/z.yaml")),
            PathBuf::from("/abs/z.yaml")
        );
    }

    #[test]
    fn reads_are_bounded_and_typed() {
        let dir = std::env::temp_dir().join(format!("greenroom-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("a.yaml");
        std::fs::write(&file, "0123456789").expect("write");
        assert_eq!(read_text(&file, 10).as_deref(), Ok("0123456789"));
        assert!(matches!(
            read_text(&file, 9),
            Err(FileError::TooLarge(_, 10, 9))
        ));
        assert!(matches!(read_text(&dir, 9), Err(FileError::Directory(_))));
        assert!(matches!(
            read_text(&dir.join("missing"), 9),
            Err(FileError::NotFound(_))
        ));
        std::fs::write(&file, [b'a', 0xff]).expect("write");
        assert!(matches!(
            read_text(&file, 10),
            Err(FileError::NotUtf8(_, 1))
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
