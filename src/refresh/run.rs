//! One refresh run, from the feeds to fetch to `Progress::Finished`. The
//! store goes to the writer thread for the run; the loop here starts tasks as
//! the [`Scheduler`] allows and moves each finished one to its next stage:
//!
//! ```text
//! feed:  fetch (holds its host's slot) → parse (bounded by bytes waiting) → writer
//! image: download (holds its host's slot) → check and write the file → writer
//! ```
//!
//! The writer answers each saved feed with the images it needs, and those
//! join the scheduler behind the feeds. A host that does not answer twice in
//! a row gets nothing more in the run: its remaining feeds and images go to
//! the writer as failures "deferred: host unreachable", tried again in a
//! later run (images with their retry backoff), so that a dead host costs
//! two timeouts rather than one per request. A subscription made while the run is
//! in progress joins it as one more feed; any other command waits for the
//! end of the run. The run ends when nothing is in flight and the writer has
//! listed every saved feed's images.
//!
//! Memory stays bounded: no new feed is fetched while `PARSE_BACKLOG_BYTES` of
//! documents wait for a parser, parsed documents waiting for the writer hold a
//! parser permit (two per core), and the writer keeps the WAL under its limit.
//! Until every article is stored, at most `IMAGES_WHILE_ARTICLES_PENDING`
//! images download at once.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::images::{self, ImageBatch, ImageDone, ImageTask, evict};
use super::scheduler::{Job, Scheduler, Slot, host_key};
use super::stages::{Fetched, fetch_feed, parse_document};
use super::writer::{WriterJob, write_fetched};
use super::{Command, Progress, Refresher};
use crate::fetch::Response;
use crate::images::ImagesToFind;
use crate::model::{ArticleId, FeedId, RunStats};
use crate::store::{FetchTarget, Store, StoreError};

/// Image downloads in flight at most while some feed's articles are not stored yet.
const IMAGES_WHILE_ARTICLES_PENDING: usize = 4;

/// Documents in the parse stage, in bytes, past which no new feed is fetched.
const PARSE_BACKLOG_BYTES: usize = 64 << 20;

/// The commands that arrive while a run is in progress.
pub(super) struct Inbox<'a> {
    pub commands: &'a mut mpsc::UnboundedReceiver<Command>,
    /// Commands to run once this run is over.
    pub later: &'a mut VecDeque<Command>,
    /// False once the sender is gone.
    pub open: bool,
}

impl Inbox<'_> {
    async fn recv(inbox: &mut Option<&mut Inbox<'_>>) -> Option<Command> {
        match inbox {
            Some(inbox) if inbox.open => {
                let command = inbox.commands.recv().await;
                inbox.open = command.is_some();
                command
            }
            _ => std::future::pending().await,
        }
    }
}

/// What a feed's task gives back, from either stage.
type Joined = Result<Fetched, tokio::task::JoinError>;

/// The tasks of a run in flight, by stage.
#[derive(Default)]
struct Stages {
    /// Requests in flight, each holding its host's slot.
    fetches: Tagged<Fetched, Slot>,
    /// Documents being parsed or waiting for a parser permit, with their
    /// sizes: past PARSE_BACKLOG_BYTES no new feed is fetched until the
    /// parsers catch up (a fast server's large feeds would otherwise pile up
    /// in memory).
    parses: Tagged<Fetched, usize>,
    backlog_bytes: usize,
    /// Image downloads in flight, each holding its host's slot.
    downloads: Tagged<images::ImageFetched, Slot>,
    /// Downloaded images being checked and written.
    image_checks: JoinSet<ImageDone>,
    /// Saved feeds whose images the writer has not listed yet.
    feeds_unplanned: usize,
    /// Answers in hand already (subscriptions): not asked for again.
    answered: HashMap<FeedId, Response>,
    /// Images of the run done (downloaded, failed or deferred), of them
    /// deferred, and planned.
    images_done: usize,
    images_deferred: usize,
    images_total: usize,
}

impl Stages {
    fn articles_pending(&self) -> bool {
        !self.fetches.is_empty() || !self.parses.is_empty() || self.feeds_unplanned > 0
    }

