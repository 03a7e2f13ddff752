//! The refresh worker: [`Command`]s in, [`Progress`] out. It owns its own store
//! connection and its HTTP client and shares nothing with its callers, so the
//! TUI and the headless `tidings refresh` drive the very same code.
//!
//! One run: read the feeds to fetch; a [`Scheduler`] starts a task per feed
//! (busiest host first, within the per-host and global limits); each task
//! fetches, then decodes and parses in `spawn_blocking` (a parser panic fails
//! that feed only) and hands the result to the one writer, a thread that owns
//! the store for the run, saves each feed with its articles, HTTP state and
//! fetch record atomically, and reports [`Progress::FeedDone`]. Articles never
//! travel in messages: the UI re-reads the store. The images of each saved
//! feed follow behind the feeds on the same per-host slots, a few at a time
//! until every article is stored (see `refresh/images.rs`). Memory stays
//! bounded: no new feed is fetched while `PARSE_BACKLOG_BYTES` of documents
//! wait for a parser, and the writer keeps the WAL under `WAL_LIMIT_BYTES`.
//!
//! Politeness: validators are sent back; a 304 still takes over a new ETag; a
//! permanent redirect moves `fetch_url`; 410 marks the feed gone; 429/503 set a
//! `retry_after_until` that even an explicit refresh respects; `<ttl>` and
//! `max-age` give a lower bound for the next periodic fetch.
//!

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

mod images;

pub use images::{ImagePlan, evict, sweep_unrecorded};

use crate::config::Config;
use crate::fetch::{FetchError, Fetcher, Validators, decode_body, looks_like_html};
use crate::model::{FeedId, FetchRecord, ImageStats, RunStats};
use crate::parse::{ParseError, parse_feed};
use crate::store::{FeedUpdate, FetchTarget, FetchToSave, Store, StoreError};
use images::{ImageBatch, ImageDone, ImageLedger, ImageTask};

/// What the front ends ask of the worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Fetch now: every feed (or the named ones), except those a server asked
    /// to leave alone (Retry-After) or that are gone (unless named).
    Refresh(Option<Vec<FeedId>>),
    /// The periodic refresh: only feeds whose next fetch time has come.
    RefreshDue,
    /// Download the images an article shows that are not in the cache (new,
    /// evicted, or failed and due for a retry): asked when it is opened.
    CacheImages(crate::model::ArticleId),
}

/// What the worker reports, in the order it happens.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    Started {
        total: usize,
        skipped: usize,
    },
    FeedDone(FeedDone),
    /// A feed's images (found in the fetch just reported) are downloaded.
    ImagesDone {
        feed_id: FeedId,
        stats: ImageStats,
    },
    Finished(RunStats),
    /// The run could not go on (the database failed); what was saved stays.
    Aborted(String),
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
    pub finished: Option<RunStats>,
    pub aborted: Option<String>,
}

