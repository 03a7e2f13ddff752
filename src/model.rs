//! Plain domain types shared by the fetcher, the store, the refresher and the
//! front ends. Nothing here does I/O: these are the values that travel between
//! modules (a parsed feed from `parse` to `store`, a fetch record from `refresh`
//! to `store`, list rows from `store` to the CLI and the TUI).
//!
//! Times are UTC. Article dates are whole seconds since the Unix epoch; fetch
//! timings are milliseconds.

use std::fmt;

use serde::Serialize;

/// Row id of a subscribed feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct FeedId(pub i64);

/// Row id of a cached article.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ArticleId(pub i64);

/// A tag, by a stable hash of its name (so that a list's source stays a
/// small copyable value; the store finds the name again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TagKey(pub u64);

impl TagKey {
    pub fn of(tag: &str) -> TagKey {
        TagKey(xxhash_rust::xxh3::xxh3_64(tag.as_bytes()))
    }
}

/// A query feed's id (see `store::QueryFeed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct QueryFeedId(pub i64);

impl fmt::Display for FeedId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A feed document after parsing and sanitising: what one fetch learned.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedFeed {
    pub title: Option<String>,
    pub site_url: Option<String>,
    pub description: Option<String>,
    /// `<ttl>` in minutes, a lower bound for the next fetch.
    pub ttl_minutes: Option<u32>,
    /// How often the feed says it changes (`sy:updatePeriod` divided by
    /// `sy:updateFrequency`), in minutes: a lower bound for the next fetch too.
    pub update_every_minutes: Option<u32>,
    /// The feed's icon or logo, an absolute http(s) URL.
    pub icon: Option<String>,
    pub articles: Vec<ParsedArticle>,
    /// Read, but not as it should be: recovered from a broken document, or
    /// nothing found in it. Shown as a warning, never as a failure.
    pub warning: Option<String>,
}

/// An image an article (or feed) shows, before it is downloaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FoundImage {
    pub url: String,
    pub alt: String,
}

/// What became of an image: found but not downloaded yet, in the cache,
/// failed (retried later), refused (not an image, too big, a private address),
/// or evicted from the cache (downloaded again when an article shows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageStatus {
    Pending,
    Cached,
    Failed,
    Refused,
    Evicted,
}

impl ImageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ImageStatus::Pending => "pending",
            ImageStatus::Cached => "cached",
            ImageStatus::Failed => "failed",
            ImageStatus::Refused => "refused",
            ImageStatus::Evicted => "evicted",
        }
    }

    pub fn parse(text: &str) -> ImageStatus {
        match text {
            "cached" => ImageStatus::Cached,
            "failed" => ImageStatus::Failed,
            "refused" => ImageStatus::Refused,
            "evicted" => ImageStatus::Evicted,
            _ => ImageStatus::Pending,
        }
    }
}

/// An image as an article shows it: its place, alt text, and what the cache
/// holds for it.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleImage {
    pub position: u32,
    pub alt: String,
    pub id: i64,
    pub url: String,
    pub status: ImageStatus,
    /// File name in the image cache directory (when cached).
    pub file: Option<String>,
    pub http_status: Option<u16>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub source_bytes: Option<u64>,
    pub error: Option<String>,
}

/// What a fetch did about images: found in its articles, and what became of
/// those it downloaded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImageStats {
    pub found: u64,
    pub cached: u64,
    pub failed: u64,
    pub refused: u64,
    pub bytes_wire: u64,
    pub bytes_stored: u64,
    pub ms: u64,
}

impl ImageStats {
    /// Adds another fetch's figures (times are not summed).
    pub fn add(&mut self, other: &ImageStats) {
        self.found += other.found;
        self.cached += other.cached;
        self.failed += other.failed;
        self.refused += other.refused;
        self.bytes_wire += other.bytes_wire;
        self.bytes_stored += other.bytes_stored;
    }
}

