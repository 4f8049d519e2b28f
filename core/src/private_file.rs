//! Files that hold password hashes (the store, exports) are created readable
//! and writable by their owner only: mode 0600 on Unix. An existing file's
//! mode is left as it is (never loosened, nor tightened behind the owner's
//! back). Elsewhere the platform's defaults apply.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// The mode of a new file that holds password hashes.
#[cfg(unix)]
pub const PRIVATE_MODE: u32 = 0o600;

/// Options that create a new file (never an existing one) with mode 0600.
pub fn create_new_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(PRIVATE_MODE);
    }
    options
}

/// Creates `path` empty with mode 0600 when it does not exist, so that redb
/// opens a file only its owner can read; an existing file is left alone. A
/// failure is left for the open that follows to report (a missing folder,
/// no right to write there) in its own words, but for one: a link whose
/// target does not exist, which the exclusive create refuses and redb's
/// open would follow, creating the target with the default mode (and
/// where the link's maker chose). It is refused here.
pub fn ensure(path: &Path) -> io::Result<()> {
    match create_new_options().open(path) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
            if link && std::fs::metadata(path).is_err() {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!(
                        "{} is a link to a file that does not exist: roster creates a new \
                         store only as a file of its own",
                        path.display()
                    ),
                ));
            }
            Ok(())
        }
        Ok(_) => {
            sync_folder(path);
            Ok(())
        }
        Err(_) => Ok(()),
    }
}

/// Makes the entry of the file just created (or named) at `path` durable: syncing a
/// file makes its bytes durable, not its name in the folder, so a power
/// loss could take a new store or journal away with the commits in it.
/// Best effort: some file systems refuse to sync a folder, and the file's
/// own syncs still hold there.
pub(crate) fn sync_folder(path: &Path) {
    #[cfg(unix)]
    {
        let folder = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let _ = File::open(folder).and_then(|f| f.sync_all());
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Creates a new file at `path` (which must not exist) with mode 0600.
pub fn create_new(path: &Path) -> io::Result<File> {
    create_new_options().open(path)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_files_are_the_owners_only_and_old_ones_keep_their_mode() {
        let dir = std::env::temp_dir().join(format!("roster-private-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let new = dir.join("new.redb");
        let _ = std::fs::remove_file(&new);
        ensure(&new).unwrap();
        assert_eq!(mode(&new), 0o600);
        let old = dir.join("old.redb");
        std::fs::write(&old, b"x").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o640)).unwrap();
        ensure(&old).unwrap();
        assert_eq!(mode(&old), 0o640, "an existing file keeps its mode");
        assert_eq!(std::fs::read(&old).unwrap(), b"x", "and its bytes");
        assert!(
            create_new(&old).is_err(),
            "create_new never opens an existing file"
        );
        // A link to a missing file: refused, and nothing made at its target.
        let target = dir.join("elsewhere.redb");
        let link = dir.join("link.redb");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = ensure(&link).unwrap_err();
        assert!(
            err.to_string()
                .contains("a link to a file that does not exist"),
            "{err}"
        );
        assert!(!target.exists(), "the link's target was created");
        // A link to an existing file is that file.
        std::os::unix::fs::symlink(&old, dir.join("to-old.redb")).unwrap();
        ensure(&dir.join("to-old.redb")).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