impl RefreshStats {
    pub fn apply(&mut self, progress: &Progress) {
        match progress {
            Progress::Started { total, skipped } => {
                *self = RefreshStats {
                    total: *total,
                    skipped: *skipped,
                    ..RefreshStats::default()
                };
            }
            Progress::FeedDone(done) => {
                let r = &done.record;
                self.done += 1;
                self.bytes_wire += r.bytes_wire;
                self.new_articles += r.new_articles;
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
            Progress::Finished(stats) => self.finished = Some(stats.clone()),
            Progress::Aborted(reason) => self.aborted = Some(reason.clone()),
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

/// Starts the worker on the current runtime. It ends when `commands` closes
/// (after finishing the run in progress).
pub fn spawn(
    store: Store,
    config: Config,
    images: Option<ImagePlan>,
) -> anyhow::Result<(
    mpsc::UnboundedSender<Command>,
    mpsc::UnboundedReceiver<Progress>,
    tokio::task::JoinHandle<()>,
)> {
    let mut worker = Refresher::new(store, config)?.with_images(images);
    let (command_tx, mut command_rx) = mpsc::unbounded_channel();
    let (progress_tx, progress_rx) = mpsc::unbounded_channel();
    let handle = tokio::spawn(async move {
        while let Some(command) = command_rx.recv().await {
            worker.run(command, &progress_tx).await;
        }
    });
    Ok((command_tx, progress_rx, handle))
}

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
}

/// What the writer is handed: a fetched feed, or finished image downloads.
enum WriterJob {
    Feed(Box<Fetched>),
    Image(Box<ImageDone>),
}

/// What a feed task hands back to the writer.
struct Fetched {
    target: FetchTarget,
    update: FeedUpdate,
    record: FetchRecord,
    /// A 2xx answer's body, until the parse stage takes it.
    document: Option<crate::fetch::Response>,
    /// Held from the start of the parse until the feed is saved: parsed
    /// documents waiting for the writer are bounded by the parser permits.
    _parse_permit: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Refresher {
    pub fn new(store: Store, config: Config) -> anyhow::Result<Refresher> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Refresher {
            fetcher: Fetcher::new(&config.refresh)?,
            store: Some(store),
            config,
            parsers: Arc::new(Semaphore::new(2 * cores)),
            images: None,
        })
    }

    /// Caches the images of every refreshed feed as `plan` says.
    pub fn with_images(mut self, plan: Option<ImagePlan>) -> Refresher {
        self.images = plan.map(Arc::new);
        self
    }

    /// Runs one command to its end, reporting as it goes.
    pub async fn run(&mut self, command: Command, progress: &mpsc::UnboundedSender<Progress>) {
        let outcome = match command {
            Command::Refresh(named) => self.try_run(named, false, None, progress).await,
            Command::RefreshDue => self.try_run(None, true, None, progress).await,
            Command::CacheImages(article) => {
                if let Err(e) = self.cache_article_images(article, progress).await {
                    tracing::warn!("caching an article's images failed: {e}");
                }
                return;
            }
        };
        if let Err(e) = outcome {
            tracing::error!("refresh aborted: {e}");
            let _ = progress.send(Progress::Aborted(e.to_string()));
        }
    }

    /// A run of one feed whose answer is already in hand (`add` fetched the
    /// address to learn what it is): parsed and saved like any fetch, without
    /// asking the server a second time.
    pub async fn ingest(
        &mut self,
        feed: FeedId,
        answer: crate::fetch::Response,
        progress: &mpsc::UnboundedSender<Progress>,
    ) {
        let answered = Some((feed, answer));
        if let Err(e) = self
            .try_run(Some(vec![feed]), false, answered, progress)
            .await
        {
            tracing::error!("refresh aborted: {e}");
            let _ = progress.send(Progress::Aborted(e.to_string()));
        }
    }

    /// One refresh run: the `named` feeds (or all), only those due when
    /// `due_only`; a feed whose answer is `answered` already is not asked again.
    async fn try_run(
        &mut self,
        named: Option<Vec<FeedId>>,
        due_only: bool,
        mut answered: Option<(FeedId, crate::fetch::Response)>,
        progress: &mpsc::UnboundedSender<Progress>,
    ) -> Result<(), StoreError> {
        let started = Instant::now();
        let started_at_ms = now_ms();
        let now = started_at_ms / 1000;
        let mut store = self.store.take().ok_or_else(|| {
            StoreError::Other("an earlier refresh ended without returning its store".into())
        })?;
        let all = store.fetch_targets(named.as_deref())?;
        let considered = all.len();
        let targets: Vec<FetchTarget> = all
            .into_iter()
            .filter(|t| t.retry_after_until.is_none_or(|until| until <= now))
            .filter(|t| !t.gone || named.is_some())
            .filter(|t| !due_only || t.next_fetch_at.is_none_or(|at| at <= now))
            .collect();
        let _ = progress.send(Progress::Started {
            total: targets.len(),
            skipped: considered - targets.len(),
        });
        let run_id = store.begin_run(started_at_ms)?;

        // The writer gets the store for the run and gives it back at the end.
        // For each feed it saves, it answers with the images to download.
        let (to_writer, queue) = mpsc::unbounded_channel();
        let (to_loop, mut image_batches) = mpsc::unbounded_channel::<ImageBatch>();
        let writer = {
            let retention = self.config.retention.clone();
            let progress = progress.clone();
            let plan_images = self.images.is_some();
            tokio::task::spawn_blocking(move || {
                let images = plan_images.then_some(&to_loop);
                let result =
                    write_fetched(&mut store, run_id, &retention, queue, &progress, images);
                (store, result)
            })
        };

        let image_limit = self.images.as_ref().map_or(0, |plan| plan.concurrency);
        let mut scheduler = Scheduler::new(targets, &self.config.refresh, image_limit);
        let interval = self.config.refresh.interval_minutes as i64 * 60;
        let max_body = self.fetcher.max_body();
        // Two stages, so that the network never waits for the parser or the writer:
        // `fetches` are the requests in flight, each holding its host's slot;
        // `parses` the documents being parsed or waiting for a parser permit,
        // each with its size: past PARSE_BACKLOG_BYTES no new feed is fetched
        // until the parsers catch up (a fast server's large feeds would
        // otherwise pile up in memory).
        let mut fetches: Tagged<Fetched, String> = Tagged::default();
        let mut parses: Tagged<Fetched, usize> = Tagged::default();
        let mut backlog_bytes = 0usize;
        // The same two for images: `downloads` hold their host's slots,
        // `image_checks` check and write the answers. And the feeds whose
        // images the writer has not listed yet.
        let mut downloads: Tagged<images::ImageFetched, String> = Tagged::default();
        let mut image_checks = JoinSet::new();
        let mut feeds_unplanned = 0usize;
        let mut private_hosts: HashMap<String, bool> = HashMap::new();
        loop {
            // Until every article is stored, a few images at a time: their
            // downloads and checks would take the CPU the parser and the
            // writer need (the busiest hosts' images still start early).
            let articles_pending = !fetches.is_empty() || !parses.is_empty() || feeds_unplanned > 0;
            let image_limit = if articles_pending {
                IMAGES_WHILE_ARTICLES_PENDING
            } else {
                usize::MAX
            };
            while let Some((host, job)) =
                scheduler.next(backlog_bytes < PARSE_BACKLOG_BYTES, image_limit)
            {
                let fetcher = self.fetcher.clone();
                match job {
                    Job::Feed(target) => {
                        let answer = answered
                            .take_if(|(id, _)| *id == target.id)
                            .map(|(_, answer)| answer);
                        fetches.spawn(host, async move {
                            fetch_feed(&fetcher, target, answer, interval).await
                        });
                    }
                    Job::Image(image) => {
                        let plan = self
                            .images
                            .clone()
                            .expect("images are planned only with a plan");
                        downloads.spawn(host, async move {
                            images::fetch(fetcher, &plan, *image).await
                        });
                    }
                }
            }
            let finished = tokio::select! {
                Some(batch) = image_batches.recv(), if feeds_unplanned > 0 => {
                    feeds_unplanned -= 1;
                    let host = host_key(&batch.feed_url);
                    let private = match private_hosts.get(&host) {
                        Some(known) => *known,
                        None => {
                            let found = crate::fetch::address::feed_is_private(&batch.feed_url).await;
                            private_hosts.insert(host, found);
                            found
                        }
                    };
                    for job in batch.jobs {
                        let host = host_key(&job.url);
                        scheduler.push_image(host, ImageTask {
                            fetch_id: batch.fetch_id,
                            job,
                            public_only: !private,
                        });
                    }
                    continue;
                }
                Some((host, joined)) = downloads.join_next(), if !downloads.is_empty() => {
                    scheduler.finished(&host, true);
                    match joined {
                        Ok(fetched) => {
                            let plan = self.images.clone().expect("downloads have a plan");
                            image_checks.spawn(images::check_and_write(plan, fetched));
                        }
                        Err(e) => tracing::error!("an image task panicked: {e}"),
                    }
                    continue;
                }
                Some(joined) = image_checks.join_next(), if !image_checks.is_empty() => {
                    match joined {
                        Ok(done) => {
                            if to_writer.send(WriterJob::Image(Box::new(done))).is_err() {
                                break;
                            }
                        }
                        Err(e) => tracing::error!("an image task panicked: {e}"),
                    }
                    continue;
                }
                Some((host, joined)) = fetches.join_next(), if !fetches.is_empty() => {
                    scheduler.finished(&host, false);
                    match joined {
                        Ok(fetched) if fetched.document.is_some() => {
                            let bytes = fetched.document.as_ref().map_or(0, |d| d.body.len());
                            let parsers = self.parsers.clone();
                            parses.spawn(bytes, parse_document(fetched, parsers, max_body, interval));
                            backlog_bytes += bytes;
                            continue;
                        }
                        finished => finished,
                    }
                }
                Some((bytes, joined)) = parses.join_next(), if !parses.is_empty() => {
                    backlog_bytes -= bytes;
                    joined
                }
                // Nothing in flight, nothing left to list: the run is done (or
                // the writer stopped on an error, reported below).
                else => break,
            };
            match finished {
                // A closed queue means the writer stopped on an error: it is reported below.
                Ok(fetched) => {
                    if self.images.is_some() {
                        feeds_unplanned += 1;
                    }
                    if to_writer.send(WriterJob::Feed(Box::new(fetched))).is_err() {
                        break;
                    }
                }
                // The stages catch their own failures; a panic here is a bug, not a feed problem.
                Err(e) => tracing::error!("a feed task panicked: {e}"),
            }
        }
        drop(to_writer);
        let (mut store, written) = writer
            .await
            .map_err(|e| StoreError::Other(format!("the writer thread failed: {e}")))?;
        let outcome = written.and_then(|mut stats| {
            stats.started_at_ms = started_at_ms;
            stats.wall_ms = started.elapsed().as_millis() as u64;
            store.finish_run(run_id, &stats)?;
            Ok(stats)
        });
        if let Some(plan) = &self.images
            && let Err(e) = evict(&mut store, &plan.dir, plan.cache_limit_bytes)
        {
            tracing::warn!("image cache eviction failed: {e}");
        }
        self.store = Some(store);
        let _ = progress.send(Progress::Finished(outcome?));
        Ok(())
    }
}

impl Refresher {
    /// Downloads one article's missing images (a handful; no scheduler needed:
    /// they are fetched one host-limit's worth at a time) and reports them.
    async fn cache_article_images(
        &mut self,
        article: crate::model::ArticleId,
        progress: &mpsc::UnboundedSender<Progress>,
    ) -> Result<(), StoreError> {
        let (Some(plan), Some(store)) = (self.images.clone(), self.store.as_mut()) else {
            return Ok(());
        };
        let now = now_ms() / 1000;
        let jobs = store.article_images_to_fetch(article, now)?;
        let Some(summary) = store.article(article)? else {
            return Ok(());
        };
        if jobs.is_empty() {
            return Ok(());
        }
        let feed_url = store
            .fetch_targets(Some(&[summary.feed_id]))?
            .first()
            .map(|t| t.fetch_url.clone())
            .unwrap_or_default();
        let public_only = !crate::fetch::address::feed_is_private(&feed_url).await;
        let started = Instant::now();
        let mut downloads = JoinSet::new();
        let mut outcomes = Vec::new();
        for job in jobs {
            while downloads.len() >= self.config.refresh.per_host.max(1) {
                if let Some(Ok(done)) = downloads.join_next().await {
                    outcomes.push(done);
                }
            }
            let task = ImageTask {
                fetch_id: None,
                job,
                public_only,
            };
            downloads.spawn(images::download(self.fetcher.clone(), plan.clone(), task));
        }
        while let Some(joined) = downloads.join_next().await {
            if let Ok(done) = joined {
                outcomes.push(done);
            }
        }
        let store = self.store.as_mut().expect("still here");
        let saved: Vec<&crate::store::ImageOutcome> =
            outcomes.iter().map(|d: &ImageDone| &d.outcome).collect();
        store.save_images(&saved, now_ms() / 1000)?;
        let mut stats = ImageStats {
            found: outcomes.len() as u64,
            ms: started.elapsed().as_millis() as u64,
            ..ImageStats::default()
        };
        for done in &outcomes {
            done.count_in(&mut stats);
        }
        let _ = progress.send(Progress::ImagesDone {
            feed_id: summary.feed_id,
            stats,
        });
        Ok(())
    }
}

/// The one writer of a run, on a thread of its own so that the dispatch loop
/// never waits for SQLite: saves the fetched feeds in the order they come,
/// reports each, and counts the run's totals. Feeds that queued up while it
/// was writing go into one transaction together (group commit: each feed, and
/// the batch, is all or nothing), since a commit's fixed cost (the search
/// index flush) is most of a small feed's. WAL checkpoints run beside it on
/// another thread.
fn write_fetched(
    store: &mut Store,
    run_id: i64,
    retention: &crate::config::RetentionConfig,
    mut queue: mpsc::UnboundedReceiver<WriterJob>,
    progress: &mpsc::UnboundedSender<Progress>,
    image_batches: Option<&mpsc::UnboundedSender<ImageBatch>>,
) -> Result<RunStats, StoreError> {
    let _checkpoints = store.background_checkpoints()?;
    let mut totals = RefreshStats::default();
    let mut ledger = ImageLedger::default();
    let mut feeds: Vec<Fetched> = Vec::new();
    let mut images: Vec<ImageDone> = Vec::new();
    while let Some(first) = queue.blocking_recv() {
        // Whatever queued up while the last batch was being written goes in this one.
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                WriterJob::Feed(fetched) => feeds.push(*fetched),
                WriterJob::Image(done) => images.push(*done),
            }
            if feeds.len() < MAX_BATCH && images.len() < MAX_IMAGE_BATCH {
                next = queue.try_recv().ok();
            }
        }
        let now = now_ms() / 1000;
        // Articles first: images never hold a feed back.
        if !feeds.is_empty() {
            let mut to_save: Vec<FetchToSave> = feeds
                .iter_mut()
                .map(|f| FetchToSave {
                    feed: f.target.id,
                    update: &f.update,
                    record: &mut f.record,
                })
                .collect();
            let counts = store.save_fetches(&mut to_save, Some(run_id), now, retention)?;
            for (fetched, counts) in feeds.drain(..).zip(counts) {
                let batch = match image_batches {
                    Some(_) => Some(ledger.plan(
                        store,
                        fetched.target.id,
                        Some(counts.fetch_id),
                        &fetched.target.fetch_url,
                        fetched.update.parsed.as_ref(),
                    )?),
                    None => None,
                };
                let done = Progress::FeedDone(FeedDone {
                    feed_id: fetched.target.id,
                    title: fetched.target.title.clone(),
                    record: fetched.record,
                });
                totals.apply(&done);
                let _ = progress.send(done);
                if let (Some(to_loop), Some(batch)) = (image_batches, batch) {
                    let _ = to_loop.send(batch);
                }
            }
        }
        if !images.is_empty() {
            let outcomes: Vec<&crate::store::ImageOutcome> =
                images.iter().map(|d| &d.outcome).collect();
            store.save_images(&outcomes, now)?;
            for done in ledger.record(store, &images)? {
                let _ = progress.send(done);
            }
            images.clear();
        }
        store.keep_wal_under(WAL_LIMIT_BYTES)?;
    }
    Ok(totals.totals())
}

