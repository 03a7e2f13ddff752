//! The reader's view of sync: whether it is on, running, how the last one
//! went and how many changes wait to be pushed; the timer that asks the
//! worker every minute whether a sync is due (the worker decides, by the
//! interval and the backoff after failures); and what a finished sync says.
//! The reader never waits for the server: syncs run in the worker, and their
//! articles arrive through the store like a refresh's.

use super::*;
use crate::store::SyncRecord;

/// How often the reader asks the worker whether a sync is due.
const ASK_EVERY_MS: i64 = 60_000;

#[derive(Debug, Clone, Default)]
pub struct SyncStatus {
    /// A `[sync]` section is configured.
    pub on: bool,
    pub running: bool,
    pub last: Option<SyncRecord>,
    /// Changes made here that the server does not have yet.
    pub waiting: u64,
    /// The cache's version when `waiting` was counted.
    counted_at: (i64, u64),
    asked_ms: i64,
}

impl SyncStatus {
    pub fn new(store: &Store, on: bool, now_ms: i64) -> anyhow::Result<SyncStatus> {
        if !on {
            return Ok(SyncStatus::default());
        }
        Ok(SyncStatus {
            on,
            running: false,
            last: store.recent_syncs(1)?.pop(),
            waiting: store.sync_changes_waiting()?,
            counted_at: store.cache_version()?,
            asked_ms: now_ms,
        })
    }
}

impl App {
    pub(super) fn on_synced(&mut self, record: SyncRecord) -> anyhow::Result<()> {
        self.sync.running = false;
        self.sync.waiting = self.store.sync_changes_waiting()?;
        let failed = record.error.is_some();
        let pulled = record.articles_pulled + record.states_pulled;
        let changed = pulled + record.feeds_added + record.feeds_removed + record.changes_pushed;
        if failed || changed > 0 {
            self.notify(crate::report::sync_line(&record), failed);
        }
        self.sync.last = Some(record);
        if changed > 0 {
            self.renders.clear();
            self.reload_lists()?;
        }
        self.needs_redraw = true;
        Ok(())
    }

    /// The worker's command when a minute has passed since the last ask.
    pub(super) fn sync_tick(&mut self) -> Option<Effect> {
        if !self.sync.on || self.sync.running || self.now_ms - self.sync.asked_ms < ASK_EVERY_MS {
            return None;
        }
        self.sync.asked_ms = self.now_ms;
        Some(Effect::Worker(Command::SyncDue))
    }

    /// How many changes wait for the server, counted again at a tick only
    /// when the cache changed since (a read here, a sync, a refresh).
    pub(super) fn count_sync_waiting(&mut self) {
        if !self.sync.on {
            return;
        }
        let Ok(version) = self.store.cache_version() else {
            return;
        };
        if version == self.sync.counted_at {
            return;
        }
        let waiting = self
            .store
            .sync_changes_waiting()
            .unwrap_or(self.sync.waiting);
        self.needs_redraw |= waiting != self.sync.waiting;
        self.sync.waiting = waiting;
        self.sync.counted_at = version;
    }
}
