//! A feed's own settings, each overriding the config for that feed only:
//! how often it is fetched, whether its images are cached and its articles'
//! pages read for their full text, how much of it is kept, whether its own
//! wishes (`<ttl>`, `sy:updatePeriod`, `max-age`) hold it back, whether it
//! takes part in "one story once", and the proxy it goes through. `None`
//! means the config's value; the refresh reads them with the feed
//! ([`crate::store::FetchTarget`]), retention inside the save.

use rusqlite::{OptionalExtension, params};

use super::{Result, Store};
use crate::model::FeedId;

/// What a feed overrides; `None` everywhere is "as configured".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedSettings {
    /// Minutes between fetches.
    pub refresh_minutes: Option<u64>,
    pub images: Option<bool>,
    pub full_text: Option<bool>,
    /// Articles kept (0: all).
    pub keep_articles: Option<u64>,
    /// Days kept (0: forever).
    pub keep_days: Option<u64>,
    pub honour_rest: Option<bool>,
    /// In "one story once" (the default) or kept out of it.
    pub dedup: bool,
    /// An address, or `direct` for none.
    pub proxy: Option<String>,
}

impl Default for FeedSettings {
    fn default() -> Self {
        FeedSettings {
            refresh_minutes: None,
            images: None,
            full_text: None,
            keep_articles: None,
            keep_days: None,
            honour_rest: None,
            dedup: true,
            proxy: None,
        }
    }
}

impl Store {
    /// A feed's settings; `None` when there is no such feed.
    pub fn feed_settings(&self, feed: FeedId) -> Result<Option<FeedSettings>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT refresh_minutes, images, full_text, keep_articles, keep_days,
                        honour_rest, dedup, proxy
                 FROM feeds WHERE id = ?1",
            )?
            .query_row([feed.0], |r| {
                Ok(FeedSettings {
                    refresh_minutes: r.get(0)?,
                    images: r.get(1)?,
                    full_text: r.get(2)?,
                    keep_articles: r.get(3)?,
                    keep_days: r.get(4)?,
                    honour_rest: r.get(5)?,
                    dedup: r.get(6)?,
                    proxy: r.get(7)?,
                })
            })
            .optional()?)
    }

    /// Saves a feed's settings, all of them.
    pub fn set_feed_settings(&mut self, feed: FeedId, settings: &FeedSettings) -> Result<()> {
        let s = settings;
        self.conn.execute(
            "UPDATE feeds SET refresh_minutes = ?2, images = ?3, full_text = ?4,
                keep_articles = ?5, keep_days = ?6, honour_rest = ?7, dedup = ?8, proxy = ?9
             WHERE id = ?1",
            params![
                feed.0,
                s.refresh_minutes,
                s.images,
                s.full_text,
                s.keep_articles,
                s.keep_days,
                s.honour_rest,
                s.dedup,
                s.proxy
            ],
        )?;
        Ok(())
    }

    /// The shortest refresh interval a feed has of its own, in minutes.
    pub fn shortest_feed_refresh_minutes(&self) -> Result<Option<u64>> {
        Ok(self
            .conn
            .prepare_cached("SELECT min(refresh_minutes) FROM feeds WHERE saved_at IS NULL")?
            .query_row([], |r| r.get(0))?)
    }

    /// Whether a feed's new articles get their full text: its own setting,
    /// or `None` for the configured default.
    pub fn feed_full_text(&self, feed: FeedId) -> Result<Option<bool>> {
        Ok(self.feed_settings(feed)?.and_then(|s| s.full_text))
    }

    /// Changes some of a feed's settings (`change` is given them all);
    /// nothing when there is no such feed.
    pub fn update_feed_settings(
        &mut self,
        feed: FeedId,
        change: impl FnOnce(&mut FeedSettings),
    ) -> Result<()> {
        if let Some(mut settings) = self.feed_settings(feed)? {
            change(&mut settings);
            self.set_feed_settings(feed, &settings)?;
        }
        Ok(())
    }
}
