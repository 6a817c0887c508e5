//! Where bytes go: stdout, or a temporary file beside `--out` renamed into place on finish
//! (or, when `--out` is a device or a FIFO such as `/dev/null`, that itself: renaming a file
//! over `/dev/null` would replace the device for the whole machine).
//!
//! Sinks hand over whole rows; they are batched and written only at row boundaries, so a
//! reader never sees half a row from us.

use crate::OutputError;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Rows are batched up to this many bytes before a write.
const BATCH: usize = 64 * 1024;

enum Target {
    Stdout(Box<dyn Write + Send>),
    /// `--out` names something that is not a regular file (`/dev/null`, a FIFO, a terminal):
    /// written to directly, never replaced by a renamed file.
    Special(std::fs::File),
    File {
        tmp: tempfile::NamedTempFile,
        path: PathBuf,
    },
}

pub(crate) struct Dest {
    target: Target,
    buf: Vec<u8>,
}

impl Dest {
    /// Creates the temporary file now, so an unwritable `--out` fails before any work.
    pub fn open(out: Option<&Path>, stdout: Box<dyn Write + Send>) -> Result<Dest, OutputError> {
        let special = out.is_some_and(|p| std::fs::metadata(p).is_ok_and(|m| !m.is_file() && !m.is_dir()));
        let target = match out {
            None => Target::Stdout(stdout),
            Some(path) if special => {
                Target::Special(std::fs::OpenOptions::new().write(true).open(path).map_err(|source| {
                    OutputError::Create {
                        path: path.to_owned(),
                        source,
                    }
                })?)
            }
            Some(path) => Target::File {
                tmp: temp_beside(path).map_err(|source| OutputError::Create {
                    path: path.to_owned(),
                    source,
                })?,
                path: path.to_owned(),
            },
        };
        Ok(Dest {
            target,
            buf: Vec::with_capacity(BATCH),
        })
    }

    /// Queues whole rows' bytes.
    pub fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= BATCH {
            self.write_out()?;
        }
        Ok(())
    }

    fn inner(&mut self) -> &mut dyn Write {
        match &mut self.target {
            Target::Stdout(w) => w,
            Target::Special(f) => f,
            Target::File { tmp, .. } => tmp.as_file_mut(),
        }
    }

    fn write_out(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            let buf = std::mem::take(&mut self.buf);
            let r = self.inner().write_all(&buf);
            self.buf = buf;
            self.buf.clear();
            r?;
        }
        Ok(())
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.write_out()?;
        self.inner().flush()
    }

    /// Writes what is queued; a file is synced and renamed to its final name.
    pub fn finish(mut self) -> std::io::Result<()> {
        self.flush()?;
        match self.target {
            Target::Stdout(_) | Target::Special(_) => Ok(()),
            Target::File { tmp, path } => {
                tmp.as_file().sync_all()?;
                tmp.persist(&path).map_err(|e| e.error)?;
                Ok(())
            }
        }
    }

    /// Writes a finished document (xlsx) in one go, then finishes.
    pub fn finish_with(mut self, write: impl FnOnce(&mut dyn WriteSeek) -> std::io::Result<()>) -> std::io::Result<()> {
        self.flush()?;
        match &mut self.target {
            Target::Stdout(w) => {
                let mut doc = std::io::Cursor::new(Vec::new());
                write(&mut doc)?;
                w.write_all(doc.get_ref())?;
            }
            Target::Special(f) => {
                let mut doc = std::io::Cursor::new(Vec::new());
                write(&mut doc)?;
                f.write_all(doc.get_ref())?;
            }
            Target::File { tmp, .. } => write(tmp.as_file_mut())?,
        }
        self.finish()
    }
}

/// A seekable writer (xlsx is a zip archive).
pub(crate) trait WriteSeek: Write + std::io::Seek + Send {}
impl<T: Write + std::io::Seek + Send> WriteSeek for T {}

/// `.NAME.XXXXXX.partial` in the target's directory (same file system, so the rename is
/// atomic); created with the usual 0666-less-umask permissions, not tempfile's 0600.
fn temp_beside(path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{name}.");
    let mut b = tempfile::Builder::new();
    b.prefix(&prefix).suffix(".partial");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o666));
    }
    b.tempfile_in(dir)
}
