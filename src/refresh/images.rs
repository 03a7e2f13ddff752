//! The image stage of a refresh. When the writer has saved a feed, it lists
//! the feed's images that need a download ([`ImageLedger::plan`]) and hands
//! them to the dispatch loop, which schedules them behind the feeds (same
//! per-host limit, a global limit of their own) so that a refresh's articles
//! come first. Each download ([`fetch`], which holds the host's slot) is then
//! checked and converted off the async threads ([`check_and_write`], `images::check`)
//! and written to the cache atomically; the writer records it and, when a
//! feed's last image is in, adds the image statistics to that fetch's record
//! and reports [`Progress::ImagesDone`].
//!
//! An image of a feed on the open internet is fetched only from public
//! addresses (see `fetch::address`).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::Progress;
use crate::fetch::{FetchError, Fetcher, Validators};
use crate::images::{ImageLimits, check, file_name, write_atomic};
use crate::model::{FeedId, ImageStats, ImageStatus, ParsedFeed};
use crate::store::{ImageJob, ImageOutcome, Store, StoreError};

/// Where and how a refresh caches images.
#[derive(Debug, Clone)]
pub struct ImagePlan {
    pub dir: PathBuf,
    pub limits: ImageLimits,
    pub max_bytes: u64,
    pub concurrency: usize,
    pub cache_limit_bytes: u64,
}

impl ImagePlan {
    /// The plan for this data directory. There is one even when image
    /// caching is off (`[images] cache`): a feed may turn it on for itself.
    pub fn from_config(
        paths: &crate::config::Paths,
        config: &crate::config::Config,
    ) -> Option<ImagePlan> {
        Some(ImagePlan::new(paths.image_dir(), &config.images))
    }

    pub fn new(dir: PathBuf, config: &crate::config::ImagesConfig) -> ImagePlan {
        ImagePlan {
            dir,
            limits: ImageLimits {
                max_width: config.max_width.max(16),
                ..ImageLimits::default()
            },
            max_bytes: config.max_bytes,
            concurrency: config.concurrency.max(1),
            cache_limit_bytes: config.cache_limit_mb.saturating_mul(1_000_000),
        }
    }
}

/// The images of one saved feed to download (possibly none: the loop counts
/// every feed's batch to know when the writer is through).
#[derive(Debug)]
pub(super) struct ImageBatch {
    pub fetch_id: Option<i64>,
    pub feed_url: String,
    pub jobs: Vec<ImageJob>,
}

/// One image download and the feed fetch it counts towards.
#[derive(Debug, Clone)]
pub(super) struct ImageTask {
    pub fetch_id: Option<i64>,
    pub job: ImageJob,
    pub public_only: bool,
}

#[derive(Debug)]
pub(super) struct ImageDone {
    pub task: ImageTask,
    pub outcome: ImageOutcome,
    pub bytes_wire: u64,
}

impl ImageDone {
    /// An image not asked for, since its `host` stopped answering in this
    /// run: a failure, retried with the usual backoff in a later run.
    pub fn deferred(task: ImageTask, host: &str) -> ImageDone {
        let mut outcome = ImageOutcome::failed(task.job.id);
        outcome.error = Some(FetchError::Deferred(host.to_string()).to_string());
        ImageDone {
            task,
            outcome,
            bytes_wire: 0,
        }
    }

    /// Adds this download to a fetch's image statistics.
    pub fn count_in(&self, stats: &mut ImageStats) {
        stats.bytes_wire += self.bytes_wire;
        match self.outcome.status {
            ImageStatus::Cached => {
                stats.cached += 1;
                stats.bytes_stored += self.outcome.stored_bytes;
            }
            ImageStatus::Refused => stats.refused += 1,
            _ => stats.failed += 1,
        }
    }
}

/// An image's answer from the network, before it is checked and stored.
pub(super) struct ImageFetched {
    task: ImageTask,
    outcome: ImageOutcome,
    /// The body of a 2xx answer, still to be checked and stored.
    body: Option<Vec<u8>>,
    bytes_wire: u64,
    /// False when the host could not be reached (see `ErrorKind::means_host_unreachable`).
    pub reached: bool,
}