/// The writer has the WAL checkpointed and truncated between two batches once
/// it is larger than this.
const WAL_LIMIT_BYTES: u64 = 256 << 20;

/// Image downloads in flight at most while some feed's articles are not stored yet.
const IMAGES_WHILE_ARTICLES_PENDING: usize = 4;

/// Documents in the parse stage, in bytes, past which no new feed is fetched.
const PARSE_BACKLOG_BYTES: usize = 64 << 20;

/// Most feeds saved in one transaction.
const MAX_BATCH: usize = 16;
/// Most image outcomes saved in one transaction (each is one small row).
const MAX_IMAGE_BATCH: usize = 64;

/// Tasks that each carry a tag (the host whose slot they hold, the bytes they
/// hold back), handed back with the task's output, even when it panicked.
struct Tagged<T, K> {
    tasks: JoinSet<T>,
    tags: HashMap<tokio::task::Id, K>,
}

impl<T, K> Default for Tagged<T, K> {
    fn default() -> Self {
        Tagged {
            tasks: JoinSet::new(),
            tags: HashMap::new(),
        }
    }
}

impl<T: Send + 'static, K> Tagged<T, K> {
    fn spawn(&mut self, tag: K, task: impl std::future::Future<Output = T> + Send + 'static) {
        let id = self.tasks.spawn(task).id();
        self.tags.insert(id, tag);
    }

    fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// The next task to end, with its tag. Cancel-safe, as `tokio::select!` needs.
    async fn join_next(&mut self) -> Option<(K, Result<T, tokio::task::JoinError>)> {
        let joined = self.tasks.join_next_with_id().await?;
        let id = match &joined {
            Ok((id, _)) => *id,
            Err(e) => e.id(),
        };
        let tag = self
            .tags
            .remove(&id)
            .expect("every task is spawned with its tag");
        Some((tag, joined.map(|(_, output)| output)))
    }
}

