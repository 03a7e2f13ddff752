//! The refresh worker: [`Command`]s in, [`Progress`] out. A [`Refresher`]
//! owns its own store connection and its HTTP client and shares nothing with
//! its callers, so the reader and the headless commands drive the very same
//! code, and it is the one writer of fetch results: a subscription made in
//! the reader is a command to it too.
//!
//! Where each part lives:
//! - `run`: one run, from the feeds to fetch to `Finished`, as a loop that
//!   moves each feed and image through its stages (see its doc for the flow);
//! - `scheduler`: who goes next, busiest host first, within the per-host and
//!   global limits, feeds before images;
//! - `stages`: fetching one feed and what the answer means for it (politeness
//!   below), and [`read_answer`], the one path from an answer to a parsed feed;
//! - `writer`: the thread that saves each feed (articles, HTTP state and fetch
//!   record together) and reports it;
//! - `images`: downloading, checking and recording the images articles show.
//!
//! Articles never travel in messages: the UI re-reads the store.
//!
//! Politeness: validators are sent back; a 304 still takes over a new ETag; a
//! permanent redirect moves `fetch_url`; 410 marks the feed gone; 429/503 set a
//! `retry_after_until` that even an explicit refresh respects; `<ttl>` and
//! `max-age` give a lower bound for the next periodic fetch. Every rule that
//! depends on time reads the injected [`Clock`].

mod image_downloads;
mod images;
mod lock;
mod pages;
mod run;
mod scheduler;
mod stages;
mod sync;
mod writer;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use anyhow::Context;
use tokio::sync::{Semaphore, mpsc};

pub use images::{ImagePlan, evict, sweep_unrecorded};
pub use stages::{ReadFeed, Unreadable, read_answer};

use crate::clock::Clock;
use crate::config::{Config, Paths};
use crate::fetch::{Fetcher, Response};
use crate::model::{ArticleId, ErrorKind, FeedId, FetchRecord, ImageStats, RunStats};
use crate::store::{FetchTarget, Store};
use run::{Inbox, Which};

pub use lock::{Attempt, RunLock, busy_message};

/// What the front ends ask of the worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Fetch now: every feed (or the named ones), except those a server asked
    /// to leave alone (Retry-After; their `<ttl>`, `sy:updatePeriod` or
    /// `max-age` since the last fetch) or that are gone (unless named).
    Refresh(Option<Vec<FeedId>>),
    /// [`Command::Refresh`] that fetches the resting feeds too (`--force`);
    /// Retry-After still holds.
    RefreshForced(Option<Vec<FeedId>>),
    /// The periodic refresh: only feeds whose next fetch time has come.
    RefreshDue,
    /// Download the images an article shows that are not in the cache (new,
    /// evicted, or failed and due for a retry): asked when it is opened.
    CacheImages(ArticleId),
    /// Fetch an article's web page for its full text (and its images).
    FetchPage(ArticleId),
    /// Sync with the configured server now (`tidings sync`): push the
    /// changes made here, pull its subscriptions, articles and state, then
    /// cache the new articles' images and pages.
    Sync,
    /// The reader's timer: [`Command::Sync`] when the interval since the
    /// last sync has passed, or the backoff after a failure.
    SyncDue,
    /// Push the changes made here to the server, pulling nothing (after a
    /// subscription, so that the server has it at once).
    SyncPush,
    /// Save a new subscription's first answer (the one its probe fetched) as
    /// its first fetch. Joins a run in progress; otherwise runs on its own.
    Subscribe(Box<Subscription>),
}

/// A feed just subscribed to, with the answer already in hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub feed: FeedId,
    pub url: String,
    /// What progress reports call it until its own title is known.
    pub title: String,
    pub answer: Response,
}

impl Subscription {
    /// The feed as a run fetches it (new: no validators, no wait), and its answer.
    fn into_target(self) -> (FetchTarget, Response) {
        let target = FetchTarget {
            id: self.feed,
            title: self.title,
            fetch_url: self.url,
            etag: None,
            last_modified: None,
            next_fetch_at: None,
            retry_after_until: None,
            rest_until: None,
            gone: false,
            synced: false,
            refresh_minutes: None,
            images: None,
            honour_rest: None,
            proxy: None,
        };
        (target, self.answer)
    }
}