/// The network half of a download (the other is [`check_and_write`]; neither
/// fails: what went wrong is in the outcome, failed: retried later, refused:
/// not again): the request, with the validators of the
/// file in the cache. The refresh holds the host's slot for this half only,
/// so that a slow disk never keeps a host's next image waiting.
pub(super) async fn fetch(fetcher: Fetcher, plan: &ImagePlan, task: ImageTask) -> ImageFetched {
    let started = Instant::now();
    let job = &task.job;
    let validators = match &job.file {
        // Ask conditionally only when the file is still there to keep.
        Some(file) if plan.dir.join(file).exists() => Validators {
            etag: job.etag.clone(),
            last_modified: job.last_modified.clone(),
        },
        _ => Validators::default(),
    };
    let mut outcome = ImageOutcome::failed(job.id);
    let answer = fetcher
        .get_image(&job.url, &validators, plan.max_bytes, task.public_only)
        .await;
    outcome.fetch_ms = started.elapsed().as_millis() as u64;
    let response = match answer {
        Ok(response) => response,
        Err(e) => {
            // An address tidings will not ask, or a body over the cap, will not change.
            if matches!(e, FetchError::Forbidden(_) | FetchError::TooLarge { .. }) {
                outcome.status = ImageStatus::Refused;
            }
            outcome.error = Some(crate::text::sanitize_text(&e.to_string()));
            // Through a proxy, the proxy answers for the failure.
            let reached = !e.kind().means_host_unreachable() || fetcher.proxied(&job.url);
            return ImageFetched {
                task,
                outcome,
                body: None,
                bytes_wire: 0,
                reached,
            };
        }
    };
    let bytes_wire = response.body.len() as u64;
    outcome.http_status = response.status;
    outcome.content_type = response.content_type.clone();
    outcome.etag = response.etag.clone();
    outcome.last_modified = response.last_modified.clone();
    let mut body = None;
    match response.status {
        Some(304) => {
            outcome.not_modified = true;
            outcome.status = ImageStatus::Cached;
        }
        Some(200..=299) => body = Some(response.body),
        Some(status) => outcome.error = Some(format!("HTTP {status}")),
        None => outcome.error = Some("no HTTP answer".into()),
    }
    ImageFetched {
        task,
        outcome,
        body,
        bytes_wire,
        reached: true,
    }
}

/// The disk half of a download: a 2xx body is checked, converted and written
/// to the cache on a blocking thread; any other answer passes through.
pub(super) async fn check_and_write(plan: Arc<ImagePlan>, fetched: ImageFetched) -> ImageDone {
    let ImageFetched {
        task,
        mut outcome,
        body,
        bytes_wire,
        reached: _,
    } = fetched;
    if let Some(body) = body {
        let url = task.job.url.clone();
        let stored = tokio::task::spawn_blocking(move || {
            let checked =
                check(&body, &plan.limits).map_err(|e| (ImageStatus::Refused, e.to_string()))?;
            let name = file_name(&url, checked.kind);
            write_atomic(&plan.dir, &name, &checked.bytes)
                .map_err(|e| (ImageStatus::Failed, format!("cannot write the image: {e}")))?;
            Ok::<_, (ImageStatus, String)>((name, body.len() as u64, checked))
        })
        .await
        .unwrap_or_else(|_| Err((ImageStatus::Refused, "the image decoder crashed".into())));
        match stored {
            Ok((name, source_bytes, checked)) => {
                outcome.status = ImageStatus::Cached;
                outcome.file = Some(name);
                outcome.source_bytes = source_bytes;
                outcome.stored_bytes = checked.bytes.len() as u64;
                outcome.width = checked.width;
                outcome.height = checked.height;
                outcome.stored_width = checked.stored_width;
                outcome.stored_height = checked.stored_height;
                outcome.convert_ms = checked.convert_ms;
            }
            Err((status, error)) => {
                outcome.status = status;
                outcome.error = Some(error);
            }
        }
    }
    ImageDone {
        task,
        outcome,
        bytes_wire,
    }
}

/// The writer's bookkeeping of a run's images: what each feed fetch is
/// still waiting for, and which images this run has sent for already (an
/// image that several feeds show is downloaded once).
#[derive(Default)]
pub(super) struct ImageLedger {
    waiting: HashMap<i64, Waiting>,
    dispatched: HashSet<i64>,
}

struct Waiting {
    feed: FeedId,
    outstanding: usize,
    stats: ImageStats,
    started: Instant,
}