/// What the scheduler hands out: a feed to fetch, or an image to download.
enum Job {
    Feed(FetchTarget),
    Image(Box<ImageTask>),
}

/// Decides what to fetch next: the feed whose host has the most feeds still
/// waiting (the busiest host is the critical path of a refresh), among hosts
/// below `per_host` requests in flight, while fewer than `concurrency` feed
/// requests are in flight overall. Images come only when no feed can start,
/// with a global limit of their own, and share each host's limit with the
/// feeds: the articles of a refresh come first, and no host gets more than
/// `per_host` requests at once. A slot frees when its answer arrives.
struct Scheduler {
    feeds: HashMap<String, VecDeque<FetchTarget>>,
    images: HashMap<String, VecDeque<ImageTask>>,
    in_flight: HashMap<String, usize>,
    feeds_in_flight: usize,
    images_in_flight: usize,
    per_host: usize,
    concurrency: usize,
    image_concurrency: usize,
}

impl Scheduler {
    fn new(
        targets: Vec<FetchTarget>,
        config: &crate::config::RefreshConfig,
        image_concurrency: usize,
    ) -> Scheduler {
        let mut feeds: HashMap<String, VecDeque<FetchTarget>> = HashMap::new();
        for target in targets {
            feeds
                .entry(host_key(&target.fetch_url))
                .or_default()
                .push_back(target);
        }
        Scheduler {
            feeds,
            images: HashMap::new(),
            in_flight: HashMap::new(),
            feeds_in_flight: 0,
            images_in_flight: 0,
            per_host: config.per_host.max(1),
            concurrency: config.concurrency.max(1),
            image_concurrency,
        }
    }

