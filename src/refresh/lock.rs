//! One refresh at a time per database: a run holds an exclusive lock on a
//! file beside the database (`tidings.refresh.lock`) for as long as it
//! fetches and writes, so a cron `tidings refresh` and the reader's refresh
//! never run together and pile up. The lock is the operating system's
//! (`flock`), so it goes with the process that held it, even one killed
//! mid-run; the file keeps the holder's process id for the message the
//! next one shows.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The lock of a run in progress; released when dropped.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

/// What an attempt to take the lock found.
#[derive(Debug)]
pub enum Attempt {
    Held(RunLock),
    /// Another refresh holds it: its process id, when the file says.
    Busy(Option<u32>),
}

impl RunLock {
    /// Where the lock of the database at `database` lives.
    pub fn path_for(database: &Path) -> PathBuf {
        database.with_extension("refresh.lock")
    }

    /// Takes the lock at `path` if no other refresh holds it.
    pub fn try_take(path: &Path) -> std::io::Result<Attempt> {
        let mut file = open(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Attempt::Held(RunLock::holding(file)?)),
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                file.read_to_string(&mut text)?;
                Ok(Attempt::Busy(text.trim().parse().ok()))
            }
            Err(TryLockError::Error(e)) => Err(e),
        }
    }

    /// Takes the lock at `path`, waiting as long as another refresh holds it.
    pub fn take(path: &Path) -> std::io::Result<RunLock> {
        let file = open(path)?;
        file.lock()?;
        RunLock::holding(file)
    }

    fn holding(mut file: File) -> std::io::Result<RunLock> {
        file.set_len(0)?;
        file.rewind()?;
        write!(file, "{}", std::process::id())?;
        Ok(RunLock { _file: file })
    }
}

fn open(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

/// "another tidings refresh is running (process 123)".
pub fn busy_message(pid: Option<u32>) -> String {
    match pid {
        Some(pid) => format!("another tidings refresh is running (process {pid})"),
        None => "another tidings refresh is running".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_finds_the_lock_busy_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = RunLock::path_for(&dir.path().join("tidings.db"));
        let Attempt::Held(first) = RunLock::try_take(&path).unwrap() else {
            panic!("a free lock is taken");
        };
        match RunLock::try_take(&path).unwrap() {
            Attempt::Busy(pid) => assert_eq!(pid, Some(std::process::id())),
            Attempt::Held(_) => panic!("the lock was taken twice"),
        }
        drop(first);
        assert!(matches!(
            RunLock::try_take(&path).unwrap(),
            Attempt::Held(_)
        ));
    }
}
