//! Files replaced whole or not at all: written to a temporary file beside the final path, then
//! synced and renamed over it. A reader of the path sees the old file or the new one, never half
//! of one; a write that fails (or is dropped before [`AtomicFile::commit`]) removes its
//! temporary file and leaves whatever was at the path untouched.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The temporary file beside `path`: `NAME.tmp.PID`, so two processes never share one.
pub fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".tmp.{}", std::process::id()));
    path.with_file_name(name)
}

/// A file being written beside `path`; [`AtomicFile::commit`] puts it in place.
#[derive(Debug)]
pub struct AtomicFile {
    path: PathBuf,
    temp: PathBuf,
    /// `None` once committed.
    file: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Creates (or truncates) the temporary file for `path`; the directory must exist.
    pub fn create(path: &Path) -> std::io::Result<AtomicFile> {
        let temp = temp_path(path);
        let file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).open(&temp)?;
        Ok(AtomicFile { path: path.to_path_buf(), temp, file: Some(BufWriter::new(file)) })
    }

    /// Flushes and syncs the temporary file, renames it over the final path and syncs the
    /// directory, so that the rename itself survives a crash. On an error the temporary file is
    /// removed and the final path is as it was.
    pub fn commit(mut self) -> std::io::Result<()> {
        let result = (|| {
            let file = self.file.take().expect("an AtomicFile is committed once");
            let file = file.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            drop(file);
            std::fs::rename(&self.temp, &self.path)?;
            let dir = match self.path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir,
                _ => Path::new("."),
            };
            File::open(dir)?.sync_all()
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&self.temp);
        }
        result
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.as_mut().expect("not committed").write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.as_mut().expect("not committed").flush()
    }
}

impl Drop for AtomicFile {
    /// An uncommitted file is abandoned: its temporary file goes, the final path is untouched.
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdir::{listing, scratch};

    #[test]
    fn commit_replaces_the_file_and_leaves_no_temporary() {
        let dir = scratch("atomic-commit");
        let path = dir.join("out");
        std::fs::write(&path, "old").unwrap();
        let mut file = AtomicFile::create(&path).unwrap();
        file.write_all(b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"old", "the path is untouched until the commit");
        file.commit().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(listing(&dir), ["out"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_abandoned_file_leaves_nothing_and_the_old_file_whole() {
        let dir = scratch("atomic-abandon");
        let path = dir.join("out");
        let mut file = AtomicFile::create(&path).unwrap();
        file.write_all(b"half").unwrap();
        drop(file);
        assert!(listing(&dir).is_empty());
        std::fs::write(&path, "old").unwrap();
        drop(AtomicFile::create(&path).unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(listing(&dir), ["out"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_failed_rename_removes_the_temporary_file() {
        let dir = scratch("atomic-rename");
        // A non-empty directory at the final path makes the rename fail.
        let path = dir.join("out");
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("inside"), "x").unwrap();
        let mut file = AtomicFile::create(&path).unwrap();
        file.write_all(b"new").unwrap();
        assert!(file.commit().is_err());
        assert_eq!(listing(&dir), ["out"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
