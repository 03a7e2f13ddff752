//! Tiny Tiny RSS through its JSON API (level 15 and later): every call is a
//! POST of a JSON object to `api/` with the session id, and every answer is
//! `{"status": 0|1, "content": …}`. A session is tied to the User-Agent, so
//! one client keeps one. Ids of feeds and articles are global and only grow,
//! which is what makes "articles since the last id" a complete pull.
//!
//! What the API cannot do, renaming a feed and moving it to another category
//! (level 15 has no call for either), goes through the server's own web
//! interface with the same session: its page gives the form token, and its
//! `pref-feeds` handler saves only the fields it is sent.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{
    Backend, FeedState, Flag, RemoteArticle, RemoteCounts, RemoteFeed, RemoteId, Result,
    Subscribed, SyncError, Traffic,
};
use crate::config::{RefreshConfig, Secret, SyncConfig};
use crate::model::{Enclosure, ParsedArticle};
use crate::text::{clean_title, sanitize_owned, web_url};

mod web;

/// Articles per `getHeadlines` page: the most the server gives.
const PAGE: usize = 200;
/// Ids per `updateArticle` or `getArticle` call.
const IDS_PER_CALL: usize = 200;
/// The largest answer read (a page of 200 long articles is a few MB).
const MAX_ANSWER: usize = 64 * 1024 * 1024;
/// How long category names are trusted before they are asked again.
const CATEGORIES_FOR: i64 = 24 * 3600;

pub struct TtRss {
    client: reqwest::Client,
    api: url::Url,
    /// Where its web interface is (the API's parent).
    web: url::Url,
    /// The web interface's form token for this session.
    token: Option<String>,
    user: String,
    password: Secret,
    session: Option<String>,
    /// Category id → name, and when they were read (unix seconds).
    categories: BTreeMap<i64, String>,
    categories_at: i64,
    traffic: Traffic,
}

/// What a TT-RSS client remembers between syncs.
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Memory {
    session: Option<String>,
    #[serde(default)]
    categories: BTreeMap<i64, String>,
    #[serde(default)]
    categories_at: i64,
}

impl TtRss {
    pub fn new(config: &SyncConfig, refresh: &RefreshConfig, password: Secret) -> Result<TtRss> {
        let mut base = url::Url::parse(config.url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| {
                SyncError::Protocol(format!(
                    "[sync] url {:?} is not an http(s) address",
                    config.server()
                ))
            })?;
        let _ = base.set_username("");
        let _ = base.set_password(None);
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let api = if base.path().ends_with("/api/") {
            base
        } else {
            base.join("api/").expect("a relative path joins")
        };
        // Through the proxy the feeds take (`[refresh] proxy`, or the
        // environment's), unless `no_proxy` names the server.
        let plan = refresh.proxy_plan(|name| std::env::var(name).ok());
        let mut builder = reqwest::Client::builder()
            .user_agent(refresh.user_agent())
            .connect_timeout(refresh.connect_timeout())
            .read_timeout(refresh.read_timeout())
            .timeout(Duration::from_secs(refresh.total_timeout_secs.max(60)))
            .no_proxy();
        if let Some(proxy) = plan.first_for(&api) {
            let proxy = reqwest::Proxy::all(proxy).map_err(|e| {
                SyncError::Protocol(format!("proxy {}: {e}", crate::fetch::proxy::label(proxy)))
            })?;
            builder = builder.proxy(proxy);
        }
        let client = builder
            .build()
            .map_err(|e| SyncError::Protocol(format!("cannot set up HTTP: {e}")))?;
        let web = api.join("..").expect("a relative path joins");
        Ok(TtRss {
            client,
            api,
            web,
            token: None,
            user: config.user.clone(),
            password,
            session: None,
            categories: BTreeMap::new(),
            categories_at: 0,
            traffic: Traffic::default(),
        })
    }

