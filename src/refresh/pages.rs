//! Full text in the worker: one article's page on demand (`F` in the
//! reader), and after a refresh the pages of the new articles of the feeds
//! that want them, as politely as the feeds were fetched (at most
//! `refresh.per_host` requests on a host at once, `refresh.concurrency` in
//! all). Each page's images are cached with the article's.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use super::{Progress, Refresher};
use crate::fulltext::{PageOutcome, fetch_page};
use crate::images::find_in_html;
use crate::model::{ArticleId, FeedId};
use crate::store::StoreError;

/// Most pages fetched after one refresh (the newest articles first): a new
/// subscription with a long history does not fetch a thousand pages at once.
const MOST_PAGES_PER_RUN: usize = 200;

impl Refresher {
    /// Fetches an article's page for its full text, stores what came of it
    /// and caches the images it shows; says so with [`Progress::PageDone`].
    pub(super) async fn fetch_article_page(
        &mut self,
        article: ArticleId,
        progress: &mpsc::UnboundedSender<Progress>,
    ) -> Result<(), StoreError> {
        let stored = match self.store.as_ref() {
            Some(store) => store.article(article)?,
            None => return Ok(()),
        };
        let Some((feed, link)) = stored.and_then(|a| Some((a.feed_id, a.link?))) else {
            let error = Some("the article has no web address".to_string());
            let _ = progress.send(Progress::PageDone { article, error });
            return Ok(());
        };
        let public_only = self.feed_is_public(feed).await?;
        let outcome = fetch_page(&self.fetcher, &link, public_only).await;
        self.save_page(article, outcome, progress).await
    }

    /// Fetches the pages of the articles stored since `since` (seconds) of
    /// the feeds that want their full text.
    pub(super) async fn fetch_new_pages(
        &mut self,
        since: i64,
        progress: &mpsc::UnboundedSender<Progress>,
    ) -> Result<(), StoreError> {
        let Some(store) = self.store.as_ref() else {
            return Ok(());
        };
        let wanted =
            store.pages_to_fetch(since, self.config.refresh.full_text, MOST_PAGES_PER_RUN)?;
        if wanted.is_empty() {
            return Ok(());
        }
        let all = Arc::new(Semaphore::new(self.config.refresh.concurrency.max(1)));
        let mut hosts: HashMap<String, Arc<Semaphore>> = HashMap::new();
        let mut fetches = JoinSet::new();
        let mut public: HashMap<FeedId, bool> = HashMap::new();
        for (article, feed, link) in wanted {
            let public_only = match public.get(&feed) {
                Some(&known) => known,
                None => {
                    let known = self.feed_is_public(feed).await?;
                    public.insert(feed, known);
                    known
                }
            };
            let host = url::Url::parse(&link)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_default();
            let per_host = self.config.refresh.per_host.max(1);
            let host = hosts
                .entry(host)
                .or_insert_with(|| Arc::new(Semaphore::new(per_host)))
                .clone();
            let (all, fetcher) = (all.clone(), self.fetcher.clone());
            fetches.spawn(async move {
                let _host = host.acquire_owned().await.expect("never closed");
                let _all = all.acquire_owned().await.expect("never closed");
                (article, fetch_page(&fetcher, &link, public_only).await)
            });
        }
        while let Some(done) = fetches.join_next().await {
            if let Ok((article, outcome)) = done {
                self.save_page(article, outcome, progress).await?;
            }
        }
        Ok(())
    }

    /// Whether a feed lives on a public address (its pages then may not lead
    /// to a private one).
    async fn feed_is_public(&mut self, feed: FeedId) -> Result<bool, StoreError> {
        let url = match self.store.as_ref() {
            Some(store) => store.fetch_url_of(feed)?.unwrap_or_default(),
            None => return Ok(true),
        };
        Ok(!crate::fetch::address::feed_is_private(&url).await)
    }

    async fn save_page(
        &mut self,
        article: ArticleId,
        outcome: PageOutcome,
        progress: &mpsc::UnboundedSender<Progress>,
    ) -> Result<(), StoreError> {
        let Some(store) = self.store.as_mut() else {
            return Ok(());
        };
        let images = match &outcome.content {
            Ok(content) => find_in_html(content, &outcome.final_url),
            Err(_) => Vec::new(),
        };
        store.save_page(article, &outcome, &images, self.clock.now_secs())?;
        if let Err(why) = &outcome.content {
            tracing::info!(page = %outcome.final_url, "no full text: {why}");
        }
        if outcome.content.is_ok() && !images.is_empty() {
            self.cache_article_images(article, progress).await?;
        }
        let _ = progress.send(Progress::PageDone {
            article,
            error: outcome.content.err(),
        });
        Ok(())
    }
}