/// One entry of a feed document, ready to be stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedArticle {
    /// Stable identity within its feed (see `parse::guid_key`).
    pub guid_key: String,
    /// The feed's own id for the entry, when it gave one.
    pub guid: Option<String>,
    pub title: Option<String>,
    pub link: Option<String>,
    pub author: Option<String>,
    pub published: Option<i64>,
    pub updated: Option<i64>,
    pub summary: Option<String>,
    /// Full HTML body.
    pub content: Option<String>,
    pub categories: Vec<String>,
    pub enclosures: Vec<Enclosure>,
    /// The article's cover image, an absolute http(s) address: its media
    /// thumbnail, an image it carries (`media:content`, an enclosure),
    /// `itunes:image`, or JSON Feed's `image` / `banner_image`; else the
    /// first image of its body (`images::find_in_feed` fills that in). It is
    /// also among the `thumbnails`, so that a refresh caches it.
    pub image: Option<String>,
    /// A podcast episode's number and season (`itunes:episode`,
    /// `itunes:season`, the Podcasting 2.0 tags).
    pub episode: Option<u32>,
    pub season: Option<u32>,
    /// The entry's own `xml:base`, when it had one, as the document gave it:
    /// relative image addresses in its body resolve against it. Not stored.
    pub xml_base: Option<String>,
    /// The addresses of its media thumbnails (`media:thumbnail`), sanitised,
    /// for the image finder. Not stored.
    pub thumbnails: Vec<String>,
    /// The images the article shows (body, image enclosures, thumbnails), in
    /// order: filled by `images::find_in_feed` after the parse, which leaves
    /// it empty.
    pub images: Vec<FoundImage>,
    /// The readable text of the body, for the search index.
    pub search_text: String,
    /// A hash of every stored field: tells an updated entry from an unchanged one.
    pub fingerprint: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Enclosure {
    pub url: String,
    #[serde(rename = "type")]
    pub mime_type: Option<String>,
    pub length: Option<u64>,
    /// How long it plays (`itunes:duration`, Media RSS's `duration`), in
    /// seconds, when the feed says.
    #[serde(default, rename = "duration", skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<u64>,
}

/// What an enclosure holds, by its type, else its file name's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnclosureKind {
    Audio,
    Video,
    Image,
    Other,
}

impl EnclosureKind {
    pub fn name(self) -> &'static str {
        match self {
            EnclosureKind::Audio => "audio",
            EnclosureKind::Video => "video",
            EnclosureKind::Image => "image",
            EnclosureKind::Other => "file",
        }
    }
}

impl Enclosure {
    pub fn kind(&self) -> EnclosureKind {
        let by_type = self
            .mime_type
            .as_deref()
            .map(|t| t.trim().to_ascii_lowercase());
        match by_type
            .as_deref()
            .and_then(|t| t.split_once('/'))
            .map(|(top, _)| top)
        {
            Some("audio") => return EnclosureKind::Audio,
            Some("video") => return EnclosureKind::Video,
            Some("image") => return EnclosureKind::Image,
            _ => {}
        }
        let name = self.file_name().to_ascii_lowercase();
        let extension = name.rsplit_once('.').map_or("", |(_, e)| e);
        match extension {
            "mp3" | "m4a" | "aac" | "ogg" | "oga" | "opus" | "flac" | "wav" => EnclosureKind::Audio,
            "mp4" | "m4v" | "webm" | "mkv" | "mov" | "ogv" => EnclosureKind::Video,
            "jpg" | "jpeg" | "png" | "gif" | "webp" | "avif" => EnclosureKind::Image,
            _ => EnclosureKind::Other,
        }
    }

    /// The last segment of its address's path, decoded (what a person
    /// recognises it by), else the address.
    pub fn file_name(&self) -> String {
        let last = url::Url::parse(&self.url).ok().and_then(|url| {
            let segment = url.path_segments()?.rev().find(|s| !s.is_empty())?;
            let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
            Some(crate::text::sanitize_text(&decoded)).filter(|name| !name.trim().is_empty())
        });
        last.unwrap_or_else(|| crate::text::sanitize_text(&self.url))
    }
}

/// A subscription as stored, with what the last fetch taught about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Feed {
    pub id: FeedId,
    /// The address the user subscribed to: the feed's identity.
    pub url: String,
    /// Where to fetch it now (differs after a permanent redirect).
    pub fetch_url: String,
    /// The user's own name for it, else the feed's title.
    pub title: Option<String>,
    pub site_url: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub gone: bool,
    /// Unsubscribed from, kept for its starred articles (listed under "Saved").
    pub saved: bool,
    /// `title` is the user's own name for it, not the feed's.
    pub renamed: bool,
    /// The sync server has it: its articles come from there.
    pub synced: bool,
}