    /// One request: the answer's `content`, or the API's error word.
    async fn post(&mut self, body: &Value) -> Result<std::result::Result<Value, String>> {
        self.traffic.requests += 1;
        let sent = self
            .client
            .post(self.api.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await;
        let mut response = sent.map_err(network_error)?;
        let status = response.status();
        if !status.is_success() {
            let hint = match status.as_u16() {
                404 => ": no Tiny Tiny RSS API at this address (check [sync] url)",
                401 | 403 => ": the web server in front of it refused access",
                _ => "",
            };
            return Err(SyncError::Http {
                status: status.as_u16(),
                hint,
            });
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(network_error)? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > MAX_ANSWER {
                return Err(SyncError::Protocol(format!(
                    "an answer larger than {} MB",
                    MAX_ANSWER >> 20
                )));
            }
        }
        self.traffic.bytes += bytes.len() as u64;
        let answer: Value = serde_json::from_slice(&bytes).map_err(|_| {
            SyncError::Protocol("not a Tiny Tiny RSS API answer (check [sync] url)".into())
        })?;
        let content = answer.get("content").cloned().unwrap_or(Value::Null);
        match answer.get("status").and_then(Value::as_i64) {
            Some(0) => Ok(Ok(content)),
            Some(_) => Ok(Err(content
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("UNKNOWN_ERROR")
                .to_string())),
            None => Err(SyncError::Protocol("an answer without a status".into())),
        }
    }

    async fn login(&mut self) -> Result<()> {
        let started = Instant::now();
        self.session = None;
        self.token = None;
        let body = json!({"op": "login", "user": self.user, "password": self.password.expose()});
        let answer = self.post(&body).await;
        self.traffic.ms_login += started.elapsed().as_millis() as u64;
        match answer? {
            Ok(content) => {
                let session = content
                    .get("session_id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| SyncError::Protocol("a login without a session".into()))?;
                self.session = Some(session.to_string());
                Ok(())
            }
            Err(error) => Err(api_error(&error)),
        }
    }

    /// Calls `op` with `params`, logging in first when needed and again once
    /// when the session has expired.
    async fn call(&mut self, op: &str, params: Value) -> Result<Value> {
        for attempt in 0..2 {
            if self.session.is_none() {
                self.login().await?;
            }
            let mut body = params.clone();
            body["op"] = json!(op);
            body["sid"] = json!(self.session);
            match self.post(&body).await? {
                Ok(content) => return Ok(content),
                Err(error) if error == "NOT_LOGGED_IN" && attempt == 0 => {
                    tracing::info!("sync: the session expired; logging in again");
                    self.session = None;
                }
                Err(error) => return Err(api_error(&error)),
            }
        }
        Err(SyncError::Protocol(
            "the server dropped each new session".into(),
        ))
    }

    pub(super) async fn category_names(&mut self, wanted: impl Iterator<Item = i64>) -> Result<()> {
        let now = crate::clock::Clock::system().now_secs();
        let mut wanted = wanted.filter(|id| *id > 0);
        let stale = now - self.categories_at > CATEGORIES_FOR;
        if !stale && wanted.all(|id| self.categories.contains_key(&id)) {
            return Ok(());
        }
        let content = self
            .call("getCategories", json!({"include_empty": true}))
            .await?;
        self.categories = list(&content)?
            .iter()
            .filter_map(|c| {
                let id = number(c.get("id")?)?;
                let title = c.get("title")?.as_str()?;
                (id > 0).then(|| (id, clean_title(title)))
            })
            .collect();
        self.categories_at = now;
        Ok(())
    }

    /// Every id of a headline list, page by page.
    async fn ids(&mut self, feed: RemoteId, view_mode: &str) -> Result<Vec<RemoteId>> {
        let mut ids = Vec::new();
        loop {
            let content = self
                .call(
                    "getHeadlines",
                    json!({"feed_id": feed, "view_mode": view_mode, "limit": PAGE,
                           "skip": ids.len(), "show_content": false}),
                )
                .await?;
            let page = list(&content)?;
            ids.extend(page.iter().filter_map(|h| number(h.get("id")?)));
            if page.len() < PAGE {
                return Ok(ids);
            }
        }
    }
}

impl Backend for TtRss {
    fn name(&self) -> &'static str {
        "ttrss"
    }

    fn page_size(&self) -> usize {
        PAGE
    }

    fn memory(&self) -> String {
        serde_json::to_string(&Memory {
            session: self.session.clone(),
            categories: self.categories.clone(),
            categories_at: self.categories_at,
        })
        .unwrap_or_default()
    }

    fn remember(&mut self, memory: &str) {
        if let Ok(memory) = serde_json::from_str::<Memory>(memory) {
            self.session = memory.session;
            self.categories = memory.categories;
            self.categories_at = memory.categories_at;
        }
    }

    fn traffic(&self) -> Traffic {
        self.traffic
    }

    async fn feeds(&mut self) -> Result<Vec<RemoteFeed>> {
        let content = self.call("getFeeds", json!({"cat_id": -3})).await?;
        let rows = list(&content)?;
        let categories: Vec<i64> = rows
            .iter()
            .filter_map(|f| number(f.get("cat_id")?))
            .collect();
        self.category_names(categories.into_iter()).await?;
        Ok(rows
            .iter()
            .filter_map(|f| {
                let id = number(f.get("id")?)?;
                // An address only as the url crate writes it: no control
                // character of a hostile server reaches a list.
                let url = f.get("feed_url")?.as_str().and_then(|u| web_url(u, u))?;
                let title = clean_title(f.get("title").and_then(Value::as_str).unwrap_or(""));
                let category = f
                    .get("cat_id")
                    .and_then(number)
                    .and_then(|c| self.categories.get(&c).cloned());
                (id > 0).then_some(RemoteFeed {
                    id,
                    url,
                    title,
                    category,
                })
            })
            .collect())
    }

    async fn counts(&mut self) -> Result<HashMap<RemoteId, RemoteCounts>> {
        let content = self.call("getCounters", json!({})).await?;
        Ok(list(&content)?
            .iter()
            .filter(|c| c.get("kind").is_none())
            .filter_map(|c| {
                let id = c.get("id")?.as_i64().filter(|id| *id > 0)?;
                let counts = RemoteCounts {
                    unread: c.get("counter").and_then(number).unwrap_or(0) as u64,
                    starred: c.get("markedcounter").and_then(number).unwrap_or(0) as u64,
                };
                Some((id, counts))
            })
            .collect())
    }

    async fn articles_since(&mut self, since: RemoteId, skip: usize) -> Result<Vec<RemoteArticle>> {
        let content = self
            .call(
                "getHeadlines",
                // Unsanitised: the server's pass over every body is most of
                // the time a page takes (0.27 of 0.43 s for 200 articles), and
                // tidings shows HTML as text, its addresses made absolute here.
                json!({"feed_id": -4, "view_mode": "all_articles", "since_id": since,
                       "limit": PAGE, "skip": skip, "show_content": true,
                       "include_attachments": true, "sanitize": false}),
            )
            .await?;
        Ok(list(&content)?.iter().filter_map(article).collect())
    }

    async fn articles(&mut self, ids: &[RemoteId]) -> Result<Vec<RemoteArticle>> {
        let mut articles = Vec::new();
        for chunk in ids.chunks(IDS_PER_CALL) {
            let ids: Vec<String> = chunk.iter().map(i64::to_string).collect();
            let content = self
                .call("getArticle", json!({"article_id": ids.join(",")}))
                .await?;
            articles.extend(list(&content)?.iter().filter_map(article));
        }
        Ok(articles)
    }

    async fn feed_state(&mut self, feed: RemoteId) -> Result<FeedState> {
        Ok(FeedState {
            unread: self.ids(feed, "unread").await?,
            starred: self.ids(feed, "marked").await?,
        })
    }

    async fn set_flag(&mut self, ids: &[RemoteId], flag: Flag, on: bool) -> Result<()> {
        // Field 2 is "unread", so reading turns it off; field 0 is "marked".
        let (field, mode) = match flag {
            Flag::Read => (2, u8::from(!on)),
            Flag::Starred => (0, u8::from(on)),
        };
        for chunk in ids.chunks(IDS_PER_CALL) {
            let ids: Vec<String> = chunk.iter().map(i64::to_string).collect();
            self.call(
                "updateArticle",
                json!({"article_ids": ids.join(","), "field": field, "mode": mode}),
            )
            .await?;
        }
        Ok(())
    }

    async fn subscribe(&mut self, url: &str) -> Result<Subscribed> {
        let content = self
            .call("subscribeToFeed", json!({"feed_url": url}))
            .await?;
        let status = content.get("status").unwrap_or(&Value::Null);
        let code = status.get("code").and_then(number).unwrap_or(-1);
        Ok(match code {
            0 | 1 => match status.get("feed_id").and_then(number) {
                Some(id) => Subscribed::Feed(id),
                None => Subscribed::Listed,
            },
            _ => {
                let why = match code {
                    2 => "the server finds the address invalid".to_string(),
                    3 => "the server found no feed at that address".to_string(),
                    4 => "the server found several feeds at that address".to_string(),
                    5 => {
                        let message = status.get("message").and_then(Value::as_str);
                        format!(
                            "the server could not download it{}",
                            message
                                .map(|m| format!(" ({})", crate::text::sanitize_text(m)))
                                .unwrap_or_default()
                        )
                    }
                    6 => "the server could not read it as a feed".to_string(),
                    _ => format!("the server refused it (code {code})"),
                };
                Subscribed::Refused(why)
            }
        })
    }

    async fn rename(&mut self, feed: RemoteId, title: &str) -> Result<()> {
        self.rename_feed(feed, title).await
    }

    async fn set_category(&mut self, feed: RemoteId, category: Option<&str>) -> Result<()> {
        self.move_feed(feed, category).await
    }

    async fn unsubscribe(&mut self, feed: RemoteId) -> Result<()> {
        match self.call("unsubscribeFeed", json!({"feed_id": feed})).await {
            Err(SyncError::Protocol(error)) if error.contains("FEED_NOT_FOUND") => Ok(()),
            other => other.map(|_| ()),
        }
    }
}

pub(super) fn network_error(e: reqwest::Error) -> SyncError {
    if e.is_timeout() {
        return SyncError::Timeout;
    }
    let mut why = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(inner) = source {
        why = inner.to_string();
        source = inner.source();
    }
    SyncError::Unreachable(why)
}

fn api_error(error: &str) -> SyncError {
    match error {
        "LOGIN_ERROR" => SyncError::Auth,
        "API_DISABLED" => SyncError::ApiDisabled,
        other => SyncError::Protocol(format!(
            "the server said {}",
            crate::text::truncate(&crate::text::sanitize_text(other), 80)
        )),
    }
}

fn list(content: &Value) -> Result<&Vec<Value>> {
    content
        .as_array()
        .ok_or_else(|| SyncError::Protocol("a list was expected".into()))
}

/// A number the API sends as a number or as a string of digits.
fn number(value: &Value) -> Option<i64> {
    value
        .as_i64()
        .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
}

/// A headline (or `getArticle` row) as an article to store.
fn article(row: &Value) -> Option<RemoteArticle> {
    let text = |key: &str| {
        row.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let id = number(row.get("id")?)?;
    let feed = number(row.get("feed_id")?)?;
    let link = text("link").and_then(|l| web_url(l, l));
    let updated = row.get("updated").and_then(number).filter(|t| *t > 0);
    let enclosures = row
        .get("attachments")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|a| {
                    let url = a.get("content_url")?.as_str()?;
                    Some(Enclosure {
                        url: web_url(url, url)?,
                        mime_type: a
                            .get("content_type")
                            .and_then(Value::as_str)
                            .filter(|t| !t.is_empty())
                            .map(str::to_string),
                        length: None,
                        duration_secs: a.get("duration").and_then(number).map(|d| d as u64),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let categories = row
        .get("tags")
        .and_then(Value::as_array)
        .map(|tags| {
            tags.iter()
                .filter_map(Value::as_str)
                .map(clean_title)
                .filter(|t| !t.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let image = text("flavor_image").and_then(|i| web_url(i, i));
    let article = ParsedArticle {
        title: text("title").map(clean_title),
        link,
        author: text("author").map(clean_title),
        published: updated,
        content: text("content").map(|c| sanitize_owned(c.to_string())),
        categories,
        enclosures,
        thumbnails: image.iter().cloned().collect(),
        image,
        ..ParsedArticle::default()
    };
    Some(RemoteArticle {
        id,
        feed,
        article,
        unread: row.get("unread").and_then(Value::as_bool).unwrap_or(true),
        starred: row.get("marked").and_then(Value::as_bool).unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_headline_is_read_as_an_article_and_hostile_fields_are_made_safe() {
        let row = json!({
            "id": 41, "feed_id": "7", "unread": false, "marked": true, "updated": 1_800_000_000,
            "title": "Breaking \u{1b}[2J\u{1b}]0;owned\u{7} news &amp; more",
            "link": "javascript:alert(1)", "author": "Ada",
            "content": "<p>Body</p>", "tags": ["rust", ""],
            "attachments": [{"content_url": "https://cdn.example/ep.mp3", "content_type": "audio/mpeg", "duration": "62"}],
            "flavor_image": "https://cdn.example/cover.png"
        });
        let a = article(&row).unwrap();
        assert_eq!((a.id, a.feed, a.unread, a.starred), (41, 7, false, true));
        let title = a.article.title.unwrap();
        assert!(
            !title.contains('\u{1b}') && !title.contains('\u{7}'),
            "{title:?}"
        );
        assert!(
            title.starts_with("Breaking") && title.ends_with("news & more"),
            "{title:?}"
        );
        assert_eq!(a.article.link, None);
        assert_eq!(a.article.categories, ["rust"]);
        assert_eq!(a.article.enclosures[0].duration_secs, Some(62));
        assert_eq!(
            a.article.image.as_deref(),
            Some("https://cdn.example/cover.png")
        );
        assert_eq!(a.article.published, Some(1_800_000_000));
        // No id or no feed: not an article.
        assert!(article(&json!({"id": 1})).is_none());
    }

    #[test]
    fn the_servers_error_words_become_messages_a_person_can_act_on() {
        assert!(matches!(api_error("LOGIN_ERROR"), SyncError::Auth));
        assert!(matches!(api_error("API_DISABLED"), SyncError::ApiDisabled));
        assert!(SyncError::ApiDisabled.to_string().contains("Enable API"));
        let odd = api_error("\u{1b}[31mSOMETHING_ELSE").to_string();
        assert!(
            odd.contains("SOMETHING_ELSE") && !odd.contains('\u{1b}'),
            "{odd:?}"
        );
    }

    #[test]
    fn the_api_address_is_found_from_the_web_address() {
        let refresh = RefreshConfig::default();
        let api = |url: &str| {
            let config: SyncConfig = toml::from_str(&format!(
                "backend = \"ttrss\"\nurl = \"{url}\"\nuser = \"me\""
            ))
            .unwrap();
            TtRss::new(&config, &refresh, Secret::new("x")).map(|t| t.api.to_string())
        };
        assert_eq!(
            api("https://example.org/tt-rss").unwrap(),
            "https://example.org/tt-rss/api/"
        );
        assert_eq!(
            api("https://me:pw@example.org/tt-rss/api/").unwrap(),
            "https://example.org/tt-rss/api/"
        );
        assert!(api("ftp://example.org/").is_err());
    }
}
