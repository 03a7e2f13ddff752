//! Who goes next in a refresh: the [`Scheduler`] hands out feeds to fetch and
//! images to download, the busiest host first, within the per-host and global
//! limits, feeds before images. It only decides; the run loop starts the
//! tasks and tells it when a host's slot is free again, and whether the host
//! answered: a host that does not answer twice in a row is down for the rest
//! of the run, and its waiting work goes back to the loop to be deferred.

use std::collections::{HashMap, HashSet, VecDeque};

use super::images::ImageTask;
use crate::config::RefreshConfig;
use crate::store::FetchTarget;

/// The host slot a request holds, and how many answers that host had given
/// when it started: a request that gets no answer while others to the same
/// host do says nothing about the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Slot {
    pub host: String,
    answers_before: u64,
}

/// What the scheduler hands out: a feed to fetch, or an image to download.
pub(super) enum Job {
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
pub(super) struct Scheduler {
    feeds: HashMap<String, VecDeque<FetchTarget>>,
    images: HashMap<String, VecDeque<ImageTask>>,
    in_flight: HashMap<String, usize>,
    /// Requests in a row that found each host unreachable.
    misses: HashMap<String, u32>,
    /// Answers each host has given in the run.
    answers: HashMap<String, u64>,
    /// Hosts found unreachable in this run: nothing more is sent to them.
    down: HashSet<String>,
    feeds_in_flight: usize,
    images_in_flight: usize,
    per_host: usize,
    concurrency: usize,
    image_concurrency: usize,
}

impl Scheduler {
    pub(super) fn new(
        targets: Vec<FetchTarget>,
        config: &RefreshConfig,
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
            misses: HashMap::new(),
            answers: HashMap::new(),
            down: HashSet::new(),
            feeds_in_flight: 0,
            images_in_flight: 0,
            per_host: config.per_host.max(1),
            concurrency: config.concurrency.max(1),
            image_concurrency,
        }
    }

    /// Adds a feed to the run in progress (a subscription made meanwhile).
    pub(super) fn push_feed(&mut self, target: FetchTarget) {
        self.feeds
            .entry(host_key(&target.fetch_url))
            .or_default()
            .push_back(target);
    }

    pub(super) fn push_image(&mut self, host: String, task: ImageTask) {
        self.images.entry(host).or_default().push_back(task);
    }

    /// The waiting queue to serve next: the longest on a host with a free
    /// slot. A host whose last request missed gets one request at a time
    /// until one reaches it: a second miss then finds no third request
    /// started in between.
    fn pick<T>(
        queues: &HashMap<String, VecDeque<T>>,
        in_flight: &HashMap<String, usize>,
        misses: &HashMap<String, u32>,
        per_host: usize,
    ) -> Option<String> {
        queues
            .iter()
            .filter(|(host, queue)| {
                let limit = if misses.contains_key(*host) {
                    1
                } else {
                    per_host
                };
                !queue.is_empty() && in_flight.get(*host).copied().unwrap_or(0) < limit
            })
            .max_by_key(|(host, queue)| (queue.len(), std::cmp::Reverse(host.as_str())))
            .map(|(host, _)| host.clone())
    }

    /// The next job to start: a feed when `feeds_allowed` and one can go,
    /// else an image when no feed is waiting and fewer than `image_limit`
    /// are in flight.
    pub(super) fn next(&mut self, feeds_allowed: bool, image_limit: usize) -> Option<(Slot, Job)> {
        if feeds_allowed
            && self.feeds_in_flight < self.concurrency
            && let Some(host) =
                Self::pick(&self.feeds, &self.in_flight, &self.misses, self.per_host)
        {
            let target = self.feeds.get_mut(&host)?.pop_front()?;
            *self.in_flight.entry(host.clone()).or_default() += 1;
            self.feeds_in_flight += 1;
            return Some((self.slot(host), Job::Feed(target)));
        }
        // Images wait while any feed is still waiting for a slot.
        let feeds_waiting = self.feeds.values().any(|q| !q.is_empty());
        if feeds_waiting || self.images_in_flight >= image_limit.min(self.image_concurrency) {
            return None;
        }
        let host = Self::pick(&self.images, &self.in_flight, &self.misses, self.per_host)?;
        let task = self.images.get_mut(&host)?.pop_front()?;
        *self.in_flight.entry(host.clone()).or_default() += 1;
        self.images_in_flight += 1;
        Some((self.slot(host), Job::Image(Box::new(task))))
    }

    fn slot(&self, host: String) -> Slot {
        let answers_before = self.answers.get(&host).copied().unwrap_or(0);
        Slot {
            host,
            answers_before,
        }
    }

    /// Frees a request's slot once it ended, `reached` or not (no
    /// connection, no answer in time). A miss counts against the host only
    /// when the host answered nothing else meanwhile (a server that hangs on
    /// one path still answers the others). The second such miss in a row
    /// marks the host down and returns its waiting feeds and images, for the
    /// caller to defer to a later run; whatever is pushed for it later
    /// should be deferred too (see [`Scheduler::is_down`]).
    pub(super) fn finished(&mut self, slot: &Slot, image: bool, reached: bool) -> Option<Vec<Job>> {
        let host = slot.host.as_str();
        if let Some(n) = self.in_flight.get_mut(host) {
            *n -= 1;
            if image {
                self.images_in_flight -= 1;
            } else {
                self.feeds_in_flight -= 1;
            }
        }
        let answers = self.answers.entry(host.to_string()).or_default();
        if reached || *answers > slot.answers_before {
            *answers += u64::from(reached);
            self.misses.remove(host);
            return None;
        }
        let misses = self.misses.entry(host.to_string()).or_default();
        *misses += 1;
        if *misses < MISSES_BEFORE_DOWN || !self.down.insert(host.to_string()) {
            return None;
        }
        let feeds = self.feeds.remove(host).unwrap_or_default();
        let images = self.images.remove(host).unwrap_or_default();
        Some(
            feeds
                .into_iter()
                .map(Job::Feed)
                .chain(images.into_iter().map(|i| Job::Image(Box::new(i))))
                .collect(),
        )
    }

