//! What the worker reports and what time brings: the refresh's running totals
//! and the lists re-read as feeds arrive (at most every `RELOAD_MS`), a new
//! subscription's first fetch, images that came in for the open article, the
//! periodic refresh, another process's writes, and notices that expire.

use super::*;

impl App {
    pub(super) fn on_progress(&mut self, progress: Progress) -> anyhow::Result<()> {
        if matches!(progress, Progress::Started { .. }) {
            self.refresh = RefreshStats::default();
            self.refresh_started_ms = self.now_ms;
        }
        self.refresh.apply(&progress);
        match progress {
            Progress::Syncing => self.sync.running = true,
            Progress::Synced(record) => self.on_synced(*record)?,
            Progress::Started { .. }
            | Progress::Joined { .. }
            | Progress::Images { .. }
            | Progress::HostDown { .. } => {}
            Progress::FeedDone(done) => {
                if let Some(at) = self.subscribing.iter().position(|f| *f == done.feed_id) {
                    self.subscribing.swap_remove(at);
                    let failure = done
                        .record
                        .failed()
                        .then(|| done.record.error_message.clone().unwrap_or_default());
                    self.subscribed(done.feed_id, failure);
                }
                // An article set before may have a newer version now.
                if done.record.updated_articles > 0 {
                    self.renders.clear();
                }
                self.recent.push_front(done.clone());
                self.recent.truncate(RECENT_FETCHES);
                // The feed's mark (failed or not) follows at once, from the message.
                self.feeds.set_last_fetch(done.feed_id, &done.record);
                if self
                    .feeds
                    .selected_feed()
                    .is_some_and(|r| r.feed.id == done.feed_id)
                {
                    self.selected_fetch = Some(done.record.clone());
                }
                if done.record.new_articles > 0 || done.record.updated_articles > 0 {
                    // Re-read the lists at most every RELOAD_MS while feeds pour in
                    // (a tick catches up), so a big refresh never makes keys wait.
                    self.lists_stale = true;
                    if self.now_ms - self.lists_read_ms >= RELOAD_MS {
                        self.reload_lists()?;
                    }
                }
            }
            Progress::Finished(run) => {
                if let Some((feeds, next_due)) = self.refresh.resting.filter(|_| run.feeds == 0) {
                    let line = crate::report::resting_line(feeds, next_due, self.now_ms / 1000);
                    self.notify(line, false);
                }
                self.offline = run.feeds > 0 && run.ok + run.not_modified == 0;
                self.last_run = Some(run);
                self.reload_lists()?;
            }
            Progress::ImagesDone { feed_id, .. } => {
                if let Some(open) = self.open.as_mut().filter(|o| o.article.feed_id == feed_id) {
                    open.images = self.store.article_images(open.article.id)?;
                    self.layout_article();
                }
                if self
                    .feeds
                    .selected_feed()
                    .is_some_and(|r| r.feed.id == feed_id)
                {
                    self.load_selected_fetch()?;
                }
            }
            Progress::PageDone { article, error } => self.on_page_done(article, error)?,
            Progress::Aborted(reason) => {
                for feed in std::mem::take(&mut self.subscribing) {
                    self.subscribed(feed, Some(format!("refresh failed: {reason}")));
                }
                self.notify(format!("refresh stopped: {reason}"), true)
            }
        }
        self.data_version = self.store.data_version()?;
        Ok(())
    }

    pub(super) fn on_tick(&mut self) -> anyhow::Result<Vec<Effect>> {
        if self.typing_a_number() {
            let opened = self.open_typed_after_pause();
            if !self.typing_a_number() {
                self.needs_redraw = true;
                return Ok(opened);
            }
        }
        // Another process (a cron `tidings refresh`) wrote to the cache.
        let version = self.store.data_version()?;
        if self.lists_stale {
            self.reload_lists()?;
            self.needs_redraw = true;
        }
        if version != self.data_version {
            self.data_version = version;
            if !self.refresh.running() {
                self.last_run = self.store.last_run(0)?.map(|(run, _)| run);
            }
            self.reload_lists()?;
            self.needs_redraw = true;
        }
        if self
            .notice
            .as_ref()
            .is_some_and(|n| self.now_ms - n.at_ms > NOTICE_MS)
        {
            self.notice = None;
            self.needs_redraw = true;
        }
        // The elapsed time of a refresh moves, and so do the status line's
        // relative times ("last refresh 3 min ago"): redrawn when their text
        // changes, not at every tick.
        self.needs_redraw |= self.refresh.running();
        let times = self.relative_times();
        if times != self.times_shown {
            self.times_shown = times;
            self.needs_redraw = true;
        }
        let due = self.refresh_interval_ms > 0
            && self.now_ms - self.last_auto_refresh_ms >= self.refresh_interval_ms;
        self.count_sync_waiting();
        let mut effects: Vec<Effect> = self.sync_tick().into_iter().collect();
        effects.extend(self.make_pictures_ahead());
        if due && !self.refresh.running() {
            self.last_auto_refresh_ms = self.now_ms;
            effects.push(Effect::Worker(Command::RefreshDue));
        }
        Ok(effects)
    }

    /// The relative times the status line shows, as it writes them.
    fn relative_times(&self) -> [Option<String>; 2] {
        let now = self.now_ms / 1000;
        let ago = |at_ms: i64| crate::report::ago(at_ms / 1000, now);
        [
            self.last_run.as_ref().map(|run| ago(run.started_at_ms)),
            self.selected_fetch.as_ref().map(|f| ago(f.started_at_ms)),
        ]
    }
}