/// What the worker reports, in the order it happens.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    Started {
        total: usize,
        /// Feeds left out (gone, Retry-After, resting).
        skipped: usize,
        /// Of those, the feeds left to rest because their servers asked
        /// (`<ttl>`, `sy:updatePeriod`, `max-age`), and when the first of
        /// them is due (unix seconds).
        resting: Option<(usize, i64)>,
    },
    /// Feeds subscribed to meanwhile joined the run in progress.
    Joined {
        feeds: usize,
    },
    FeedDone(FeedDone),
    /// A feed's images (found in the fetch just reported) are downloaded.
    ImagesDone {
        feed_id: FeedId,
        stats: ImageStats,
    },
    /// The run's images so far: done (cached, failed or deferred) of those
    /// planned, which grows as feeds are saved.
    Images {
        done: usize,
        total: usize,
        deferred: usize,
    },
    /// A host did not answer twice in a row: the rest of its feeds and images
    /// are deferred to a later run.
    HostDown {
        host: String,
    },
    Finished(RunStats),
    /// The run could not go on (the database failed); what was saved stays.
    Aborted(String),
    /// A sync with the server began.
    Syncing,
    /// A sync ended: what it did, or why it failed (its record is saved).
    Synced(Box<crate::sync::SyncRecord>),
    /// An article's page was fetched for its full text (`error`: why not).
    PageDone {
        article: ArticleId,
        error: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct FeedDone {
    pub feed_id: FeedId,
    pub title: String,
    pub record: FetchRecord,
}

/// Running totals of a refresh, folded from the progress messages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RefreshStats {
    pub total: usize,
    pub skipped: usize,
    pub done: usize,
    pub ok: u64,
    pub not_modified: u64,
    pub failed: u64,
    pub new_articles: u64,
    pub bytes_wire: u64,
    /// What the run's image downloads came to so far.
    pub images: ImageStats,
    /// The run's images done (cached, failed or deferred), planned, deferred.
    pub images_done: usize,
    pub images_total: usize,
    pub images_deferred: usize,
    /// Feeds left for a later run since their host did not answer.
    pub feeds_deferred: u64,
    /// Hosts that did not answer, in the order they were found.
    pub hosts_down: Vec<String>,
    pub finished: Option<RunStats>,
    pub aborted: Option<String>,
    /// Feeds left to rest as their servers asked, and when the first is due.
    pub resting: Option<(usize, i64)>,
    /// Articles whose page was read for its full text, and those whose page
    /// could not be.
    pub pages_read: u64,
    pub pages_failed: u64,
}

impl RefreshStats {
    pub fn apply(&mut self, progress: &Progress) {
        match progress {
            Progress::Started {
                total,
                skipped,
                resting,
            } => {
                *self = RefreshStats {
                    total: *total,
                    skipped: *skipped,
                    resting: *resting,
                    ..RefreshStats::default()
                };
            }
            Progress::Joined { feeds } => self.total += feeds,
            Progress::FeedDone(done) => {
                let r = &done.record;
                self.done += 1;
                self.bytes_wire += r.bytes_wire;
                self.new_articles += r.new_articles;
                if r.error_kind == Some(ErrorKind::Deferred) {
                    self.feeds_deferred += 1;
                }
                if r.failed() {
                    self.failed += 1;
                } else {
                    self.ok += 1;
                    if r.not_modified {
                        self.not_modified += 1;
                    }
                }
            }
            Progress::ImagesDone { stats, .. } => self.images.add(stats),
            Progress::Images {
                done,
                total,
                deferred,
            } => {
                self.images_done = *done;
                self.images_total = *total;
                self.images_deferred = *deferred;
            }
            Progress::HostDown { host } => self.hosts_down.push(host.clone()),
            Progress::Finished(stats) => self.finished = Some(stats.clone()),
            Progress::Aborted(reason) => self.aborted = Some(reason.clone()),
            Progress::PageDone { error: None, .. } => self.pages_read += 1,
            Progress::PageDone { error: Some(_), .. } => self.pages_failed += 1,
            // The reader and the commands follow syncs themselves.
            Progress::Syncing | Progress::Synced(_) => {}
        }
    }

    /// The totals so far, as the store keeps them for a run (times left to the caller).
    pub fn totals(&self) -> RunStats {
        RunStats {
            feeds: self.done as u64,
            ok: self.ok,
            not_modified: self.not_modified,
            failed: self.failed,
            new_articles: self.new_articles,
            bytes_wire: self.bytes_wire,
            images: self.images,
            ..RunStats::default()
        }
    }

    pub fn running(&self) -> bool {
        self.finished.is_none() && self.aborted.is_none() && self.total > 0
    }
}

