//! From what a person typed to a subscription, shared by `tidings add` and
//! the reader's `a` prompt: [`subscription_url`] makes an address of it,
//! [`probe`] asks once and says whether the answer is a feed (with a preview:
//! its title and newest items) or a web page (with the feeds it announces).
//! The probe keeps the answer, which the refresh worker then saves as the
//! feed's first fetch (`refresh::Command::Subscribe`), so a new subscription
//! costs one request and shows its articles at once.

use std::path::Path;

use anyhow::{Context, bail};

use crate::fetch::{DiscoveredFeed, Fetcher, Response, Validators, discover_feeds};
use crate::images::ImagesToFind;
use crate::refresh::{Unreadable, read_answer};

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
        return Err(Unanswered {
            url: url.to_string(),
            status,
        }
        .into());
    }
    let final_url = response
        .moved_permanently_to
        .clone()
        .unwrap_or_else(|| url.to_string());
    // A preview shows titles and dates: the images are found when it is saved.
    match read_answer(response.clone(), fetcher.max_body(), ImagesToFind::Covers).await {
        Ok(read) => {
            let feed = read.feed;
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
        Err(Unreadable::WebPage { html, .. }) if response.status.is_some() => {
            let html = String::from_utf8_lossy(&html);
            Ok(Probe::Page(discover_feeds(&html, &response.final_url)))
        }
        Err(Unreadable::WebPage { error, .. } | Unreadable::Parse(error)) => {
            bail!("{url} is not a readable feed: {error}")
        }
        Err(Unreadable::Body(e)) => Err(e.into()),
        Err(Unreadable::Crashed) => {
            bail!("{url} is not a readable feed: malformed feed: the feed parser crashed")
        }
    }
}

/// A probe's answer that was an HTTP error: a server error (5xx) says the
/// feed is down for now, anything else that the address is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{url} answered HTTP {status}")]
pub struct Unanswered {
    pub url: String,
    pub status: u16,
}

/// Items a preview shows.
const PREVIEW_ITEMS: usize = 5;

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