    fn push_image(&mut self, host: String, task: ImageTask) {
        self.images.entry(host).or_default().push_back(task);
    }

    /// The waiting queue to serve next: the longest on a host with a free slot.
    fn pick<T>(
        queues: &HashMap<String, VecDeque<T>>,
        in_flight: &HashMap<String, usize>,
        per_host: usize,
    ) -> Option<String> {
        queues
            .iter()
            .filter(|(host, queue)| {
                !queue.is_empty() && in_flight.get(*host).copied().unwrap_or(0) < per_host
            })
            .max_by_key(|(host, queue)| (queue.len(), std::cmp::Reverse(host.as_str())))
            .map(|(host, _)| host.clone())
    }

    /// The next job to start: a feed when `feeds_allowed` and one can go,
    /// else an image when no feed is waiting and fewer than `image_limit`
    /// are in flight.
    fn next(&mut self, feeds_allowed: bool, image_limit: usize) -> Option<(String, Job)> {
        if feeds_allowed
            && self.feeds_in_flight < self.concurrency
            && let Some(host) = Self::pick(&self.feeds, &self.in_flight, self.per_host)
        {
            let target = self.feeds.get_mut(&host)?.pop_front()?;
            *self.in_flight.entry(host.clone()).or_default() += 1;
            self.feeds_in_flight += 1;
            return Some((host, Job::Feed(target)));
        }
        // Images wait while any feed is still waiting for a slot.
        let feeds_waiting = self.feeds.values().any(|q| !q.is_empty());
        if feeds_waiting || self.images_in_flight >= image_limit.min(self.image_concurrency) {
            return None;
        }
        let host = Self::pick(&self.images, &self.in_flight, self.per_host)?;
        let task = self.images.get_mut(&host)?.pop_front()?;
        *self.in_flight.entry(host.clone()).or_default() += 1;
        self.images_in_flight += 1;
        Some((host, Job::Image(Box::new(task))))
    }

