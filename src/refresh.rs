//! The refresh worker: [`Command`]s in, [`Progress`] out. It owns its own store
//! connection and its HTTP client and shares nothing with its callers, so the
//! TUI and the headless `tidings refresh` drive the very same code.
//!
//! One run: read the feeds to fetch, start one task per feed (each waits for a
//! permit of its host, then a global one, so a busy host never starves the
//! others), fetch → decode + parse in `spawn_blocking` (a parser panic fails that
//! feed only) → hand the result back here, where the one writer saves it in one
//! transaction and reports [`Progress::FeedDone`]. Articles never travel in
//! messages: the UI re-reads the store.
//!
//! Politeness: validators are sent back; a 304 still takes over a new ETag; a
//! permanent redirect moves `fetch_url`; 410 marks the feed gone; 429/503 set a
//! `retry_after_until` that even an explicit refresh respects; `<ttl>` and
//! `max-age` give a lower bound for the next periodic fetch.
//!
//! The worker needs a multi-threaded tokio runtime: the writes block in place.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use crate::config::Config;
use crate::fetch::{FetchError, Fetcher, Validators, decode_body, looks_like_html};
use crate::model::{FeedId, FetchRecord, RunStats};
use crate::parse::{ParseError, parse_feed};
use crate::store::{FeedUpdate, FetchTarget, Store, StoreError};

/// What the front ends ask of the worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Fetch now: every feed (or the named ones), except those a server asked
    /// to leave alone (Retry-After) or that are gone (unless named).
    Refresh(Option<Vec<FeedId>>),
    /// The periodic refresh: only feeds whose next fetch time has come.
    RefreshDue,
}

/// What the worker reports, in the order it happens.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    Started {
        total: usize,
        skipped: usize,
    },
    FeedDone(FeedDone),
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
            Progress::Finished(stats) => self.finished = Some(stats.clone()),
            Progress::Aborted(reason) => self.aborted = Some(reason.clone()),
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
) -> anyhow::Result<(
    mpsc::UnboundedSender<Command>,
    mpsc::UnboundedReceiver<Progress>,
    tokio::task::JoinHandle<()>,
)> {
    let fetcher = Fetcher::new(&config.refresh)?;
    let (command_tx, mut command_rx) = mpsc::unbounded_channel();
    let (progress_tx, progress_rx) = mpsc::unbounded_channel();
    let mut worker = Refresher {
        store,
        fetcher,
        config,
    };
    let handle = tokio::spawn(async move {
        while let Some(command) = command_rx.recv().await {
            worker.run(command, &progress_tx).await;
        }
    });
    Ok((command_tx, progress_rx, handle))
}

pub struct Refresher {
    store: Store,
    fetcher: Fetcher,
    config: Config,
}

/// What a feed task hands back to the writer.
struct Fetched {
    target: FetchTarget,
    update: FeedUpdate,
    record: FetchRecord,
}

impl Refresher {
    pub fn new(store: Store, config: Config) -> anyhow::Result<Refresher> {
        Ok(Refresher {
            fetcher: Fetcher::new(&config.refresh)?,
            store,
            config,
        })
    }

    /// Runs one command to its end, reporting as it goes.
    pub async fn run(&mut self, command: Command, progress: &mpsc::UnboundedSender<Progress>) {
        if let Err(e) = self.try_run(command, progress).await {
            tracing::error!("refresh aborted: {e}");
            let _ = progress.send(Progress::Aborted(e.to_string()));
        }
    }

    async fn try_run(
        &mut self,
        command: Command,
        progress: &mpsc::UnboundedSender<Progress>,
    ) -> Result<(), StoreError> {
        let started = Instant::now();
        let started_at_ms = now_ms();
        let now = started_at_ms / 1000;
        let (named, due_only) = match &command {
            Command::Refresh(named) => (named.clone(), false),
            Command::RefreshDue => (None, true),
        };
        let all = self.store.fetch_targets(named.as_deref())?;
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
        let run_id = self.store.begin_run(started_at_ms)?;

        let global = Arc::new(Semaphore::new(self.config.refresh.concurrency.max(1)));
        let mut hosts: HashMap<String, Arc<Semaphore>> = HashMap::new();
        let mut tasks = JoinSet::new();
        for target in targets {
            let host = host_key(&target.fetch_url);
            let host_limit = hosts
                .entry(host)
                .or_insert_with(|| Arc::new(Semaphore::new(self.config.refresh.per_host.max(1))))
                .clone();
            let global = global.clone();
            let fetcher = self.fetcher.clone();
            let interval = self.config.refresh.interval_minutes as i64 * 60;
            tasks.spawn(async move {
                // Host first, then global: a task queued behind a busy host holds no global permit.
                let _host = host_limit
                    .acquire_owned()
                    .await
                    .expect("semaphore never closed");
                let _global = global
                    .acquire_owned()
                    .await
                    .expect("semaphore never closed");
                fetch_feed(&fetcher, target, interval).await
            });
        }

        let mut stats = RunStats {
            started_at_ms,
            ..RunStats::default()
        };
        while let Some(joined) = tasks.join_next().await {
            let Ok(mut fetched) = joined else {
                // fetch_feed catches its own failures; a panic here is a bug, not a feed problem.
                tracing::error!("a feed task panicked: {:?}", joined.err());
                continue;
            };
            let retention = self.config.retention.clone();
            let store = &mut self.store;
            write_blocking(|| {
                store.save_fetch(
                    fetched.target.id,
                    Some(run_id),
                    &fetched.update,
                    &mut fetched.record,
                    now_ms() / 1000,
                    &retention,
                )
            })?;
            let r = &fetched.record;
            stats.feeds += 1;
            stats.bytes_wire += r.bytes_wire;
            stats.new_articles += r.new_articles;
            if r.failed() {
                stats.failed += 1;
            } else {
                stats.ok += 1;
                stats.not_modified += r.not_modified as u64;
            }
            let _ = progress.send(Progress::FeedDone(FeedDone {
                feed_id: fetched.target.id,
                title: fetched.target.title.clone(),
                record: fetched.record,
            }));
        }
        stats.wall_ms = started.elapsed().as_millis() as u64;
        self.store.finish_run(run_id, &stats)?;
        let _ = progress.send(Progress::Finished(stats));
        Ok(())
    }
}

