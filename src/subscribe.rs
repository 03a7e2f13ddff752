//! From what a person typed to a subscription, shared by `tidings add` and
//! the reader's `a` prompt: [`subscription_url`] makes an address of it,
//! [`probe`] asks once and says whether the answer is a feed (with a preview:
//! its title and newest items) or a web page (with the feeds it announces),
//! and [`save_answer`] stores the answer the probe already has, so a new
//! subscription costs one request and shows its articles at once.

use std::path::Path;

use anyhow::{Context, bail};

use crate::config::{Config, Paths};
use crate::fetch::{
    DiscoveredFeed, Fetcher, Response, Validators, decode_body, discover_feeds, looks_like_html,
};
use crate::model::FeedId;
use crate::parse::{ParseError, parse_feed};
use crate::refresh::{Progress, Refresher};
use crate::store::Store;

/// What an address turned out to be.
#[derive(Debug)]
pub enum Probe {
    /// A feed, with the answer that brought it (saved without asking again).
    Feed(FeedPreview),
    Page(Vec<DiscoveredFeed>),
}

/// A feed as the subscribe dialog shows it before the user says yes.
pub struct FeedPreview {
    pub url: String,
    pub title: Option<String>,
    /// The newest items: title and date (seconds).
    pub newest: Vec<(String, Option<i64>)>,
    pub articles: usize,
    pub answer: Box<Response>,
}

impl std::fmt::Debug for FeedPreview {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedPreview")
            .field("url", &self.url)
            .field("title", &self.title)
            .field("articles", &self.articles)
            .finish_non_exhaustive()
    }
}

/// The address to subscribe to: an http(s) or file URL, or a path made into one.
pub fn subscription_url(input: &str) -> anyhow::Result<String> {
    let input = input.trim();
    if let Ok(url) = url::Url::parse(input) {
        match url.scheme() {
            "http" | "https" | "file" => return Ok(url.to_string()),
            // A one-letter "scheme" is a Windows drive; fall through to the path case.
            s if s.len() > 1 => {
                bail!("tidings subscribes to http(s) addresses and local files, not {s}:")
            }
            _ => {}
        }
    }
    let path = Path::new(input);
    let looks_like_path = ["/", "./", "../", "~"].iter().any(|p| input.starts_with(p));
    if looks_like_path && !path.exists() {
        bail!("{input}: no such file");
    }
    if path.exists() {
        let absolute = path
            .canonicalize()
            .with_context(|| format!("cannot read {input}"))?;
        return url::Url::from_file_path(&absolute)
            .map(|u| u.to_string())
            .map_err(|_| anyhow::anyhow!("cannot make an address of {}", absolute.display()));
    }
    if !input.contains("://") && input.contains('.') && !input.contains(' ') {
        return Ok(format!("https://{input}"));
    }
    bail!("{input} is neither a web address nor an existing file")
}

/// Probes what the user typed ([`subscription_url`]), and returns the address
/// it probed with what it found there. A bare name such as `example.org` is
/// tried over https and, when nothing answers there over https, over http.
pub async fn probe_input(fetcher: &Fetcher, input: &str) -> anyhow::Result<(String, Probe)> {
    let url = subscription_url(input)?;
    let guessed_https = !input.contains("://") && url.starts_with("https://");
    match probe(fetcher, &url).await {
        // No HTTP answer at all (refused, no TLS, timed out): a FetchError.
        Err(e) if guessed_https && e.chain().any(|c| c.is::<crate::fetch::FetchError>()) => {
            let http = format!("http://{}", &url["https://".len()..]);
            match probe(fetcher, &http).await {
                Ok(found) => Ok((http, found)),
                Err(over_http) => Err(over_http.context(format!("{e:#}; over http neither"))),
            }
        }
        found => found.map(|found| (url, found)),
    }
}

pub async fn probe(fetcher: &Fetcher, url: &str) -> anyhow::Result<Probe> {
    let response = fetcher
        .get(url, &Validators::default())
        .await
        .with_context(|| format!("cannot fetch {url}"))?;
    if let Some(status) = response.status.filter(|s| !(200..300).contains(s)) {
        bail!("{url} answered HTTP {status}");
    }
    let body = decode_body(
        &response.body,
        response.content_encoding.as_deref(),
        fetcher.max_body(),
    )?;
    let final_url = response
        .moved_permanently_to
        .clone()
        .unwrap_or_else(|| url.to_string());
    let charset = response.charset().map(str::to_string);
    let base = response.final_url.clone();
    // The body comes back for discovery, should it be a web page.
    let (parsed, body) =
        tokio::task::spawn_blocking(move || (parse_feed(&body, charset.as_deref(), &base), body))
            .await
            .unwrap_or_else(|_| {
                (
                    Err(ParseError::Malformed("the feed parser crashed".into())),
                    Vec::new(),
                )
            });
    match parsed {
        Ok(feed) => {
            let mut items: Vec<(String, Option<i64>)> = feed
                .articles
                .iter()
                .map(|a| {
                    (
                        a.title.clone().unwrap_or_default(),
                        a.published.or(a.updated),
                    )
                })
                .collect();
            items.sort_by_key(|(_, date)| std::cmp::Reverse(*date));
            items.truncate(PREVIEW_ITEMS);
            Ok(Probe::Feed(FeedPreview {
                url: final_url,
                title: feed.title,
                newest: items,
                articles: feed.articles.len(),
                answer: Box::new(response),
            }))
        }
        // Discovery only for pages from the web: a local file never leads elsewhere.
        Err(ParseError::NotAFeed(_))
            if response.status.is_some()
                && looks_like_html(&body, response.content_type.as_deref()) =>
        {
            let html = String::from_utf8_lossy(&body);
            Ok(Probe::Page(discover_feeds(&html, &response.final_url)))
        }
        Err(e) => bail!("{url} is not a readable feed: {e}"),
    }
}

/// Items a preview shows.
const PREVIEW_ITEMS: usize = 5;

/// Stores a probe's answer as the new feed's first fetch, through a refresher
/// of its own (so its articles, validators and fetch record land as a
/// refresh's would). Returns the fetch's error message if it failed.
pub async fn save_answer(
    paths: &Paths,
    config: Config,
    feed: FeedId,
    answer: Response,
) -> anyhow::Result<Option<String>> {
    let images = crate::refresh::ImagePlan::from_config(paths, &config);
    let mut refresher = Refresher::new(Store::open(&paths.database)?, config)?.with_images(images);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    refresher.ingest(feed, answer, &tx).await;
    drop(tx);
    let mut failure = None;
    while let Some(p) = rx.recv().await {
        match p {
            Progress::FeedDone(done) if done.record.failed() => {
                failure = Some(done.record.error_message.unwrap_or_default());
            }
            Progress::Aborted(reason) => bail!("refresh failed: {reason}"),
            _ => {}
        }
    }
    Ok(failure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_paths_become_subscription_urls() {
        assert_eq!(
            subscription_url("http://a.test/feed").unwrap(),
            "http://a.test/feed"
        );
        assert_eq!(
            subscription_url("example.org/feed.xml").unwrap(),
            "https://example.org/feed.xml"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f.xml");
        std::fs::write(&file, "<rss/>").unwrap();
        assert!(
            subscription_url(file.to_str().unwrap())
                .unwrap()
                .starts_with("file:///")
        );
        assert!(subscription_url("ftp://a.test/x").is_err());
        assert!(subscription_url("exec:rm -rf").is_err());
    }
}
