//! The pure half of the image cache: which images an article shows
//! ([`find_in_feed`] over a parsed feed, built on [`find_in_html`] and
//! [`from_enclosures`]), whether downloaded bytes are an image worth keeping
//! and what to store for them ([`sniff`], [`check`]), and how a stored file is
//! named and written ([`file_name`], [`write_atomic`]). It does no network,
//! SQLite or terminal work: the refresher downloads and records, the TUI
//! draws. Invariants: a stored file's name is a hash of its URL and an
//! extension from the sniffed type, never text from the URL; a file is written
//! whole or not at all; nothing is decoded before its header has shown its
//! pixel count to be within [`ImageLimits`].

mod check;
mod find;
#[cfg(test)]
mod tests;

use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

pub use check::{Checked, ImageLimits, Refused, check, sniff};
pub use find::{
    FoundImage, ImagesToFind, chosen_for_sources, find_covers, find_in_feed, find_in_html,
    find_in_stored, from_enclosures,
};

/// Images wider than this are downscaled to it, and a `srcset` candidate up to
/// this width is preferred: the widest any terminal shows.
pub const DEFAULT_MAX_WIDTH: u32 = 1600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Png,
    Jpeg,
    Gif,
    Webp,
    Svg,
}

impl ImageKind {
    pub fn extension(self) -> &'static str {
        match self {
            ImageKind::Png => "png",
            ImageKind::Jpeg => "jpg",
            ImageKind::Gif => "gif",
            ImageKind::Webp => "webp",
            ImageKind::Svg => "svg",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            ImageKind::Png => "image/png",
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Gif => "image/gif",
            ImageKind::Webp => "image/webp",
            ImageKind::Svg => "image/svg+xml",
        }
    }
}

/// The file name for an image URL, relative to the image directory: 32 hex
/// digits of xxh3-128 of the URL, then `.` and the kind's extension, in a
/// subdirectory named by the first two digits. Nothing of the URL's text
/// reaches the file system. The 256 subdirectories keep a refresh that stores
/// thousands of images at once from queueing on one directory's lock.
pub fn file_name(url: &str, kind: ImageKind) -> String {
    let hash = format!("{:032x}", xxhash_rust::xxh3::xxh3_128(url.as_bytes()));
    format!("{}/{hash}.{}", &hash[..2], kind.extension())
}

/// Writes `bytes` to `dir/name` atomically: into a temp file of a unique name
/// in the same directory, then renamed over the target, so a reader sees the
/// old file or the new one, never half of one. Creates the directories it
/// needs. `name` is a plain file name, or one subdirectory and a plain file
/// name, as [`file_name`] makes; anything else is refused.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let plain = |part: &str| !part.is_empty() && !part.starts_with('.') && !part.contains('\\');
    let (subdir, file_name) = match name.split_once('/') {
        Some((subdir, file_name)) => (Some(subdir), file_name),
        None => (None, name),
    };
    if !plain(file_name) || file_name.contains('/') || !subdir.is_none_or(plain) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a plain file name: {name:?}"),
        ));
    }
    let dir = dir.join(subdir.unwrap_or_default());
    let (temp_path, mut file) = match create_temp_file(&dir, file_name) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(&dir)?;
            create_temp_file(&dir, file_name)?
        }
        created => created?,
    };
    let written = file.write_all(bytes).and_then(|()| {
        drop(file);
        fs::rename(&temp_path, dir.join(file_name))
    });
    if written.is_err() {
        let _ = fs::remove_file(&temp_path);
    }
    written
}

/// A new file named after the target, this process and a counter. Several
/// threads or processes writing the same image each get their own.
fn create_temp_file(dir: &Path, name: &str) -> io::Result<(std::path::PathBuf, fs::File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(file) => return Ok((path, file)),
            // Left behind by an earlier process that had our id: take the next number.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}
