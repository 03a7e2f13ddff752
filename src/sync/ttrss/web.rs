//! What tt-rss's API (level 15) cannot do, renaming a feed and moving it to
//! another category, done through its own web interface with the API's
//! session: the page that session opens gives the form token, and the
//! `pref-feeds` handler's batch editor saves only the fields it is sent, so
//! nothing else about the feed changes.

use std::collections::BTreeMap;

use super::{TtRss, network_error};
use crate::sync::{RemoteId, Result, SyncError};

impl TtRss {
    /// A form sent to the web interface (`backend.php`) with this session,
    /// for what the API cannot do. Its form token is read from the page the
    /// session opens, once; a session the page does not know is renewed once.
    async fn web_form(&mut self, fields: &[(&str, &str)]) -> Result<()> {
        for attempt in 0..2 {
            if self.session.is_none() {
                self.login().await?;
            }
            let cookie = format!("ttrss_sid={}", self.session.as_deref().unwrap_or(""));
            if self.token.is_none() {
                self.traffic.requests += 1;
                let page = self
                    .client
                    .get(self.web.join("index.php").expect("joins"))
                    .header(reqwest::header::COOKIE, &cookie)
                    .send()
                    .await
                    .map_err(network_error)?;
                let text = page.text().await.map_err(network_error)?;
                self.traffic.bytes += text.len() as u64;
                static TOKEN: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
                    regex::Regex::new(r#"csrf_token\s*=\s*["']([0-9a-zA-Z]+)["']"#).expect("valid")
                });
                match TOKEN.captures(&text) {
                    Some(token) => self.token = Some(token[1].to_string()),
                    None if attempt == 0 => {
                        self.session = None;
                        continue;
                    }
                    None => {
                        return Err(SyncError::Protocol(
                            "its web interface gave no form token (renames and categories \
                             stay here)"
                                .into(),
                        ));
                    }
                }
            }
            let body = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(fields)
                .append_pair("csrf_token", self.token.as_deref().unwrap_or(""))
                .finish();
            self.traffic.requests += 1;
            let answer = self
                .client
                .post(self.web.join("backend.php").expect("joins"))
                .header(reqwest::header::COOKIE, &cookie)
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(body)
                .send()
                .await
                .map_err(network_error)?;
            let status = answer.status();
            let text = answer.text().await.map_err(network_error)?;
            self.traffic.bytes += text.len() as u64;
            if status.is_success() && !text.contains("NOT_LOGGED_IN") {
                return Ok(());
            }
            if !status.is_success() {
                return Err(SyncError::Http {
                    status: status.as_u16(),
                    hint: "",
                });
            }
            // The session or its token went stale: once more, afresh.
            self.session = None;
        }
        Err(SyncError::Protocol(
            "its web interface refused the session".into(),
        ))
    }

    /// Gives a feed a new name (the batch editor saves only the fields it is sent).
    pub(super) async fn rename_feed(&mut self, feed: RemoteId, title: &str) -> Result<()> {
        let id = feed.to_string();
        self.web_form(&[
            ("op", "pref-feeds"),
            ("method", "batchEditSave"),
            ("ids", &id),
            ("title", title),
        ])
        .await
    }

    /// Puts a feed in the category named (created when missing), or in none.
    pub(super) async fn move_feed(&mut self, feed: RemoteId, category: Option<&str>) -> Result<()> {
        let find = |categories: &BTreeMap<i64, String>| {
            category.map(|name| {
                categories
                    .iter()
                    .find(|(_, n)| n.as_str() == name)
                    .map(|(id, _)| *id)
            })
        };
        self.categories_at = 0;
        self.category_names(std::iter::empty()).await?;
        let id = match find(&self.categories) {
            None => 0,
            Some(Some(id)) => id,
            Some(None) => {
                let name = category.unwrap_or_default();
                self.web_form(&[("op", "pref-feeds"), ("method", "addCat"), ("cat", name)])
                    .await?;
                self.categories_at = 0;
                self.category_names(std::iter::empty()).await?;
                find(&self.categories).flatten().ok_or_else(|| {
                    SyncError::Protocol(format!("the category {name:?} was not created"))
                })?
            }
        };
        let (feed, id) = (feed.to_string(), id.to_string());
        self.web_form(&[
            ("op", "pref-feeds"),
            ("method", "batchEditSave"),
            ("ids", &feed),
            ("cat_id", &id),
        ])
        .await
    }
}