impl ImageLedger {
    /// The downloads a just-saved feed needs (failed ones only once their
    /// retry time is before `now`). `found` counts the distinct images its
    /// document shows.
    pub fn plan(
        &mut self,
        store: &mut Store,
        now: i64,
        feed: FeedId,
        fetch_id: Option<i64>,
        feed_url: &str,
        parsed: Option<&ParsedFeed>,
    ) -> Result<ImageBatch, StoreError> {
        let found = parsed.map_or(0, |p| {
            let mut urls: HashSet<&str> = p
                .articles
                .iter()
                .flat_map(|a| a.images.iter().map(|i| i.url.as_str()))
                .collect();
            urls.extend(p.icon.as_deref());
            urls.len() as u64
        });
        let jobs: Vec<ImageJob> = store
            .images_to_fetch(feed, now)?
            .into_iter()
            .filter(|job| self.dispatched.insert(job.id))
            .collect();
        if let Some(fetch_id) = fetch_id {
            let stats = ImageStats {
                found,
                ..ImageStats::default()
            };
            if jobs.is_empty() {
                if found > 0 {
                    store.save_image_stats(fetch_id, &stats)?;
                }
            } else {
                self.waiting.insert(
                    fetch_id,
                    Waiting {
                        feed,
                        outstanding: jobs.len(),
                        stats,
                        started: Instant::now(),
                    },
                );
            }
        }
        Ok(ImageBatch {
            fetch_id,
            feed_url: feed_url.to_string(),
            jobs,
        })
    }

    /// Counts finished downloads (already saved) towards their fetches;
    /// returns the progress of fetches whose images are now all in.
    pub fn record(
        &mut self,
        store: &mut Store,
        done: &[ImageDone],
    ) -> Result<Vec<Progress>, StoreError> {
        let mut finished = Vec::new();
        for d in done {
            let Some(fetch_id) = d.task.fetch_id else {
                continue;
            };
            let Some(waiting) = self.waiting.get_mut(&fetch_id) else {
                continue;
            };
            d.count_in(&mut waiting.stats);
            waiting.outstanding -= 1;
            if waiting.outstanding == 0 {
                let mut waiting = self.waiting.remove(&fetch_id).expect("present");
                waiting.stats.ms = waiting.started.elapsed().as_millis() as u64;
                store.save_image_stats(fetch_id, &waiting.stats)?;
                finished.push(Progress::ImagesDone {
                    feed_id: waiting.feed,
                    stats: waiting.stats,
                });
            }
        }
        Ok(finished)
    }
}

/// Deletes the least recently shown cached images until the cache fits its
/// limit (never those of starred articles). Returns files and bytes removed.
pub fn evict(
    store: &mut Store,
    dir: &std::path::Path,
    limit_bytes: u64,
) -> Result<(usize, u64), StoreError> {
    let chosen = store.images_to_evict(limit_bytes)?;
    let mut removed = Vec::with_capacity(chosen.len());
    let mut bytes = 0;
    for image in &chosen {
        let path = dir.join(&image.file);
        match std::fs::remove_file(&path) {
            Ok(()) => {
                // Its subdirectory goes too once empty; otherwise this fails.
                if let Some(subdir) = path.parent().filter(|p| *p != dir) {
                    let _ = std::fs::remove_dir(subdir);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!("cannot delete cached image {}: {e}", image.file);
                continue;
            }
        }
        bytes += image.stored_bytes;
        removed.push(image.id);
    }
    store.mark_evicted(&removed)?;
    Ok((removed.len(), bytes))
}

/// Deletes the files in the image cache that no image row names: a file
/// written by a process that stopped before recording it, or the temp file of
/// an interrupted write. Files younger than an hour stay, since a refresh
/// running now may be about to record them. Returns files and bytes removed.
pub fn sweep_unrecorded(store: &Store, dir: &std::path::Path) -> Result<(usize, u64), StoreError> {
    let recorded = store.image_files()?;
    let settled = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let (mut files, mut bytes) = (0, 0);
    let mut sweep = |path: std::path::PathBuf, name: String| {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            return;
        };
        let young = meta.modified().map_or(true, |at| at > settled);
        if meta.is_file() && !young && !recorded.contains(&name) {
            match std::fs::remove_file(&path) {
                Ok(()) => {
                    files += 1;
                    bytes += meta.len();
                }
                Err(e) => tracing::warn!("cannot delete {}: {e}", path.display()),
            }
        }
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok((0, 0));
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        // The cache's own subdirectories (see `images::file_name`), one level deep.
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            for inner in std::fs::read_dir(&path).into_iter().flatten().flatten() {
                let inner_name = inner.file_name().to_string_lossy().into_owned();
                sweep(inner.path(), format!("{name}/{inner_name}"));
            }
            let _ = std::fs::remove_dir(&path);
        } else {
            sweep(path, name);
        }
    }
    Ok((files, bytes))
}
