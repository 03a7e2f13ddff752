//! Enclosures downloaded into the downloads directory (`[downloads] dir`):
//! podcast episodes and videos kept for listening offline. A file is
//! streamed to disk (never held in memory) as a hidden `.part` file named by
//! a hash of its address, resumed with an HTTP `Range` request after an
//! interruption (guarded by `If-Range`, so a file that changed meanwhile
//! starts over), and renamed to its own name only once it is complete: a
//! partial download never replaces, or passes for, a complete one.
//!
//! What arrives is untrusted: only http(s) addresses are fetched, on every
//! redirect too (and, for a public feed, only public addresses); the name
//! comes from `Content-Disposition` or the address but is cut to one plain
//! component, so the file always lands inside the directory; a server that
//! sends more than it announced, more than `[downloads] max_mb`, or resumes
//! at another place than asked, is stopped.

use std::io::Write;
use std::path::{Path, PathBuf};

use reqwest::header;

use crate::config::{Config, Paths};
use crate::model::{ArticleId, DownloadRecord, DownloadStatus};

/// Downloads enclosures into one directory.
pub struct Downloader {
    client: reqwest::Client,
    public_client: reqwest::Client,
    dir: PathBuf,
    max_bytes: u64,
}

/// A finished download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    /// The file's name inside the downloads directory.
    pub file: String,
    pub bytes: u64,
    /// Bytes that an earlier, interrupted download had already written.
    pub resumed_from: u64,
}

/// Why a download did not finish. A `.part` file is kept where the rest can
/// be asked for later (the connection broke), and removed where it cannot
/// (the server lied, the file is too large).
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("only http(s) addresses are downloaded")]
    NotWeb,
    #[error("HTTP {0}")]
    Http(u16),
    #[error("too large: more than {0} MB ([downloads] max_mb)")]
    TooLarge(u64),
    #[error("the server sent {sent} bytes where it announced {announced}")]
    MoreThanAnnounced { sent: u64, announced: u64 },
    #[error("the server resumed at byte {got} where {asked} was asked")]
    WrongResume { asked: u64, got: u64 },
    #[error("another tidings is downloading it")]
    Busy,
    #[error("cut off after {got} of {of} bytes; the rest is asked for next time")]
    CutOff { got: u64, of: u64 },
    #[error("{0}")]
    Network(String),
    #[error("cannot write the file: {0}")]
    Io(String),
}

impl From<std::io::Error> for DownloadError {
    fn from(e: std::io::Error) -> Self {
        DownloadError::Io(e.to_string())
    }
}

/// Redirects a download may follow.
const MAX_REDIRECTS: usize = 10;

impl Downloader {
    pub fn new(config: &Config, paths: &Paths) -> anyhow::Result<Downloader> {
        let refresh = &config.refresh;
        let builder = || {
            reqwest::Client::builder()
                .user_agent(refresh.user_agent())
                .connect_timeout(refresh.connect_timeout())
                .read_timeout(refresh.read_timeout())
                .referer(false)
                .redirect(reqwest::redirect::Policy::custom(|attempt| {
                    if !matches!(attempt.url().scheme(), "http" | "https") {
                        attempt.error("a redirect to an address that is not http(s)")
                    } else if attempt.previous().len() >= MAX_REDIRECTS {
                        attempt.error("too many redirects")
                    } else {
                        attempt.follow()
                    }
                }))
        };
        Ok(Downloader {
            client: builder().build()?,
            public_client: builder()
                .dns_resolver(std::sync::Arc::new(crate::fetch::address::PublicOnly))
                .build()?,
            dir: paths.downloads_dir(&config.downloads.dir),
            max_bytes: config.downloads.max_mb.saturating_mul(1_000_000),
        })
    }