impl Feed {
    /// What to call the feed on screen: its title, or its address.
    pub fn display_name(&self) -> &str {
        self.title
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .unwrap_or(&self.url)
    }
}

/// One row of the feed list: a feed with its counts and its last fetch.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedListRow {
    pub feed: Feed,
    pub unread: u64,
    pub total: u64,
    pub last_fetch: Option<LastFetch>,
}

/// The outcome of a feed's most recent fetch, as the list shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LastFetch {
    pub started_at_ms: i64,
    pub http_status: Option<u16>,
    pub not_modified: bool,
    pub error_kind: Option<ErrorKind>,
    pub error_message: Option<String>,
    /// Read, with a warning (see [`FetchRecord::warning`]).
    pub warning: Option<String>,
}

/// An article as lists show it: never its body.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleSummary {
    pub id: ArticleId,
    pub feed_id: FeedId,
    pub title: Option<String>,
    pub link: Option<String>,
    pub author: Option<String>,
    /// Published, else updated, else first seen.
    pub date: i64,
    pub read: bool,
    pub starred: bool,
}

/// Which articles a list shows: the virtual entries at the top of the feed
/// list, or one feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArticleSource {
    Unread,
    Starred,
    Feed(FeedId),
    /// A query feed's matches.
    Query(QueryFeedId),
    /// Every feed under a tag.
    Tag(TagKey),
}

/// A search hit: the article and the feed it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub article: ArticleSummary,
    pub feed_title: String,
}

/// Why a fetch failed, in classes a user can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Timeout,
    Connect,
    Dns,
    Tls,
    Http,
    TooLarge,
    TooManyRedirects,
    Parse,
    Encoding,
    Gone,
    RateLimited,
    Io,
    /// An address tidings will not ask (a private one, for a public feed).
    Forbidden,
    /// Not asked: its host did not answer earlier requests of the run.
    Deferred,
    Other,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connect => "connect",
            ErrorKind::Dns => "dns",
            ErrorKind::Tls => "tls",
            ErrorKind::Http => "http",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::TooManyRedirects => "too_many_redirects",
            ErrorKind::Parse => "parse",
            ErrorKind::Encoding => "encoding",
            ErrorKind::Gone => "gone",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Io => "io",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::Deferred => "deferred",
            ErrorKind::Other => "other",
        }
    }

    /// Whether the failure says the host cannot be reached now (no address,
    /// no connection, no answer in time), rather than something about the
    /// one resource asked for.
    pub fn means_host_unreachable(self) -> bool {
        matches!(
            self,
            ErrorKind::Timeout | ErrorKind::Connect | ErrorKind::Dns
        )
    }

    /// Whether the fetch found its host unreachable, or was not made since
    /// the host had been found so earlier in the run.
    pub fn host_unreached(self) -> bool {
        self.means_host_unreachable() || self == ErrorKind::Deferred
    }

    pub fn parse(text: &str) -> ErrorKind {
        [
            ErrorKind::Timeout,
            ErrorKind::Connect,
            ErrorKind::Dns,
            ErrorKind::Tls,
            ErrorKind::Http,
            ErrorKind::TooLarge,
            ErrorKind::TooManyRedirects,
            ErrorKind::Parse,
            ErrorKind::Encoding,
            ErrorKind::Gone,
            ErrorKind::RateLimited,
            ErrorKind::Io,
            ErrorKind::Forbidden,
            ErrorKind::Deferred,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
        .unwrap_or(ErrorKind::Other)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything measured about one fetch of one feed: one row of the statistics.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FetchRecord {
    pub started_at_ms: i64,
    pub http_status: Option<u16>,
    pub content_type: Option<String>,
    pub bytes_wire: u64,
    pub bytes_decoded: u64,
    pub ms_headers: u64,
    pub ms_body: u64,
    pub ms_parse: u64,
    pub ms_store: u64,
    pub ms_total: u64,
    pub new_articles: u64,
    pub updated_articles: u64,
    pub unchanged_articles: u64,
    pub total_articles: u64,
    pub not_modified: bool,
    pub redirect_to: Option<String>,
    pub error_kind: Option<ErrorKind>,
    pub error_message: Option<String>,
    pub images: ImageStats,
    /// Read, with a warning: the document was recovered from a break, or no
    /// feed was found in it. The fetch did not fail.
    pub warning: Option<String>,
    /// The proxy that carried the request (its address without a password).
    pub proxy: Option<String>,
}

impl FetchRecord {
    pub fn failed(&self) -> bool {
        self.error_kind.is_some()
    }
}

/// Derived statistics of one feed over its kept fetch history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedStats {
    pub feed_id: FeedId,
    pub title: String,
    pub url: String,
    pub fetches: u64,
    pub last_attempt_ms: Option<i64>,
    pub last_success_ms: Option<i64>,
    pub failure_streak: u64,
    /// The HTTP status of the last fetch (304 when unchanged; none for a file
    /// or when no answer came).
    pub last_status: Option<u16>,
    pub median_latency_ms: Option<u64>,
    pub not_modified_share: Option<f64>,
    pub articles_per_week: f64,
    pub last_new_article: Option<i64>,
    pub last_error: Option<String>,
    /// The last fetch's warning, when it read the feed with one.
    pub last_warning: Option<String>,
    pub gone: bool,
}

/// Totals of one refresh run, as kept in the store.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunStats {
    pub started_at_ms: i64,
    pub wall_ms: u64,
    pub feeds: u64,
    pub ok: u64,
    pub not_modified: u64,
    pub failed: u64,
    pub new_articles: u64,
    pub bytes_wire: u64,
    /// What the run's fetches did about images.
    pub images: ImageStats,
}

