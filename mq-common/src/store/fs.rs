//! File system steps of the file store: private files and directories
//! (0600 / 0700 on unix), and files replaced atomically.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use super::StoreError;

/// Maps an I/O error of `action` on `path` to a [`StoreError::Io`].
pub(super) fn io_error<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// Options that create files readable by the owner only.
pub(super) fn options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// Creates `path` and missing parents, open to the owner only.
pub(super) fn create_dir(path: &Path) -> Result<(), StoreError> {
    let mut builder = DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path).map_err(io_error("create", path))
}

/// Opens `path` to read it and append to it.
pub(super) fn open_append(path: &Path) -> Result<File, StoreError> {
    options()
        .read(true)
        .append(true)
        .open(path)
        .map_err(io_error("open", path))
}

/// What `path` holds, or `None` when there is no such file.
pub(super) fn read_if_present(path: &Path) -> Result<Option<Vec<u8>>, StoreError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error("read", path)(e)),
    }
}

/// Removes `path` if it exists.
pub(super) fn remove_if_present(path: &Path) -> Result<(), StoreError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_error("remove", path)(e)),
        _ => Ok(()),
    }
}

/// Writes `bytes` to the file `name` in `dir` and syncs it.
pub(super) fn write_synced(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
    let path = dir.join(name);
    let mut file = options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .map_err(io_error("create", &path))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(io_error("write", &path))
}

/// Renames `from` over `to` in `dir`, atomically, and syncs `dir` so the
/// rename survives a crash.
pub(super) fn install(dir: &Path, from: &str, to: &str) -> Result<(), StoreError> {
    let target = dir.join(to);
    std::fs::rename(dir.join(from), &target).map_err(io_error("rename onto", &target))?;
    sync_dir(dir)
}

/// Makes the entries of `dir` durable (a no-op where directories cannot be
/// opened as files).
pub(super) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error("sync", dir))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}