    /// The directory files land in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Downloads `url` (resuming what an interrupted download left), calling
    /// `progress` with the bytes written and the size when known. For an
    /// enclosure of a public feed (`public_only`), every hop must be a
    /// public address.
    pub async fn download(
        &self,
        url: &str,
        public_only: bool,
        mut progress: impl FnMut(u64, Option<u64>),
    ) -> Result<Downloaded, DownloadError> {
        let parsed = url::Url::parse(url).map_err(|_| DownloadError::NotWeb)?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(DownloadError::NotWeb);
        }
        std::fs::create_dir_all(&self.dir)?;
        let part_path = self.dir.join(part_name(url));
        let validator_path = part_path.with_extension("validator");
        let mut part = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&part_path)?;
        if part.try_lock().is_err() {
            return Err(DownloadError::Busy);
        }
        let client = if public_only {
            &self.public_client
        } else {
            &self.client
        };
        let mut have = part.metadata()?.len();
        let validator = std::fs::read_to_string(&validator_path).ok();
        let mut request = client.get(parsed.clone());
        if have > 0 {
            request = request.header(header::RANGE, format!("bytes={have}-"));
            if let Some(validator) = validator.as_deref().filter(|v| !v.is_empty()) {
                request = request.header(header::IF_RANGE, validator);
            }
        }
        let mut response = request.send().await.map_err(network)?;
        let status = response.status().as_u16();
        let resumed_from;
        let total = match status {
            206 => {
                let (start, total) =
                    content_range(response.headers()).ok_or(DownloadError::WrongResume {
                        asked: have,
                        got: 0,
                    })?;
                if start != have {
                    drop(part);
                    remove_part(&part_path, &validator_path);
                    return Err(DownloadError::WrongResume {
                        asked: have,
                        got: start,
                    });
                }
                resumed_from = have;
                total.or_else(|| response.content_length().map(|n| n + have))
            }
            // The part is the whole file already.
            416 if have > 0 && content_range_total(response.headers()) == Some(have) => {
                resumed_from = have;
                Some(have)
            }
            200 => {
                // A fresh start: the server ignored the range, or the file changed.
                part.set_len(0)?;
                have = 0;
                resumed_from = 0;
                let validator = [header::ETAG, header::LAST_MODIFIED]
                    .iter()
                    .find_map(|h| response.headers().get(h)?.to_str().ok().map(str::to_string))
                    .unwrap_or_default();
                std::fs::write(&validator_path, validator)?;
                response.content_length()
            }
            other => return Err(DownloadError::Http(other)),
        };
        if total.is_some_and(|t| t > self.max_bytes) {
            drop(part);
            remove_part(&part_path, &validator_path);
            return Err(DownloadError::TooLarge(self.max_bytes / 1_000_000));
        }
        let name = response_file_name(response.headers(), response.url());
        progress(have, total);
        if status != 416 {
            loop {
                let chunk = match response.chunk().await {
                    Ok(Some(chunk)) => chunk,
                    Ok(None) => break,
                    // Broken off: what came is kept for the next attempt.
                    Err(e) => {
                        part.flush()?;
                        return Err(match total {
                            Some(of) => DownloadError::CutOff { got: have, of },
                            None => network(e),
                        });
                    }
                };
                have += chunk.len() as u64;
                if have > self.max_bytes {
                    drop(part);
                    remove_part(&part_path, &validator_path);
                    return Err(DownloadError::TooLarge(self.max_bytes / 1_000_000));
                }
                if let Some(announced) = total.filter(|&t| have > t) {
                    drop(part);
                    remove_part(&part_path, &validator_path);
                    return Err(DownloadError::MoreThanAnnounced {
                        sent: have,
                        announced,
                    });
                }
                part.write_all(&chunk)?;
                progress(have, total);
            }
        }
        if let Some(of) = total.filter(|&t| have < t) {
            part.flush()?;
            return Err(DownloadError::CutOff { got: have, of });
        }
        part.sync_all()?;
        let file = unused_name(&self.dir, &name);
        std::fs::rename(&part_path, self.dir.join(&file))?;
        let _ = std::fs::remove_file(&validator_path);
        drop(part);
        Ok(Downloaded {
            file,
            bytes: have,
            resumed_from,
        })
    }
}