    fn finished(&mut self, host: &str, image: bool) {
        if let Some(n) = self.in_flight.get_mut(host) {
            *n -= 1;
            if image {
                self.images_in_flight -= 1;
            } else {
                self.feeds_in_flight -= 1;
            }
        }
    }
}

/// The network stage of one feed: the request (unless its `answer` is in hand
/// already) and what the answer means for the feed. A document to parse is
/// left in `document` for the parse stage.
async fn fetch_feed(
    fetcher: &Fetcher,
    target: FetchTarget,
    answer: Option<crate::fetch::Response>,
    interval_secs: i64,
) -> Fetched {
    let started = Instant::now();
    let mut fetched = Fetched {
        target,
        update: FeedUpdate::default(),
        record: FetchRecord {
            started_at_ms: now_ms(),
            ..FetchRecord::default()
        },
        document: None,
        _parse_permit: None,
    };
    let validators = Validators {
        etag: fetched.target.etag.clone(),
        last_modified: fetched.target.last_modified.clone(),
    };
    let outcome = match answer {
        Some(answer) => Ok(answer),
        None => fetcher.get(&fetched.target.fetch_url, &validators).await,
    };
    let now = now_ms() / 1000;
    let (record, update) = (&mut fetched.record, &mut fetched.update);
    let result: Result<(), FetchError> = match outcome {
        Err(e) => Err(e),
        Ok(response) => {
            record.http_status = response.status;
            record.content_type = response.content_type.clone();
            record.bytes_wire = response.body.len() as u64;
            record.ms_headers = response.ms_headers;
            record.ms_body = response.ms_body;
            record.redirect_to = response.redirected_to.clone();
            update.moved_to = response.moved_permanently_to.clone();
            update.etag = response.etag.clone();
            update.last_modified = response.last_modified.clone();
            let lower_bound = response.max_age.map(|s| s as i64);
            update.min_interval_secs = lower_bound;
            update.next_fetch_at = Some(now + interval_secs.max(lower_bound.unwrap_or(0)));
            match response.status {
                Some(304) => {
                    record.not_modified = true;
                    Ok(())
                }
                None | Some(200..=299) => {
                    fetched.document = Some(response);
                    Ok(())
                }
                Some(410) => {
                    update.gone = true;
                    Err(FetchError::Gone)
                }
                Some(status @ (429 | 503)) => {
                    // Without a Retry-After, wait a while anyway: the server said it is overloaded.
                    let default_wait = if status == 429 { 3600 } else { 600 };
                    let wait = response.retry_after.unwrap_or(default_wait);
                    update.retry_after_until = Some(now + wait as i64);
                    Err(FetchError::RateLimited {
                        status,
                        retry_after: response.retry_after,
                    })
                }
                Some(status) => Err(FetchError::Http {
                    status,
                    reason: reqwest::StatusCode::from_u16(status)
                        .ok()
                        .and_then(|s| s.canonical_reason())
                        .map(str::to_string),
                }),
            }
        }
    };
    if let Err(e) = result {
        fetched
            .update
            .next_fetch_at
            .get_or_insert(now + interval_secs);
        fetched.fail(e);
    }
    fetched.record.ms_total = started.elapsed().as_millis() as u64;
    fetched
}

