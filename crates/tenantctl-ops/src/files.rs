//! Files holding secrets: created new (never overwriting, never through a symlink), 0600.

use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;

/// Creates `path` (which must not exist) readable by the owner only, and writes `text`.
/// Fails before writing anything when the file exists, so an earlier run's secrets are
/// never lost.
pub fn create_private_new(path: &Path, text: &str) -> Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(path).with_context(|| {
        if path.exists() {
            format!(
                "{} already exists; it may hold passwords of an earlier run, so it is never overwritten: give a new file name",
                path.display()
            )
        } else {
            format!("cannot create {}", path.display())
        }
    })?;
    f.write_all(text.as_bytes())
        .and_then(|_| f.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

/// Checks, before anything else happens, that `path` can be created new.
pub fn check_new(path: &Path) -> Result<()> {
    if path.exists() || path.symlink_metadata().is_ok() {
        anyhow::bail!(
            "--passwords-out {}: the file already exists; it may hold passwords of an earlier run, so it is never overwritten: give a new file name",
            path.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_existing_file_is_never_overwritten() {
        let dir = std::env::temp_dir().join(format!("tenantctl-files-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("pw.csv");
        create_private_new(&p, "a,b\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert!(check_new(&p).is_err());
        assert!(create_private_new(&p, "c,d\n").is_err());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "a,b\n");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