/// What a download of `url` leaves on record: complete with its file, partly
/// done with the bytes that came (resumed next time), or failed with why.
/// `article`, `title` and `feed_title` say whose enclosure it was.
pub fn record(
    url: &str,
    article: Option<ArticleId>,
    title: Option<String>,
    feed_title: Option<String>,
    outcome: &Result<Downloaded, DownloadError>,
) -> DownloadRecord {
    let mut record = DownloadRecord {
        url: url.to_string(),
        article_id: article,
        title,
        feed_title,
        file: None,
        status: DownloadStatus::Failed,
        bytes: 0,
        total: None,
        error: None,
        updated_at: chrono::Utc::now().timestamp(),
    };
    match outcome {
        Ok(done) => {
            record.file = Some(done.file.clone());
            record.status = DownloadStatus::Complete;
            record.bytes = done.bytes;
            record.total = Some(done.bytes);
        }
        Err(e) => {
            if let DownloadError::CutOff { got, of } = e {
                record.status = DownloadStatus::Partial;
                record.bytes = *got;
                record.total = Some(*of);
            }
            record.error = Some(e.to_string());
        }
    }
    record
}

fn network(e: reqwest::Error) -> DownloadError {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(inner) = source {
        text = format!("{text}: {inner}");
        source = inner.source();
    }
    DownloadError::Network(text)
}

fn remove_part(part: &Path, validator: &Path) {
    let _ = std::fs::remove_file(part);
    let _ = std::fs::remove_file(validator);
}

/// The hidden file an address downloads into until it is complete.
fn part_name(url: &str) -> String {
    format!(
        ".tidings-{:016x}.part",
        xxhash_rust::xxh3::xxh3_64(url.as_bytes())
    )
}

/// `Content-Range: bytes START-END/TOTAL`: where the body starts, and the
/// whole size when the server says.
fn content_range(headers: &header::HeaderMap) -> Option<(u64, Option<u64>)> {
    let value = headers.get(header::CONTENT_RANGE)?.to_str().ok()?;
    let range = value.trim().strip_prefix("bytes ")?;
    let (span, total) = range.split_once('/')?;
    let start = span.split_once('-')?.0.trim().parse().ok()?;
    Some((start, total.trim().parse().ok()))
}

/// The size in a `416` answer's `Content-Range: bytes */TOTAL`.
fn content_range_total(headers: &header::HeaderMap) -> Option<u64> {
    let value = headers.get(header::CONTENT_RANGE)?.to_str().ok()?;
    value.trim().strip_prefix("bytes */")?.trim().parse().ok()
}

/// The name a response's file goes by: `Content-Disposition`'s, else the
/// last segment of the (final) address, made safe.
fn response_file_name(headers: &header::HeaderMap, url: &url::Url) -> String {
    let disposition = headers
        .get(header::CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .and_then(disposition_file_name);
    let from_url = || {
        url.path_segments()
            .and_then(|mut segments| segments.rfind(|s| !s.is_empty()))
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            })
    };
    safe_file_name(&disposition.or_else(from_url).unwrap_or_default())
}

/// The file name of a `Content-Disposition` value: `filename*=UTF-8''…`
/// (RFC 6266) first, else `filename="…"` or `filename=…`.
fn disposition_file_name(value: &str) -> Option<String> {
    let mut plain = None;
    for part in value.split(';').map(str::trim) {
        let Some((key, raw)) = part.split_once('=') else {
            continue;
        };
        match key.trim().to_ascii_lowercase().as_str() {
            "filename*" => {
                let encoded = raw.trim().splitn(3, '\'').nth(2)?;
                let decoded = percent_encoding::percent_decode_str(encoded).decode_utf8_lossy();
                return Some(decoded.into_owned());
            }
            "filename" => plain = Some(raw.trim().trim_matches('"').to_string()),
            _ => {}
        }
    }
    plain
}

/// Longest file name kept, in bytes (an extension is kept whole).
const MAX_NAME_BYTES: usize = 120;

