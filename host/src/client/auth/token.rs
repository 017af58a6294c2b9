//! The saved token: `$XDG_CONFIG_HOME/socklab/token` (`~/.config/socklab/token` on
//! Linux, the platform's config folder elsewhere), mode 0600 in a 0700 folder, written
//! atomically ([`atomic_file`](crate::atomic_file)), so a crash never leaves half a
//! token and no other user can read it. It is the "cookie" `whoami`, `logout` and
//! `passwd` send.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;

use zeroize::Zeroizing;

/// Where the token lives, or an error saying there is no config folder.
pub fn path() -> io::Result<PathBuf> {
    dirs::config_dir()
        .map(|d| d.join("socklab").join("token"))
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no config folder (is $HOME set?)"))
}

/// Save `token`, replacing any earlier one.
pub fn save(token: &str) -> io::Result<PathBuf> {
    let file = path()?;
    let dir = file.parent().expect("the token file has a folder");
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    crate::atomic_file::write(
        &file,
        format!("{token}\n").as_bytes(),
        0o600,
        OsStr::new(".token-"),
    )?;
    Ok(file)
}

/// The saved token, `Ok(None)` when there is none.
pub fn load() -> io::Result<Option<Zeroizing<String>>> {
    match fs::read_to_string(path()?) {
        Ok(t) => Ok(Some(Zeroizing::new(t.trim().to_owned()))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Forget the saved token.
pub fn remove() -> io::Result<()> {
    match fs::remove_file(path()?) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}