/// How many feeds fetched for the first time make `tidings refresh` store a
/// run in bulk (`store::bulk_load`): an imported OPML of a thousand feeds.
pub const BULK_FIRST_REFRESH_FEEDS: usize = 1000;

/// A refresh worker: its store connection, HTTP client, configuration,
/// image plan and clock.
pub struct Refresher {
    /// Lent to the run's writer thread while a run is in progress.
    store: Option<Store>,
    fetcher: Fetcher,
    config: Config,
    /// Documents being parsed or waiting to be saved: two per core keep the
    /// cores and the writer busy; more would only hold more documents in memory.
    parsers: Arc<Semaphore>,
    /// Where to cache the images articles show (none: images are not downloaded).
    images: Option<Arc<ImagePlan>>,
    clock: Clock,
    /// The lock that keeps refreshes of one database from running together.
    run_lock: RunLockState,
    /// A run that fetches at least this many feeds for the first time (and
    /// they are most of the run) stores them without the indexes by date and
    /// builds those once its articles are all in (`store::bulk_load`). None:
    /// never (the reader, whose lists need the indexes while it runs).
    bulk_first_refresh: Option<usize>,
}

/// Whether and how a [`Refresher`] keeps to one refresh at a time.
#[derive(Debug)]
enum RunLockState {
    /// No lock (a store of the caller's own, as tests have).
    Unlocked,
    /// Each run takes the lock at this path, or does not run.
    PerRun(std::path::PathBuf),
    /// Taken already, for all the worker's runs.
    Held { _lock: RunLock },
}

/// The handles of a worker running as a task: where to send commands, where
/// its progress arrives, and the task itself.
pub type Worker = (
    mpsc::UnboundedSender<Command>,
    mpsc::UnboundedReceiver<Progress>,
    tokio::task::JoinHandle<()>,
);