/// A name that is one plain component of a path: what follows the last
/// `/` or `\`, without control characters or characters other systems
/// refuse, without leading dots (no hidden files, no `..`), cut to
/// [`MAX_NAME_BYTES`] with its extension kept; `download` when nothing is
/// left.
fn safe_file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !"<>:\"|?*".contains(*c))
        .collect();
    let trimmed = cleaned
        .trim_start_matches(|c: char| c == '.' || c.is_whitespace())
        .trim_end_matches(|c: char| c == '.' || c.is_whitespace());
    if trimmed.is_empty() {
        return "download".into();
    }
    if trimmed.len() <= MAX_NAME_BYTES {
        return trimmed.to_string();
    }
    let (stem, extension) = match trimmed.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= 10 => (stem, format!(".{ext}")),
        _ => (trimmed, String::new()),
    };
    let mut end = MAX_NAME_BYTES - extension.len();
    while !stem.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{extension}", &stem[..end])
}

/// `name`, or `name (2)`, `name (3)` … (before the extension): the first
/// that no file in `dir` has yet.
fn unused_name(dir: &Path, name: &str) -> String {
    if !dir.join(name).exists() {
        return name.to_string();
    }
    let (stem, extension) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, format!(".{ext}")),
        _ => (name, String::new()),
    };
    (2..)
        .map(|n| format!("{stem} ({n}){extension}"))
        .find(|candidate| !dir.join(candidate).exists())
        .expect("some number is free")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_one_plain_component() {
        for (raw, safe) in [
            ("episode-12.mp3", "episode-12.mp3"),
            ("../../etc/passwd", "passwd"),
            ("/etc/cron.d/evil", "evil"),
            ("..\\..\\windows\\system.ini", "system.ini"),
            ("..", "download"),
            ("...", "download"),
            (".hidden.mp3", "hidden.mp3"),
            ("a\u{1b}[31mred\u{7}.mp3", "a[31mred.mp3"),
            ("name\u{0}.mp3", "name.mp3"),
            ("  spaced  ", "spaced"),
            ("", "download"),
            ("what?.mp3", "what.mp3"),
        ] {
            assert_eq!(safe_file_name(raw), safe, "{raw:?}");
        }
        let long = format!("{}.mp3", "ä".repeat(200));
        let name = safe_file_name(&long);
        assert!(
            name.len() <= MAX_NAME_BYTES && name.ends_with(".mp3"),
            "{name}"
        );
    }

    #[test]
    fn disposition_names_prefer_the_encoded_form() {
        assert_eq!(
            disposition_file_name(
                r#"attachment; filename="plain.mp3"; filename*=UTF-8''caf%C3%A9.mp3"#
            )
            .as_deref(),
            Some("café.mp3")
        );
        assert_eq!(
            disposition_file_name(r#"attachment; filename="../x.mp3""#).as_deref(),
            Some("../x.mp3")
        );
        assert_eq!(disposition_file_name("inline"), None);
    }

    #[test]
    fn a_taken_name_gets_a_number() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.mp3"), b"x").unwrap();
        std::fs::write(dir.path().join("a (2).mp3"), b"x").unwrap();
        assert_eq!(unused_name(dir.path(), "a.mp3"), "a (3).mp3");
        assert_eq!(unused_name(dir.path(), "b.mp3"), "b.mp3");
    }

    #[test]
    fn content_ranges_are_read() {
        let mut headers = header::HeaderMap::new();
        headers.insert(header::CONTENT_RANGE, "bytes 100-199/1000".parse().unwrap());
        assert_eq!(content_range(&headers), Some((100, Some(1000))));
        headers.insert(header::CONTENT_RANGE, "bytes 100-199/*".parse().unwrap());
        assert_eq!(content_range(&headers), Some((100, None)));
        headers.insert(header::CONTENT_RANGE, "bytes */1000".parse().unwrap());
        assert_eq!(content_range_total(&headers), Some(1000));
    }
}