/// Runs a short store write without stalling the runtime's other tasks.
fn write_blocking<T>(write: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(write),
        _ => write(),
    }
}

/// One feed, start to parsed result; every failure becomes part of the record.
async fn fetch_feed(fetcher: &Fetcher, target: FetchTarget, interval_secs: i64) -> Fetched {
    let started = Instant::now();
    let mut record = FetchRecord {
        started_at_ms: now_ms(),
        ..FetchRecord::default()
    };
    let mut update = FeedUpdate::default();
    let validators = Validators {
        etag: target.etag.clone(),
        last_modified: target.last_modified.clone(),
    };
    let outcome = fetcher.get(&target.fetch_url, &validators).await;
    let now = now_ms() / 1000;
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
            let lower_bound = response.max_age.map(|s| s as i64);
            match response.status {
                Some(304) => {
                    record.not_modified = true;
                    update.etag = response.etag.clone();
                    update.last_modified = response.last_modified.clone();
                    update.min_interval_secs = lower_bound;
                    update.next_fetch_at = Some(now + interval_secs.max(lower_bound.unwrap_or(0)));
                    Ok(())
                }
                None | Some(200..=299) => {
                    let (etag, last_modified) =
                        (response.etag.clone(), response.last_modified.clone());
                    let parse_started = Instant::now();
                    let parsed = parse_blocking(fetcher.max_body(), response).await;
                    record.ms_parse = parse_started.elapsed().as_millis() as u64;
                    parsed.map(|(decoded, parsed)| {
                        record.bytes_decoded = decoded;
                        let ttl = parsed.ttl_minutes.map(|m| m as i64 * 60);
                        let bound = lower_bound.max(ttl);
                        update.min_interval_secs = bound;
                        update.next_fetch_at = Some(now + interval_secs.max(bound.unwrap_or(0)));
                        update.etag = etag;
                        update.last_modified = last_modified;
                        update.parsed = Some(parsed);
                    })
                }
                Some(410) => {
                    update.gone = true;
                    Err(FetchError::Gone)
                }
                Some(status @ (429 | 503)) => {
                    // Without a Retry-After, wait a while anyway: the server said it is overloaded.
                    let wait =
                        response
                            .retry_after
                            .unwrap_or(if status == 429 { 3600 } else { 600 });
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
        tracing::info!(feed = %target.fetch_url, "fetch failed: {e}");
        record.error_kind = Some(e.kind());
        record.error_message = Some(crate::parse::sanitize_text(&e.to_string()));
        if update.next_fetch_at.is_none() {
            update.next_fetch_at = Some(now + interval_secs);
        }
    }
    record.ms_total = started.elapsed().as_millis() as u64;
    Fetched {
        target,
        update,
        record,
    }
}

/// Decodes and parses off the async threads; a panic in the parser fails this
/// feed with a message instead of taking the refresher down.
async fn parse_blocking(
    max_body: u64,
    response: crate::fetch::Response,
) -> Result<(u64, crate::model::ParsedFeed), FetchError> {
    let url = response.final_url.clone();
    let joined = tokio::task::spawn_blocking(move || {
        let decoded = decode_body(
            &response.body,
            response.content_encoding.as_deref(),
            max_body,
        )?;
        let parsed = parse_feed(&decoded, response.charset(), &response.final_url);
        match parsed {
            Ok(feed) => Ok((decoded.len() as u64, feed)),
            Err(ParseError::NotAFeed(_))
                if looks_like_html(&decoded, response.content_type.as_deref()) =>
            {
                Err(FetchError::Parse(
                    "the address serves a web page, not a feed".into(),
                ))
            }
            Err(ParseError::Encoding(e)) => Err(FetchError::Encoding(e)),
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
    fn hosts_are_keyed_with_their_port() {
        assert_eq!(host_key("http://127.0.0.2:8765/feeds/1"), "127.0.0.2:8765");
        assert_eq!(host_key("https://example.org/x"), "example.org:443");
        assert_eq!(host_key("file:///tmp/x.xml"), "local");
    }
}