    fn busy(&self) -> bool {
        self.articles_pending() || !self.downloads.is_empty() || !self.image_checks.is_empty()
    }

    /// Tells the caller how far the run's images are.
    fn report_images(&self, progress: &mpsc::UnboundedSender<Progress>) {
        if self.images_total > 0 {
            let _ = progress.send(Progress::Images {
                done: self.images_done,
                total: self.images_total,
                deferred: self.images_deferred,
            });
        }
    }
}

impl Refresher {
    /// One refresh run: the `named` feeds (or all), only those due when
    /// `which` says; a feed whose answer is in `answered` is not asked again.
    /// Its statistics, for the caller to report once it has let go of the
    /// run lock (so that whoever sees the run finished can start the next).
    pub(super) async fn try_run(
        &mut self,
        named: Option<Vec<FeedId>>,
        which: Which,
        answered: HashMap<FeedId, Response>,
        progress: &mpsc::UnboundedSender<Progress>,
        mut inbox: Option<&mut Inbox<'_>>,
    ) -> Result<RunStats, StoreError> {
        let started = Instant::now();
        let started_at_ms = self.clock.now_ms();
        let now = self.clock.now_secs();
        let mut store = self.store.take().ok_or_else(|| {
            StoreError::Other("an earlier refresh ended without returning its store".into())
        })?;
        let mut all = store.fetch_targets(named.as_deref())?;
        // While sync is on, the server fetches the feeds it has.
        if self.config.sync.is_some() {
            all.retain(|t| !t.synced);
        }
        // Whether each feed's images are cached, decided once for the run.
        for target in &mut all {
            target.images = Some(self.caches_images(target.images));
        }
        let considered = all.len();
        let honours = |t: &FetchTarget| t.honour_rest.unwrap_or(self.config.refresh.honour_rest);
        let (resting, targets): (Vec<FetchTarget>, Vec<FetchTarget>) = all
            .into_iter()
            .filter(|t| t.retry_after_until.is_none_or(|until| until <= now))
            .filter(|t| !t.gone || named.is_some())
            .filter(|t| which != Which::Due || self.due(t, now))
            .partition(|t| {
                which == Which::Rested && honours(t) && t.rest_until.is_some_and(|at| at > now)
            });
        let next_due = resting.iter().filter_map(|t| t.rest_until).min();
        let _ = progress.send(Progress::Started {
            total: targets.len(),
            skipped: considered - targets.len(),
            resting: next_due.map(|at| (resting.len(), at)),
        });
        // A bulk run drops the indexes by date and builds them once its
        // articles are all in; any other run builds them first if a killed
        // bulk run left them missing.
        let bulk = self.stores_in_bulk(&store, &targets)?;
        if bulk {
            tracing::info!("a first refresh of {} feeds: stored in bulk", targets.len());
            store.drop_date_indexes()?;
        } else {
            // Not a reason to stop refreshing: lists read the table meanwhile.
            match store.build_date_indexes() {
                Ok(true) => tracing::info!("built the indexes by date a bulk refresh left missing"),
                Ok(false) => {}
                Err(e) => tracing::warn!("cannot build the indexes by date: {e}"),
            }
        }
        let run_id = store.begin_run(started_at_ms)?;

        // The writer gets the store for the run and gives it back at the end.
        // For each feed it saves, it answers with the images to download.
        let (to_writer, queue) = mpsc::unbounded_channel();
        let (to_loop, mut image_batches) = mpsc::unbounded_channel::<ImageBatch>();
        let writer = {
            let retention = self.config.retention.clone();
            let progress = progress.clone();
            let plan_images = self.images.is_some();
            let clock = self.clock.clone();
            tokio::task::spawn_blocking(move || {
                let images = plan_images.then_some(&to_loop);
                let result = write_fetched(
                    &mut store, run_id, &retention, queue, &progress, images, &clock,
                );
                (store, result)
            })
        };

        let image_limit = self.images.as_ref().map_or(0, |plan| plan.concurrency);
        let mut scheduler = Scheduler::new(targets, &self.config.refresh, image_limit);
        let mut stages = Stages {
            answered,
            ..Stages::default()
        };
        let mut private_hosts: HashMap<String, bool> = HashMap::new();
        // A bulk run's indexes by date are built as soon as its articles are
        // all in, not after its images (which never touch them).
        let mut indexes_to_build = bulk;
        loop {
            self.start_jobs(&mut scheduler, &mut stages);
            if indexes_to_build && !stages.articles_pending() {
                indexes_to_build = false;
                if to_writer.send(WriterJob::BuildDateIndexes).is_err() {
                    break;
                }
            }
            let busy = stages.busy();
            let finished: Joined = tokio::select! {
                command = Inbox::recv(&mut inbox), if busy => {
                    match command {
                        Some(Command::Subscribe(subscription)) => {
                            // Its answer is in hand: it is saved even when its host is down.
                            let (mut target, answer) = subscription.into_target();
                            target.images = Some(self.caches_images(target.images));
                            stages.answered.insert(target.id, answer);
                            scheduler.push_feed(target);
                            let _ = progress.send(Progress::Joined { feeds: 1 });
                        }
                        Some(other) => {
                            if let Some(inbox) = inbox.as_mut() {
                                inbox.later.push_back(other);
                            }
                        }
                        None => {}
                    }
                    continue;
                }
                Some(batch) = image_batches.recv(), if stages.feeds_unplanned > 0 => {
                    stages.feeds_unplanned -= 1;
                    let host = host_key(&batch.feed_url);
                    let private = match private_hosts.get(&host) {
                        Some(known) => *known,
                        None => {
                            let found = crate::fetch::address::feed_is_private(&batch.feed_url).await;
                            private_hosts.insert(host, found);
                            found
                        }
                    };
                    stages.images_total += batch.jobs.len();
                    let mut deferred = Vec::new();
                    for job in batch.jobs {
                        let host = host_key(&job.url);
                        let task = ImageTask {
                            fetch_id: batch.fetch_id,
                            job,
                            public_only: !private,
                        };
                        if scheduler.is_down(&host) {
                            deferred.push((host, Job::Image(Box::new(task))));
                        } else {
                            scheduler.push_image(host, task);
                        }
                    }
                    if !self.defer(deferred, &mut stages, &to_writer) {
                        break;
                    }
                    stages.report_images(progress);
                    continue;
                }
                Some((slot, joined)) = stages.downloads.join_next(), if !stages.downloads.is_empty() => {
                    let reached = joined.as_ref().is_ok_and(|fetched| fetched.reached);
                    if let Some(waiting) = scheduler.finished(&slot, true, reached)
                        && !self.host_down(&slot.host, waiting, &mut stages, &to_writer, progress)
                    {
                        break;
                    }
                    match joined {
                        Ok(fetched) => {
                            let plan = self.images.clone().expect("downloads have a plan");
                            stages.image_checks.spawn(images::check_and_write(plan, fetched));
                        }
                        Err(e) => tracing::error!("an image task panicked: {e}"),
                    }
                    continue;
                }
                Some(joined) = stages.image_checks.join_next(), if !stages.image_checks.is_empty() => {
                    match joined {
                        Ok(done) => {
                            // A closed queue means the writer stopped on an error: it is reported below.
                            if to_writer.send(WriterJob::Image(Box::new(done))).is_err() {
                                break;
                            }
                            stages.images_done += 1;
                            stages.report_images(progress);
                        }
                        Err(e) => tracing::error!("an image task panicked: {e}"),
                    }
                    continue;
                }
                Some((slot, joined)) = stages.fetches.join_next(), if !stages.fetches.is_empty() => {
                    let reached = joined.as_ref().is_ok_and(|fetched| fetched.reached());
                    if let Some(waiting) = scheduler.finished(&slot, false, reached)
                        && !self.host_down(&slot.host, waiting, &mut stages, &to_writer, progress)
                    {
                        break;
                    }
                    match joined {
                        Ok(fetched) if fetched.document.is_some() => {
                            self.start_parse(&mut stages, fetched);
                            continue;
                        }
                        finished => finished,
                    }
                }
                Some((bytes, joined)) = stages.parses.join_next(), if !stages.parses.is_empty() => {
                    stages.backlog_bytes -= bytes;
                    joined
                }
                // Nothing in flight, nothing left to list: the run is done (or
                // the writer stopped on an error, reported below).
                else => break,
            };
            match finished {
                Ok(fetched) => {
                    if !self.to_writer(fetched, &mut stages, &to_writer) {
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
        // The reader stays open for days: its log should not stay at the size
        // of the largest run it ever saw.
        if let Err(e) = store.truncate_wal() {
            tracing::warn!("cannot truncate the WAL: {e}");
        }
        self.store = Some(store);
        outcome
    }

    /// Starts every job the scheduler allows now. Until every article is
    /// stored, only a few images at a time: their downloads and checks would
    /// take the CPU the parser and the writer need (the busiest hosts' images
    /// still start early).
    fn start_jobs(&self, scheduler: &mut Scheduler, stages: &mut Stages) {
        let image_limit = if stages.articles_pending() {
            IMAGES_WHILE_ARTICLES_PENDING
        } else {
            usize::MAX
        };
        while let Some((host, job)) =
            scheduler.next(stages.backlog_bytes < PARSE_BACKLOG_BYTES, image_limit)
        {
            let fetcher = self.fetcher.clone();
            match job {
                Job::Feed(target) => {
                    let interval = self.interval_of(&target);
                    let answer = stages.answered.remove(&target.id);
                    let clock = self.clock.clone();
                    stages.fetches.spawn(host, async move {
                        fetch_feed(&fetcher, target, answer, interval, &clock).await
                    });
                }
                Job::Image(image) => {
                    let plan = self
                        .images
                        .clone()
                        .expect("images are planned only with a plan");
                    stages.downloads.spawn(host, async move {
                        images::fetch(fetcher, &plan, *image).await
                    });
                }
            }
        }
    }

    /// Defers the work waiting for a host that just went down, and says so.
    /// False when the writer is gone.
    fn host_down(
        &self,
        host: &str,
        waiting: Vec<Job>,
        stages: &mut Stages,
        to_writer: &mpsc::UnboundedSender<WriterJob>,
        progress: &mpsc::UnboundedSender<Progress>,
    ) -> bool {
        tracing::warn!(
            host,
            "host unreachable: deferring its {} waiting jobs",
            waiting.len()
        );
        let _ = progress.send(Progress::HostDown {
            host: host.to_string(),
        });
        let waiting = waiting
            .into_iter()
            .map(|job| (host.to_string(), job))
            .collect();
        let sent = self.defer(waiting, stages, to_writer);
        stages.report_images(progress);
        sent
    }

    /// Sends feeds and images of hosts found down to the writer as failures
    /// "deferred: host unreachable", as if they had been tried. False when
    /// the writer is gone.
    fn defer(
        &self,
        jobs: Vec<(String, Job)>,
        stages: &mut Stages,
        to_writer: &mpsc::UnboundedSender<WriterJob>,
    ) -> bool {
        for (host, job) in jobs {
            let sent = match job {
                Job::Feed(target) => {
                    let interval = self.interval_of(&target);
                    let fetched = Fetched::deferred(target, &host, interval, &self.clock);
                    self.to_writer(fetched, stages, to_writer)
                }
                Job::Image(task) => {
                    stages.images_done += 1;
                    stages.images_deferred += 1;
                    let done = ImageDone::deferred(*task, &host);
                    to_writer.send(WriterJob::Image(Box::new(done))).is_ok()
                }
            };
            if !sent {
                return false;
            }
        }
        true
    }

    /// Hands a feed whose fetch is over to the writer, which answers with
    /// its images when there is an image plan. False when the writer is gone
    /// (it stopped on an error, reported at the end of the run).
    fn to_writer(
        &self,
        fetched: Fetched,
        stages: &mut Stages,
        to_writer: &mpsc::UnboundedSender<WriterJob>,
    ) -> bool {
        if self.images.is_some() {
            stages.feeds_unplanned += 1;
        }
        to_writer.send(WriterJob::Feed(Box::new(fetched))).is_ok()
    }

    /// Hands a fetched document to the parse stage.
    fn start_parse(&self, stages: &mut Stages, fetched: Fetched) {
        let bytes = fetched.document.as_ref().map_or(0, |d| d.body.len());
        let interval = self.interval_of(&fetched.target);
        let images = ImagesToFind::when_caching(self.caches_images(fetched.target.images));
        let parse = parse_document(
            fetched,
            self.parsers.clone(),
            self.fetcher.max_body(),
            images,
            interval,
            self.clock.clone(),
        );
        stages.parses.spawn(bytes, parse);
        stages.backlog_bytes += bytes;
    }

    /// Whether the reader's timer fetches a feed now: its next fetch time
    /// has come, and it is fetched periodically at all (its own interval,
    /// or the config's when that is not 0).
    fn due(&self, target: &FetchTarget, now: i64) -> bool {
        let periodic = target.refresh_minutes.is_some() || self.config.refresh.interval_minutes > 0;
        periodic && target.next_fetch_at.is_none_or(|at| at <= now)
    }

    /// Whether this run is stored in bulk (`store::bulk_load`): the worker
    /// allows it, and at least that many of its feeds, and most of them, are
    /// fetched for the first time.
    fn stores_in_bulk(&self, store: &Store, targets: &[FetchTarget]) -> Result<bool, StoreError> {
        let Some(min_feeds) = self.bulk_first_refresh else {
            return Ok(false);
        };
        if targets.len() < min_feeds {
            return Ok(false);
        }
        let new = store.count_never_fetched(targets.iter().map(|t| t.id))?;
        Ok(new >= min_feeds && new * 2 >= targets.len())
    }

    /// The time between two fetches of a feed: its own, else the config's.
    fn interval_of(&self, target: &FetchTarget) -> i64 {
        target
            .refresh_minutes
            .map_or(self.config.refresh.interval_secs(), |m| {
                m.max(1) as i64 * 60
            })
    }

    /// Whether a feed's images are cached this run: its own setting
    /// (`own`), else the config's, when there is an image plan at all.
    fn caches_images(&self, own: Option<bool>) -> bool {
        self.images.is_some() && feed_caches_images(&self.config, own)
    }

    /// Downloads one article's missing images (see `image_downloads`) and
    /// reports them.
    pub(super) async fn cache_article_images(
        &mut self,
        article: ArticleId,
        progress: &mpsc::UnboundedSender<Progress>,
    ) -> Result<(), StoreError> {
        let (Some(plan), Some(store)) = (self.images.clone(), self.store.as_mut()) else {
            return Ok(());
        };
        let now = self.clock.now_secs();
        let Some(summary) = store.article(article)? else {
            return Ok(());
        };
        let own = store.feed_settings(summary.feed_id)?.and_then(|s| s.images);
        if !feed_caches_images(&self.config, own) {
            return Ok(());
        }
        let feed_url = store.fetch_url_of(summary.feed_id)?.unwrap_or_default();
        // Stored while images were not cached: its images were never looked for.
        if summary.image.is_some() && store.article_images(article)?.is_empty() {
            let found = crate::images::find_in_stored(&summary, &feed_url);
            store.record_article_images(article, &found, now)?;
        }
        let jobs = store.article_images_to_fetch(article, now)?;
        if jobs.is_empty() {
            return Ok(());
        }
        let public_only = !crate::fetch::address::feed_is_private(&feed_url).await;
        let tasks = jobs
            .into_iter()
            .map(|job| ImageTask {
                fetch_id: None,
                job,
                public_only,
            })
            .collect();
        let stats = self.download_images(plan, tasks, None).await?;
        let _ = progress.send(Progress::ImagesDone {
            feed_id: summary.feed_id,
            stats,
        });
        Ok(())
    }
}

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

/// Which of the feeds considered a run fetches (Retry-After and gone feeds
/// aside, always).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Which {
    /// All of them (`--force`, a new subscription).
    All,
    /// Those whose servers did not ask them to rest: an explicit refresh.
    Rested,
    /// Those whose next fetch time has come: the reader's periodic refresh.
    Due,
}

/// Whether a feed's images are cached: its own setting (`own`), else
/// `[images] cache`.
pub(super) fn feed_caches_images(config: &crate::config::Config, own: Option<bool>) -> bool {
    own.unwrap_or(config.images.cache)
}