    /// Whether `host` stopped answering in this run.
    pub(super) fn is_down(&self, host: &str) -> bool {
        self.down.contains(host)
    }
}

/// Requests in a row that must find a host unreachable before the run
/// leaves the rest of its work for later: one could be a blip, and with two
/// slots per host both usually fail together.
const MISSES_BEFORE_DOWN: u32 = 2;

/// The key of a host's slots: its name and port ("local" for a file).
pub(super) fn host_key(address: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FeedId;

    fn feed(id: i64, host: &str) -> FetchTarget {
        FetchTarget {
            id: FeedId(id),
            title: String::new(),
            fetch_url: format!("http://{host}/feed{id}"),
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
        }
    }

    #[test]
    fn the_scheduler_serves_feeds_first_and_keeps_each_host_to_its_limit() {
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
        let kind = |job: &Option<(Slot, Job)>| match job {
            Some((slot, Job::Feed(_))) => format!("feed {}", slot.host),
            Some((slot, Job::Image(_))) => format!("image {}", slot.host),
            None => "none".into(),
        };
        // A parse backlog holds new feeds back, and images wait behind them.
        assert_eq!(kind(&scheduler.next(false, usize::MAX)), "none");
        // Two feeds of host a, one of b; a's third waits for a slot, and so
        // does every image while it waits.
        let started: Vec<Option<(Slot, Job)>> =
            (0..4).map(|_| scheduler.next(true, usize::MAX)).collect();
        let kinds: Vec<String> = started.iter().map(kind).collect();
        assert_eq!(kinds, ["feed a:80", "feed a:80", "feed b:80", "none"]);
        let slot_of_a = |n: usize| started[n].as_ref().unwrap().0.clone();
        assert!(scheduler.finished(&slot_of_a(0), false, true).is_none());
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
        assert!(scheduler.finished(&slot_of_a(1), false, true).is_none());
        assert_eq!(kind(&scheduler.next(true, usize::MAX)), "image a:80");
    }

    #[test]
    fn a_host_that_answers_nothing_twice_in_a_row_hands_back_its_waiting_work() {
        fn start(scheduler: &mut Scheduler) -> Slot {
            match scheduler.next(true, usize::MAX) {
                Some((slot, Job::Feed(_))) => slot,
                _ => panic!("a feed should start"),
            }
        }
        let config = crate::config::RefreshConfig {
            per_host: 2,
            ..Default::default()
        };
        let targets = (1..=6)
            .map(|id| feed(id, "dead"))
            .chain((7..=10).map(|id| feed(id, "flaky")))
            .collect();
        let mut scheduler = Scheduler::new(targets, &config, 64);
        let (d1, d2, f1, f2) = (
            start(&mut scheduler),
            start(&mut scheduler),
            start(&mut scheduler),
            start(&mut scheduler),
        );
        assert_eq!(
            [&d1.host, &d2.host, &f1.host, &f2.host],
            ["dead:80", "dead:80", "flaky:80", "flaky:80"]
        );

        // One of flaky's requests hangs while the other is answered: the
        // host answers, so the hang says nothing about it.
        assert!(scheduler.finished(&f2, false, true).is_none());
        let f3 = start(&mut scheduler);
        assert!(scheduler.finished(&f1, false, false).is_none());
        // A miss with no answer meanwhile counts; then one request at a
        // time, and an answer starts the count again.
        assert!(scheduler.finished(&f3, false, false).is_none());
        let f4 = start(&mut scheduler);
        assert!(scheduler.finished(&f4, false, true).is_none());
        assert!(!scheduler.is_down("flaky:80"));

        // Neither of dead's two requests is answered. After the first miss no
        // third starts while the second is out.
        assert!(scheduler.finished(&d1, false, false).is_none());
        assert!(scheduler.next(true, usize::MAX).is_none());
        let handed_back = scheduler
            .finished(&d2, false, false)
            .expect("the second miss in a row");
        let ids: Vec<i64> = handed_back
            .iter()
            .map(|job| match job {
                Job::Feed(t) => t.id.0,
                Job::Image(_) => -1,
            })
            .collect();
        assert_eq!(ids, [3, 4, 5, 6], "the feeds still waiting");
        assert!(scheduler.is_down("dead:80"));
        assert!(!scheduler.is_down("flaky:80"));
        assert!(scheduler.next(true, usize::MAX).is_none());
    }

    #[test]
    fn hosts_are_keyed_with_their_port() {
        assert_eq!(host_key("http://127.0.0.2:8765/feeds/1"), "127.0.0.2:8765");
        assert_eq!(host_key("https://example.org/x"), "example.org:443");
        assert_eq!(host_key("file:///tmp/x.xml"), "local");
    }
}