/// The parse stage: waits for a parser permit (kept until the feed is saved),
/// then decodes and parses the document off the async threads.
async fn parse_document(
    mut fetched: Fetched,
    parsers: Arc<Semaphore>,
    max_body: u64,
    interval_secs: i64,
) -> Fetched {
    let Some(document) = fetched.document.take() else {
        return fetched;
    };
    fetched._parse_permit = Some(
        parsers
            .acquire_owned()
            .await
            .expect("semaphore never closed"),
    );
    match parse_blocking(max_body, document).await {
        Ok((decoded, ms_parse, parsed)) => {
            fetched.record.bytes_decoded = decoded;
            fetched.record.ms_parse = ms_parse;
            let ttl = parsed.ttl_minutes.map(|m| m as i64 * 60);
            let bound = fetched.update.min_interval_secs.max(ttl);
            fetched.update.min_interval_secs = bound;
            let now = now_ms() / 1000;
            fetched.update.next_fetch_at = Some(now + interval_secs.max(bound.unwrap_or(0)));
            fetched.update.parsed = Some(parsed);
        }
        Err(e) => fetched.fail(e),
    }
    // Time spent queued for a parser is not the feed's: count the work itself.
    fetched.record.ms_total += fetched.record.ms_parse;
    fetched
}

impl Fetched {
    /// Records a failure. The stored validators stay as they were: the next
    /// fetch must bring the document again.
    fn fail(&mut self, e: FetchError) {
        tracing::info!(feed = %self.target.fetch_url, "fetch failed: {e}");
        self.record.error_kind = Some(e.kind());
        self.record.error_message = Some(crate::text::sanitize_text(&e.to_string()));
        self.update.etag = None;
        self.update.last_modified = None;
    }
}

/// Decodes and parses off the async threads; a panic in the parser fails this
/// feed with a message instead of taking the refresher down. Returns the
/// decoded size, the milliseconds it took and the feed.
async fn parse_blocking(
    max_body: u64,
    response: crate::fetch::Response,
) -> Result<(u64, u64, crate::model::ParsedFeed), FetchError> {
    let url = response.final_url.clone();
    let joined = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let decoded = decode_body(
            &response.body,
            response.content_encoding.as_deref(),
            max_body,
        )?;
        let parsed = parse_feed(&decoded, response.charset(), &response.final_url);
        match parsed {
            Ok(feed) => Ok((
                decoded.len() as u64,
                started.elapsed().as_millis() as u64,
                feed,
            )),
            Err(ParseError::NotAFeed(_))
                if looks_like_html(&decoded, response.content_type.as_deref()) =>
            {
                Err(FetchError::Parse(
                    "the address serves a web page, not a feed".into(),
                ))
            }
            Err(e) => Err(FetchError::Parse(e.to_string())),
        }
    })
    .await;
    joined.unwrap_or_else(|e| {
        tracing::error!(feed = %url, "the feed parser panicked: {e}");
        Err(FetchError::Parse(
            "the feed parser crashed on this document".into(),
        ))
    })
}