/// The slowest fetches of a run, for `tidings stats`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlowFetch {
    pub feed_id: FeedId,
    pub title: String,
    pub ms_total: u64,
}

/// An article with its body, as the reader and the export need it.
#[derive(Debug, Clone, PartialEq)]
pub struct Article {
    pub id: ArticleId,
    pub feed_id: FeedId,
    pub guid: Option<String>,
    pub title: Option<String>,
    pub link: Option<String>,
    pub author: Option<String>,
    pub published: Option<i64>,
    pub updated: Option<i64>,
    pub first_seen: i64,
    pub summary: Option<String>,
    pub content: Option<String>,
    pub categories: Vec<String>,
    pub enclosures: Vec<Enclosure>,
    /// The cover image's address (see [`ParsedArticle::image`]).
    pub image: Option<String>,
    /// A podcast episode's number and season.
    pub episode: Option<u32>,
    pub season: Option<u32>,
    /// The readable part of the article's web page (full text), when it was
    /// fetched; and why the last fetch of it failed, if it did.
    pub page_content: Option<String>,
    pub page_error: Option<String>,
    pub read: bool,
    pub starred: bool,
    /// The other feeds that carry the same story (one story once).
    pub also_in: Vec<String>,
}

/// Where a download of an enclosure stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownloadStatus {
    /// Interrupted: a hidden `.part` file holds what came; the rest is asked
    /// for next time.
    Partial,
    Complete,
    Failed,
}

impl DownloadStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DownloadStatus::Partial => "partial",
            DownloadStatus::Complete => "complete",
            DownloadStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> DownloadStatus {
        match text {
            "complete" => DownloadStatus::Complete,
            "partial" => DownloadStatus::Partial,
            _ => DownloadStatus::Failed,
        }
    }
}

/// An enclosure downloaded (or being downloaded) into the downloads directory.
#[derive(Debug, Clone, PartialEq)]
pub struct DownloadRecord {
    pub url: String,
    pub article_id: Option<ArticleId>,
    /// The article's title, and its feed's, when it was downloaded.
    pub title: Option<String>,
    pub feed_title: Option<String>,
    /// The file's name inside the downloads directory, once complete.
    pub file: Option<String>,
    pub status: DownloadStatus,
    pub bytes: u64,
    pub total: Option<u64>,
    pub error: Option<String>,
    pub updated_at: i64,
}
