//! Images downloaded outside a refresh run: an opened article's missing
//! ones, and those of the articles a sync brought. As politely as a run:
//! each host's images at most `refresh.per_host` at a time, `images.concurrency`
//! in all, and a host that fails to answer twice in a row has the rest of
//! its images deferred to a later run. Each outcome is recorded, and the
//! downloads summed up as image statistics.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use super::images::{self, ImageDone, ImagePlan, ImageTask};
use super::{Progress, Refresher};
use crate::model::ImageStats;
use crate::store::{ImageOutcome, StoreError};

/// One host's images still to download, and whether it stopped answering.
struct HostQueue {
    tasks: VecDeque<ImageTask>,
    unreached_in_a_row: u32,
}

impl Refresher {
    /// Downloads `tasks`, records what came of them, and sums them up;
    /// reports the images done so far as [`Progress::Images`] when asked.
    pub(super) async fn download_images(
        &mut self,
        plan: Arc<ImagePlan>,
        tasks: Vec<ImageTask>,
        progress: Option<&mpsc::UnboundedSender<Progress>>,
    ) -> Result<ImageStats, StoreError> {
        let total = tasks.len();
        if total == 0 {
            return Ok(ImageStats::default());
        }
        let mut by_host: HashMap<String, VecDeque<ImageTask>> = HashMap::new();
        for task in tasks {
            let host = url::Url::parse(&task.job.url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_default();
            by_host.entry(host).or_default().push_back(task);
        }
        let started = Instant::now();
        let all = Arc::new(Semaphore::new(plan.concurrency.max(1)));
        let mut hosts = JoinSet::new();
        for (host, tasks) in by_host {
            let queue = Arc::new(std::sync::Mutex::new(HostQueue {
                tasks,
                unreached_in_a_row: 0,
            }));
            for _ in 0..self.config.refresh.per_host.max(1) {
                let (queue, all, plan) = (queue.clone(), all.clone(), plan.clone());
                let (fetcher, host) = (self.fetcher.clone(), host.clone());
                hosts.spawn(async move {
                    let mut done = Vec::new();
                    loop {
                        let (task, down) = {
                            let mut q = queue.lock().expect("not poisoned");
                            (q.tasks.pop_front(), q.unreached_in_a_row >= 2)
                        };
                        let Some(task) = task else { break };
                        if down {
                            done.push(ImageDone::deferred(task, &host));
                            continue;
                        }
                        let _slot = all.clone().acquire_owned().await.expect("never closed");
                        let fetched = images::fetch(fetcher.clone(), &plan, task).await;
                        {
                            let mut q = queue.lock().expect("not poisoned");
                            q.unreached_in_a_row = if fetched.reached {
                                0
                            } else {
                                q.unreached_in_a_row + 1
                            };
                        }
                        done.push(images::check_and_write(plan.clone(), fetched).await);
                    }
                    done
                });
            }
        }
        let mut outcomes: Vec<ImageDone> = Vec::new();
        while let Some(joined) = hosts.join_next().await {
            if let Ok(done) = joined {
                outcomes.extend(done);
                if let Some(progress) = progress {
                    let _ = progress.send(Progress::Images {
                        done: outcomes.len(),
                        total,
                        deferred: 0,
                    });
                }
            }
        }
        let mut stats = ImageStats {
            found: outcomes.len() as u64,
            ms: started.elapsed().as_millis() as u64,
            ..ImageStats::default()
        };
        for done in &outcomes {
            done.count_in(&mut stats);
        }
        let saved: Vec<&ImageOutcome> = outcomes.iter().map(|d| &d.outcome).collect();
        if let Some(store) = self.store.as_mut() {
            store.save_images(&saved, self.clock.now_secs())?;
        }
        Ok(stats)
    }
}
