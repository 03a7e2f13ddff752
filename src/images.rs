//! The pure half of the image cache: which images an article shows
//! ([`find_in_html`], [`from_enclosures`]), whether downloaded bytes are an
//! image worth keeping and what to store for them ([`sniff`], [`check`]), and
//! how a stored file is named and written ([`file_name`], [`write_atomic`]).
//! It does no network, SQLite or terminal work: the refresher downloads and
//! records, the TUI draws. Invariants: a stored file's name is a hash of its
//! URL and an extension from the sniffed type, never text from the URL; a
//! file is written whole or not at all; nothing is decoded before its header
//! has shown its pixel count to be within [`ImageLimits`].

mod check;
mod find;
#[cfg(test)]
mod tests;

use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

pub use check::{Checked, ImageLimits, Refused, check, sniff};
pub use find::{FoundImage, find_in_html, from_enclosures};

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

/// The file name for an image URL: 32 hex digits of xxh3-128 of the URL, then
/// `.` and the kind's extension. Nothing of the URL's text reaches the file system.
pub fn file_name(url: &str, kind: ImageKind) -> String {
    let hash = xxhash_rust::xxh3::xxh3_128(url.as_bytes());
    format!("{hash:032x}.{}", kind.extension())
}

/// Writes `bytes` to `dir/name` atomically: into a temp file of a unique name
/// in the same directory, then renamed over the target, so a reader sees the
/// old file or the new one, never half of one. Creates `dir`. `name` must be a
/// plain file name, as [`file_name`] makes.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\']) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a plain file name: {name:?}"),
        ));
    }
    fs::create_dir_all(dir)?;
    let (temp_path, mut file) = create_temp_file(dir, name)?;
    let written = file.write_all(bytes).and_then(|()| {
        drop(file);
        fs::rename(&temp_path, dir.join(name))
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