impl Refresher {
    pub fn new(mut store: Store, config: Config) -> anyhow::Result<Refresher> {
        store.use_config_filters(config.filters());
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Refresher {
            fetcher: Fetcher::new(&config.refresh)?,
            store: Some(store),
            config,
            parsers: Arc::new(Semaphore::new(2 * cores)),
            images: None,
            clock: Clock::system(),
            run_lock: RunLockState::Unlocked,
            bulk_first_refresh: None,
        })
    }

    /// The worker the reader and the commands run: its own connection to the
    /// database in the data directory, and images cached there when the
    /// configuration says so.
    pub fn configured(paths: &Paths, config: Config) -> anyhow::Result<Refresher> {
        let store = Store::open(&paths.database)
            .with_context(|| format!("cannot open {}", paths.database.display()))?;
        let images = ImagePlan::from_config(paths, &config);
        let mut refresher = Refresher::new(store, config)?.with_images(images);
        refresher.run_lock = RunLockState::PerRun(RunLock::path_for(&paths.database));
        Ok(refresher)
    }

    /// Runs its refreshes under `lock`, taken already (`tidings refresh`
    /// takes it first, to say so or wait when another refresh holds it).
    pub fn holding(mut self, lock: RunLock) -> Refresher {
        self.run_lock = RunLockState::Held { _lock: lock };
        self
    }

    /// Stores a run that fetches at least `min_feeds` feeds for the first
    /// time in bulk (`store::bulk_load`).
    pub fn with_bulk_first_refresh(mut self, min_feeds: usize) -> Refresher {
        self.bulk_first_refresh = Some(min_feeds);
        self
    }

    /// Caches the images of every refreshed feed as `plan` says.
    pub fn with_images(mut self, plan: Option<ImagePlan>) -> Refresher {
        self.images = plan.map(Arc::new);
        self
    }

    /// Reads time from `clock` (tests move it by hand).
    pub fn with_clock(mut self, clock: Clock) -> Refresher {
        self.clock = clock;
        self
    }

    /// Starts the worker on the current runtime. It ends when the command
    /// sender closes (after finishing the run in progress).
    pub fn spawn(mut self) -> Worker {
        let (command_tx, mut command_rx) = mpsc::unbounded_channel();
        let (progress_tx, progress_rx) = mpsc::unbounded_channel();
        let handle = tokio::spawn(async move {
            // Commands that came in during a run, other than subscriptions.
            let mut later = VecDeque::new();
            loop {
                let command = match later.pop_front() {
                    Some(command) => command,
                    None => match command_rx.recv().await {
                        Some(command) => command,
                        None => break,
                    },
                };
                let mut inbox = Inbox {
                    commands: &mut command_rx,
                    later: &mut later,
                    open: true,
                };
                self.carry_out(command, &progress_tx, Some(&mut inbox))
                    .await;
            }
        });
        (command_tx, progress_rx, handle)
    }

    /// Runs one command to its end, reporting as it goes.
    pub async fn run(&mut self, command: Command, progress: &mpsc::UnboundedSender<Progress>) {
        self.carry_out(command, progress, None).await;
    }

    /// Carries out one command, then saves what the proxies carried for it.
    async fn carry_out(
        &mut self,
        command: Command,
        progress: &mpsc::UnboundedSender<Progress>,
        inbox: Option<&mut Inbox<'_>>,
    ) {
        self.carry_out_command(command, progress, inbox).await;
        let carried = self.fetcher.take_proxy_log();
        if let Some(store) = self.store.as_mut()
            && let Err(e) = store.save_proxy_uses(&carried)
        {
            tracing::warn!("cannot save the proxies' statistics: {e}");
        }
    }

    async fn carry_out_command(
        &mut self,
        command: Command,
        progress: &mpsc::UnboundedSender<Progress>,
        inbox: Option<&mut Inbox<'_>>,
    ) {
        let none = HashMap::new();
        let run_started = self.clock.now_secs();
        // A refresh of every feed waits for no other: it does not run, and
        // says so unless it is the reader's periodic one.
        let _lock = match (&command, &self.run_lock) {
            (
                Command::Refresh(_)
                | Command::RefreshForced(_)
                | Command::RefreshDue
                | Command::Sync
                | Command::SyncDue
                | Command::SyncPush,
                RunLockState::PerRun(path),
            ) => match RunLock::try_take(path) {
                Ok(Attempt::Held(lock)) => Some(lock),
                Ok(Attempt::Busy(pid)) => {
                    let message = format!("{}; nothing was fetched", busy_message(pid));
                    tracing::info!("refresh skipped: {message}");
                    if matches!(
                        command,
                        Command::Refresh(_) | Command::RefreshForced(_) | Command::Sync
                    ) {
                        let _ = progress.send(Progress::Aborted(message));
                    }
                    return;
                }
                Err(e) => {
                    tracing::warn!("cannot take the refresh lock {}: {e}", path.display());
                    None
                }
            },
            _ => None,
        };
        // An explicit refresh syncs first: the synced feeds come from the server.
        if matches!(command, Command::Refresh(_) | Command::RefreshForced(_)) {
            self.sync_now(false, progress).await;
        }
        let outcome = match command {
            Command::Sync | Command::SyncPush => {
                self.sync_now(command == Command::SyncPush, progress).await;
                return;
            }
            Command::SyncDue => {
                match self.sync_due() {
                    Ok(Some(push_only)) => self.sync_now(push_only, progress).await,
                    Ok(None) => {}
                    Err(e) => tracing::warn!("cannot tell whether a sync is due: {e}"),
                }
                return;
            }
            Command::Refresh(named) => {
                self.try_run(named, Which::Rested, none, progress, inbox)
                    .await
            }
            Command::RefreshForced(named) => {
                self.try_run(named, Which::All, none, progress, inbox).await
            }
            Command::RefreshDue => self.try_run(None, Which::Due, none, progress, inbox).await,
            Command::Subscribe(subscription) => {
                let Subscription { feed, answer, .. } = *subscription;
                let answered = HashMap::from([(feed, answer)]);
                self.try_run(Some(vec![feed]), Which::All, answered, progress, inbox)
                    .await
            }
            Command::CacheImages(article) => {
                if let Err(e) = self.cache_article_images(article, progress).await {
                    tracing::warn!("caching an article's images failed: {e}");
                }
                return;
            }
            Command::FetchPage(article) => {
                if let Err(e) = self.fetch_article_page(article, progress).await {
                    tracing::warn!("fetching an article's page failed: {e}");
                }
                return;
            }
        };
        // The new articles of the feeds that want their full text.
        let outcome = match outcome {
            Ok(stats) => match self.fetch_new_pages(run_started, progress).await {
                Ok(()) => Ok(stats),
                Err(e) => Err(e),
            },
            failed => failed,
        };
        drop(_lock);
        match outcome {
            Ok(stats) => {
                let _ = progress.send(Progress::Finished(stats));
            }
            Err(e) => {
                tracing::error!("refresh aborted: {e}");
                let _ = progress.send(Progress::Aborted(e.to_string()));
            }
        }
    }
}

#[cfg(test)]
mod tests;