fn host_key(address: &str) -> String {
    url::Url::parse(address)
        .ok()
        .and_then(|u| {
            Some(format!(
                "{}:{}",
                u.host_str()?,
                u.port_or_known_default().unwrap_or(0)
            ))
        })
        .unwrap_or_else(|| "local".to_string())
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_stats_fold_a_progress_sequence() {
        let mut stats = RefreshStats::default();
        let done = |failed: bool, not_modified: bool, new: u64, bytes: u64| {
            Progress::FeedDone(FeedDone {
                feed_id: FeedId(1),
                title: "t".into(),
                record: FetchRecord {
                    error_kind: failed.then_some(crate::model::ErrorKind::Timeout),
                    not_modified,
                    new_articles: new,
                    bytes_wire: bytes,
                    ..Default::default()
                },
            })
        };
        stats.apply(&Progress::Started {
            total: 3,
            skipped: 1,
        });
        assert!(stats.running());
        stats.apply(&done(false, false, 5, 100));
        stats.apply(&done(false, true, 0, 0));
        stats.apply(&done(true, false, 0, 0));
        assert_eq!(
            (stats.done, stats.ok, stats.not_modified, stats.failed),
            (3, 2, 1, 1)
        );
        assert_eq!((stats.new_articles, stats.bytes_wire), (5, 100));
        stats.apply(&Progress::Finished(RunStats::default()));
        assert!(!stats.running());
        stats.apply(&Progress::Started {
            total: 1,
            skipped: 0,
        });
        assert_eq!((stats.done, stats.ok), (0, 0), "a new run starts from zero");
    }

    #[test]
    fn the_scheduler_serves_feeds_first_and_keeps_each_host_to_its_limit() {
        let feed = |id: i64, host: &str| FetchTarget {
            id: FeedId(id),
            title: String::new(),
            fetch_url: format!("http://{host}/feed{id}"),
            etag: None,
            last_modified: None,
            next_fetch_at: None,
            retry_after_until: None,
            gone: false,
        };
        let image = |id: i64, host: &str| ImageTask {
            fetch_id: None,
            job: crate::store::ImageJob {
                id,
                url: format!("http://{host}/{id}.png"),
                etag: None,
                last_modified: None,
                file: None,
            },
            public_only: false,
        };
        let config = crate::config::RefreshConfig {
            per_host: 2,
            ..Default::default()
        };
        let targets = vec![feed(1, "a"), feed(2, "a"), feed(3, "a"), feed(4, "b")];
        let mut scheduler = Scheduler::new(targets, &config, 64);
        for id in 0..10 {
            scheduler.push_image(host_key(&format!("http://a/{id}.png")), image(id, "a"));
            scheduler.push_image(host_key(&format!("http://c/{id}.png")), image(id, "c"));
        }
        let kind = |job: &Option<(String, Job)>| match job {
            Some((host, Job::Feed(_))) => format!("feed {host}"),
            Some((host, Job::Image(_))) => format!("image {host}"),
            None => "none".into(),
        };
        // A parse backlog holds new feeds back, and images wait behind them.
        assert_eq!(kind(&scheduler.next(false, usize::MAX)), "none");
        // Two feeds of host a, one of b; a's third waits for a slot, and so
        // does every image while it waits.
        let started: Vec<String> = (0..4)
            .map(|_| kind(&scheduler.next(true, usize::MAX)))
            .collect();
        assert_eq!(started, ["feed a:80", "feed a:80", "feed b:80", "none"]);
        scheduler.finished("a:80", false);
        assert_eq!(kind(&scheduler.next(true, usize::MAX)), "feed a:80");
        // No feed waits now: images go, within their host's slots (a's are
        // still held by feeds) and within the limit while articles are pending.
        assert_eq!(kind(&scheduler.next(true, 1)), "image c:80");
        assert_eq!(kind(&scheduler.next(true, 1)), "none");
        assert_eq!(kind(&scheduler.next(true, 2)), "image c:80");
        assert_eq!(
            kind(&scheduler.next(true, usize::MAX)),
            "none",
            "c has 2 in flight"
        );
        scheduler.finished("a:80", false);
        assert_eq!(kind(&scheduler.next(true, usize::MAX)), "image a:80");
    }

    #[test]
    fn hosts_are_keyed_with_their_port() {
        assert_eq!(host_key("http://127.0.0.2:8765/feeds/1"), "127.0.0.2:8765");
        assert_eq!(host_key("https://example.org/x"), "example.org:443");
        assert_eq!(host_key("file:///tmp/x.xml"), "local");
    }
}
