//! The refresh worker end to end against a local HTTP server: what it sends
//! (validators, no Referer), what it stores (articles, validators, new
//! addresses, gone and retry-after state), the fetch records it keeps, and
//! the progress it reports.

mod support;

use std::time::Duration;

use support::TestServer;
use tidings::clock::Clock;
use tidings::config::Config;
use tidings::model::{ErrorKind, FeedId, FetchRecord};
use tidings::refresh::{Command, Progress, Refresher};
use tidings::store::{NewSubscription, Store};

struct Harness {
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    runtime: tokio::runtime::Runtime,
    config: Config,
    /// The workers' clock: it starts at the wall clock's time and moves only
    /// when a test moves it.
    clock: Clock,
}

impl Harness {
    fn new() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("tidings.db");
        let mut config = Config::default();
        config.refresh.connect_timeout_secs = 1;
        config.refresh.read_timeout_secs = 1;
        config.refresh.total_timeout_secs = 2;
        config.refresh.max_body_bytes = 1 << 20;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        Harness {
            _dir: dir,
            db,
            runtime,
            config,
            clock: Clock::manual(chrono::Utc::now().timestamp_millis()),
        }
    }

    fn store(&self) -> Store {
        Store::open(&self.db).unwrap()
    }

    fn subscribe(&self, url: &str) -> FeedId {
        self.store()
            .add_feed(&NewSubscription {
                url: url.into(),
                ..Default::default()
            })
            .unwrap()
            .0
    }

    /// A fresh worker on the harness's database, config and clock.
    fn refresher(&self) -> Refresher {
        Refresher::new(self.store(), self.config.clone())
            .unwrap()
            .with_clock(self.clock.clone())
    }

    /// Runs one command through a fresh worker; returns the progress it reported.
    fn run(&self, command: Command) -> Vec<Progress> {
        self.run_with(self.refresher(), command)
    }

    /// Runs one command through `refresher`; returns the progress it reported.
    fn run_with(&self, mut refresher: Refresher, command: Command) -> Vec<Progress> {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        self.runtime.block_on(refresher.run(command, &tx));
        drop(tx);
        let mut out = Vec::new();
        while let Ok(p) = rx.try_recv() {
            out.push(p);
        }
        out
    }

    /// Every feed fetched now, resting ones too (the test feeds' `<ttl>` asks
    /// for five minutes): what these tests look at is the fetch.
    fn refresh_all(&self) -> Vec<Progress> {
        self.run(Command::RefreshForced(None))
    }

    fn last_record(&self, feed: FeedId) -> FetchRecord {
        self.store().fetch_history(feed, 1).unwrap().remove(0)
    }
}

fn done_records(progress: &[Progress]) -> Vec<(FeedId, FetchRecord)> {
    progress
        .iter()
        .filter_map(|p| match p {
            Progress::FeedDone(d) => Some((d.feed_id, d.record.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn etag_then_304_keeps_articles_sends_validators_and_takes_the_new_etag() {
    let server = TestServer::start();
    let h = Harness::new();
    let feed = h.subscribe(&server.url("/etag.xml"));

    let first = h.refresh_all();
    assert!(
        matches!(
            first[0],
            Progress::Started {
                total: 1,
                skipped: 0,
                resting: None
            }
        ),
        "{first:?}"
    );
    assert!(
        matches!(first.last(), Some(Progress::Finished(stats)) if stats.ok == 1 && stats.new_articles == 2)
    );
    let record = h.last_record(feed);
    assert_eq!(record.http_status, Some(200));
    assert_eq!((record.new_articles, record.total_articles), (2, 2));
    assert!(record.bytes_wire > 0 && record.bytes_decoded >= record.bytes_wire);
    let store = h.store();
    assert_eq!(
        store.feeds().unwrap()[0].title.as_deref(),
        Some("Local News")
    );
    let target = &store.fetch_targets(None).unwrap()[0];
    assert_eq!(target.etag.as_deref(), Some("\"v1\""));
    assert_eq!(
        target.last_modified.as_deref(),
        Some("Tue, 03 Jan 2023 10:00:00 GMT")
    );

    // Second fetch: validators sent back verbatim, 304 carries a new ETag.
    h.refresh_all();
    let second = h.last_record(feed);
    assert!(second.not_modified && second.http_status == Some(304));
    assert_eq!((second.new_articles, second.total_articles), (0, 2));
    let sent = &server.requests_for("/etag.xml")[1].headers;
    assert_eq!(
        sent.get("if-none-match").map(String::as_str),
        Some("\"v1\"")
    );
    assert_eq!(
        sent.get("if-modified-since").map(String::as_str),
        Some("Tue, 03 Jan 2023 10:00:00 GMT")
    );
    assert!(!sent.contains_key("referer"));
    assert!(
        sent.get("user-agent")
            .is_some_and(|ua| ua.starts_with("tidings/"))
    );

    // Third fetch sends the ETag the 304 carried.
    h.refresh_all();
    let third = &server.requests_for("/etag.xml")[2].headers;
    assert_eq!(
        third.get("if-none-match").map(String::as_str),
        Some("\"v2\"")
    );
    assert_eq!(h.store().articles(feed, 0, 10).unwrap().len(), 2);
}

#[test]
fn permanent_redirect_moves_the_fetch_address_but_not_the_identity() {
    let server = TestServer::start();
    let h = Harness::new();
    let moved = h.subscribe(&server.url("/moved.xml"));
    let temporary = h.subscribe(&server.url("/temporary.xml"));
    h.refresh_all();

    let feeds = h.store().feeds().unwrap();
    let moved_feed = feeds.iter().find(|f| f.id == moved).unwrap();
    assert_eq!(moved_feed.url, server.url("/moved.xml"));
    assert_eq!(moved_feed.fetch_url, server.url("/new-home.xml"));
    let temp_feed = feeds.iter().find(|f| f.id == temporary).unwrap();
    assert_eq!(
        temp_feed.fetch_url,
        server.url("/temporary.xml"),
        "a 302 moves nothing"
    );
    assert_eq!(
        h.last_record(moved).redirect_to,
        Some(server.url("/new-home.xml"))
    );
    // Relative entry links resolve against the address the feed came from.
    let article = h.store().articles(moved, 0, 1).unwrap().remove(0);
    assert_eq!(article.link, Some(server.url("/posts/1")));

    h.refresh_all();
    assert_eq!(
        server.requests_for("/moved.xml").len(),
        1,
        "the old address is not asked again"
    );
    assert_eq!(server.requests_for("/temporary.xml").len(), 2);
}

#[test]
fn gone_and_rate_limited_feeds_are_left_alone_afterwards() {
    let server = TestServer::start();
    let h = Harness::new();
    let gone = h.subscribe(&server.url("/gone.xml"));
    let busy = h.subscribe(&server.url("/busy.xml"));
    let progress = h.refresh_all();
    assert!(matches!(progress.last(), Some(Progress::Finished(s)) if s.failed == 2));

    let gone_record = h.last_record(gone);
    assert_eq!(
        (gone_record.http_status, gone_record.error_kind),
        (Some(410), Some(ErrorKind::Gone))
    );
    let busy_record = h.last_record(busy);
    assert_eq!(busy_record.error_kind, Some(ErrorKind::RateLimited));
    assert!(
        busy_record
            .error_message
            .as_deref()
            .unwrap()
            .contains("3600")
    );
    let targets = h.store().fetch_targets(None).unwrap();
    assert!(targets.iter().find(|t| t.id == gone).unwrap().gone);
    let until = targets
        .iter()
        .find(|t| t.id == busy)
        .unwrap()
        .retry_after_until
        .unwrap();
    assert!(until >= chrono::Utc::now().timestamp() + 3500);

    let again = h.refresh_all();
    assert!(
        matches!(
            again[0],
            Progress::Started {
                total: 0,
                skipped: 2,
                resting: None
            }
        ),
        "{again:?}"
    );
    assert_eq!(server.requests_for("/gone.xml").len(), 1);
    assert_eq!(server.requests_for("/busy.xml").len(), 1);
}

#[test]
fn failures_are_recorded_with_their_kind_and_cached_articles_stay() {
    let server = TestServer::start();
    let h = Harness::new();
    let flaky = h.subscribe(&server.url("/flaky.xml"));
    h.refresh_all();
    assert_eq!(h.store().articles(flaky, 0, 10).unwrap().len(), 2);

    let error = h.subscribe(&server.url("/error.xml"));
    let hang = h.subscribe(&server.url("/hang.xml"));
    let malformed = h.subscribe(&server.url("/malformed.xml"));
    let bomb = h.subscribe(&server.url("/bomb.xml"));
    let page = h.subscribe(&server.url("/page.html"));
    let refused = h.subscribe("http://127.0.0.1:9/feed.xml");
    let progress = h.refresh_all();
    let records = done_records(&progress);
    assert_eq!(records.len(), 7);
    let kind = |feed: FeedId| {
        records
            .iter()
            .find(|(id, _)| *id == feed)
            .unwrap()
            .1
            .error_kind
    };
    assert_eq!(kind(flaky), Some(ErrorKind::Http));
    assert_eq!(kind(error), Some(ErrorKind::Http));
    assert_eq!(kind(hang), Some(ErrorKind::Timeout));
    assert_eq!(kind(malformed), Some(ErrorKind::Parse));
    assert_eq!(kind(bomb), Some(ErrorKind::TooLarge));
    assert_eq!(kind(page), Some(ErrorKind::Parse));
    assert_eq!(kind(refused), Some(ErrorKind::Connect));
    assert_eq!(
        h.last_record(error).error_message.as_deref(),
        Some("HTTP 500 Internal Server Error")
    );
    assert!(
        h.last_record(page)
            .error_message
            .unwrap()
            .contains("web page")
    );

    assert_eq!(
        h.store().articles(flaky, 0, 10).unwrap().len(),
        2,
        "what was cached stays"
    );
    let stats = h
        .store()
        .feed_stats(chrono::Utc::now().timestamp())
        .unwrap();
    let flaky_stats = stats.iter().find(|s| s.feed_id == flaky).unwrap();
    assert_eq!((flaky_stats.fetches, flaky_stats.failure_streak), (2, 1));
    assert!(flaky_stats.last_success_ms.is_some());
}

#[test]
fn redirect_loops_and_redirects_to_files_fail_cleanly() {
    let server = TestServer::start();
    let h = Harness::new();
    let looping = h.subscribe(&server.url("/loop.xml"));
    let to_file = h.subscribe(&server.url("/to-file.xml"));
    h.refresh_all();
    assert_eq!(
        h.last_record(looping).error_kind,
        Some(ErrorKind::TooManyRedirects)
    );
    assert_eq!(
        server.requests_for("/loop.xml").len(),
        11,
        "the first request and 10 redirects"
    );
    let to_file_record = h.last_record(to_file);
    assert_eq!(to_file_record.error_kind, Some(ErrorKind::Http));
    assert!(
        to_file_record
            .error_message
            .unwrap()
            .contains("file:///etc/passwd")
    );
}

#[test]
fn the_periodic_refresh_waits_for_each_feeds_next_fetch_time() {
    let server = TestServer::start();
    let h = Harness::new();
    h.subscribe(&server.url("/etag.xml"));
    h.run(Command::RefreshDue);
    let due_again = h.run(Command::RefreshDue);
    assert!(
        matches!(
            due_again[0],
            Progress::Started {
                total: 0,
                skipped: 1,
                resting: None
            }
        ),
        "{due_again:?}"
    );
    // An explicit refresh leaves it too: its <ttl> asks for five minutes.
    let explicit = h.run(Command::Refresh(None));
    assert!(all_rest(&explicit), "{explicit:?}");
    let forced = h.refresh_all();
    assert!(matches!(
        forced[0],
        Progress::Started {
            total: 1,
            skipped: 0,
            resting: None
        }
    ));
    assert_eq!(server.requests_for("/etag.xml").len(), 2);
}

#[test]
fn a_not_modified_answer_keeps_the_rest_the_feeds_ttl_asked_for() {
    let server = TestServer::start();
    let h = Harness::new();
    h.subscribe(&server.url("/etag.xml"));
    h.refresh_all();
    h.refresh_all();
    assert_eq!(
        server.requests_for("/etag.xml").len(),
        2,
        "the second fetch was a conditional one"
    );
    // The 304 carries no <ttl>; the five minutes the feed asked for still hold.
    let explicit = h.run(Command::Refresh(None));
    assert!(all_rest(&explicit), "{explicit:?}");
}

#[test]
fn the_per_host_limit_holds_with_many_feeds_on_one_host() {
    let server = TestServer::start();
    let mut h = Harness::new();
    h.config.refresh.per_host = 2;
    for i in 0..6 {
        h.subscribe(&format!("{}?n={i}", server.url("/slow.xml")));
    }
    // Every answer takes a while, so requests pile up at the limit.
    let progress = h.refresh_all();
    assert_eq!(done_records(&progress).len(), 6);
    assert_eq!(server.requests_for("/slow.xml").len(), 6);
    assert_eq!(
        server.max_in_flight(),
        2,
        "at most (and, with 6 waiting, exactly) 2 on one host"
    );
}

#[test]
fn a_second_refresh_of_an_unchanged_feed_without_validators_adds_nothing() {
    let server = TestServer::start();
    let h = Harness::new();
    let feed = h.subscribe(&server.url("/new-home.xml"));
    h.refresh_all();
    h.refresh_all();
    let record = h.last_record(feed);
    assert_eq!(
        (
            record.http_status,
            record.new_articles,
            record.unchanged_articles
        ),
        (Some(200), 0, 1)
    );
}

#[test]
fn the_seed_blog_is_stored_whole() {
    let server = TestServer::start();
    let Some(dir) = support::seed_blog(&server.url("/files"), "the_seed_blog_is_stored_whole")
    else {
        return;
    };
    server.serve_dir(dir.path());
    let h = Harness::new();
    let feed = h.subscribe(&server.url("/files/aws-opensource.xml"));
    h.refresh_all();
    let record = h.last_record(feed);
    assert_eq!((record.error_kind, record.new_articles), (None, 6));
    let store = h.store();
    assert_eq!(
        store.feeds().unwrap()[0].title.as_deref(),
        Some("AWS Open Source Blog")
    );
    let articles = store.feed_articles(feed).unwrap();
    assert!(
        articles
            .iter()
            .all(|a| a.author.is_some() && a.published.is_some() && a.content.is_some())
    );
    assert!(
        articles
            .iter()
            .any(|a| a.content.as_deref().unwrap().contains("<img"))
    );
    assert!(!store.search("TalkingData", 10).unwrap().is_empty());
}

#[test]
fn a_file_subscription_is_read_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("local.xml");
    std::fs::write(&path, support::FEED_V1).unwrap();
    let h = Harness::new();
    let url = url::Url::from_file_path(&path).unwrap().to_string();
    let feed = h.subscribe(&url);
    h.refresh_all();
    let record = h.last_record(feed);
    assert_eq!(
        (record.http_status, record.error_kind, record.new_articles),
        (None, None, 2)
    );
    std::fs::remove_file(&path).unwrap();
    h.refresh_all();
    assert_eq!(h.last_record(feed).error_kind, Some(ErrorKind::Io));
    assert_eq!(h.store().articles(feed, 0, 10).unwrap().len(), 2);
}

#[test]
fn a_reader_keeps_reading_while_the_worker_writes() {
    let server = TestServer::start();
    let h = Harness::new();
    for i in 0..20 {
        h.subscribe(&format!("{}?n={i}", server.url("/etag.xml")));
    }
    let reader = h.store();
    let db = h.db.clone();
    let reads = std::thread::spawn(move || {
        let mut reads = 0;
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        while std::time::Instant::now() < deadline {
            reader
                .feed_list()
                .expect("reads never fail while a refresh writes");
            reads += 1;
        }
        drop(db);
        reads
    });
    let progress = h.refresh_all();
    assert!(matches!(progress.last(), Some(Progress::Finished(s)) if s.ok == 20));
    assert!(reads.join().unwrap() > 0);
}

#[test]
fn a_run_leaves_a_small_wal_behind_while_a_reader_keeps_the_database_open() {
    let server = TestServer::start();
    let h = Harness::new();
    for i in 0..40 {
        h.subscribe(&format!("{}?n={i}", server.url("/etag.xml")));
    }
    // The reader's connection stays open, so the log is not removed at close.
    let reader = h.store();
    let progress = h.refresh_all();
    assert!(matches!(progress.last(), Some(Progress::Finished(s)) if s.ok == 40));
    let wal = std::fs::metadata(h.db.with_extension("db-wal")).map_or(0, |m| m.len());
    assert_eq!(
        wal, 0,
        "the log is checkpointed and truncated at the end of the run"
    );
    assert_eq!(reader.feed_list().unwrap().len(), 40);
}

#[test]
fn a_feed_whose_host_cannot_be_reached_waits_longer_each_time_before_the_timer_asks_again() {
    let h = Harness::new();
    // A port nothing listens on: every connection is refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let feed = h.subscribe(&format!("http://{closed}/feed.xml"));
    let interval = h.config.refresh.interval_minutes as i64 * 60;
    let mut waits = Vec::new();
    for _ in 0..3 {
        h.refresh_all();
        let now = h.clock.now_secs();
        let target = h.store().fetch_targets(Some(&[feed])).unwrap().remove(0);
        waits.push(target.next_fetch_at.unwrap() - now);
    }
    assert_eq!(h.last_record(feed).error_kind, Some(ErrorKind::Connect));
    assert_eq!(waits, [interval, 2 * interval, 4 * interval]);
}

#[test]
fn killing_a_refresh_midway_leaves_each_feed_as_before_or_fully_updated() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tidings.db");
    {
        let mut store = Store::open(&db).unwrap();
        for i in 0..12 {
            let url = format!("{}?n={i}", server.url("/slow.xml"));
            store
                .add_feed(&NewSubscription {
                    url,
                    ..Default::default()
                })
                .unwrap();
        }
    }
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tidings"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["refresh", "--quiet"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it as soon as the first feed is saved: 2 at a time, 300 ms each, the rest is pending.
    let reader = Store::open(&db).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while reader
        .feed_list()
        .unwrap()
        .iter()
        .all(|r| r.last_fetch.is_none())
    {
        assert!(std::time::Instant::now() < deadline, "no feed was saved");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let store = Store::open(&db).unwrap();
    let rows = store.feed_list().unwrap();
    let done = rows.iter().filter(|r| r.last_fetch.is_some()).count();
    assert!(
        (1..12).contains(&done),
        "{done} of 12 feeds were saved before the kill"
    );
    for row in &rows {
        let saved = row.last_fetch.is_some();
        assert_eq!(
            row.total > 0,
            saved,
            "articles and fetch record land together: {row:?}"
        );
        assert_eq!(
            row.feed.title.is_some(),
            saved,
            "the feed's title lands with them: {row:?}"
        );
        if saved {
            assert_eq!(row.total, 2);
        }
    }
}

/// Whether a run fetched nothing because its one feed rests.
fn all_rest(progress: &[Progress]) -> bool {
    matches!(
        progress.first(),
        Some(Progress::Started {
            total: 0,
            resting: Some((1, _)),
            ..
        })
    )
}

fn started(progress: &[Progress]) -> (usize, usize) {
    match progress.first() {
        Some(Progress::Started { total, skipped, .. }) => (*total, *skipped),
        other => panic!("a run starts with Started, not {other:?}"),
    }
}

#[test]
fn a_rate_limited_feed_is_asked_again_once_its_retry_after_has_passed() {
    let server = TestServer::start();
    let h = Harness::new();
    h.subscribe(&server.url("/busy.xml"));
    h.refresh_all();
    // The server said Retry-After: 3600.
    h.clock.advance(Duration::from_secs(3599));
    assert_eq!(started(&h.refresh_all()), (0, 1), "one second early");
    assert_eq!(server.requests_for("/busy.xml").len(), 1);
    h.clock.advance(Duration::from_secs(2));
    assert_eq!(started(&h.refresh_all()), (1, 0), "one second late");
    assert_eq!(server.requests_for("/busy.xml").len(), 2);
}

#[test]
fn the_periodic_refresh_waits_for_the_interval_or_the_feeds_longer_ttl() {
    let server = TestServer::start();
    let mut h = Harness::new();
    h.subscribe(&server.url("/etag.xml"));
    // The feed's <ttl> is 5 minutes: with a 1-minute interval, the TTL rules.
    h.config.refresh.interval_minutes = 1;
    h.run(Command::RefreshDue);
    h.clock.advance(Duration::from_secs(299));
    assert_eq!(started(&h.run(Command::RefreshDue)), (0, 1));
    h.clock.advance(Duration::from_secs(1));
    assert_eq!(started(&h.run(Command::RefreshDue)), (1, 0));
    // With a 60-minute interval, the interval rules.
    h.config.refresh.interval_minutes = 60;
    // (Forced: the feed rests for its <ttl> after the fetch just made.)
    h.run(Command::RefreshForced(None));
    h.clock.advance(Duration::from_secs(59 * 60));
    assert_eq!(started(&h.run(Command::RefreshDue)), (0, 1));
    h.clock.advance(Duration::from_secs(60));
    assert_eq!(started(&h.run(Command::RefreshDue)), (1, 0));
    assert_eq!(server.requests_for("/etag.xml").len(), 4);
}

/// A feed's own interval: it is fetched on its own time (here 10 minutes,
/// where the config's is an hour), and with the config's periodic refresh
/// off (0), only the feeds that have one of their own are fetched by it.
#[test]
fn a_feeds_own_interval_rules_its_periodic_fetches() {
    let server = TestServer::start();
    let mut h = Harness::new();
    let own = h.subscribe(&server.url("/etag.xml?own"));
    h.subscribe(&server.url("/etag.xml?config"));
    h.store()
        .update_feed_settings(own, |s| s.refresh_minutes = Some(10))
        .unwrap();
    h.run(Command::RefreshDue);
    assert_eq!(server.requests_for("/etag.xml").len(), 2);
    h.clock.advance(Duration::from_secs(10 * 60));
    assert_eq!(started(&h.run(Command::RefreshDue)), (1, 1));
    h.config.refresh.interval_minutes = 0;
    h.clock.advance(Duration::from_secs(2 * 3600));
    assert_eq!(started(&h.run(Command::RefreshDue)), (1, 1));
    assert_eq!(server.requests_for("/etag.xml").len(), 4);
}

#[test]
fn a_subscription_made_in_the_reader_during_a_refresh_joins_it_and_both_land() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use tidings::app::{App, Effect, Msg};

    let server = TestServer::start();
    let mut h = Harness::new();
    h.config.refresh.per_host = 2;
    let slow: Vec<FeedId> = (0..6)
        .map(|i| h.subscribe(&format!("{}?n={i}", server.url("/slow.xml"))))
        .collect();
    let (progress, app) = h.runtime.block_on(async {
        let (commands, mut progress, worker) =
            Refresher::new(h.store(), h.config.clone()).unwrap().spawn();
        commands.send(Command::Refresh(None)).unwrap();
        let mut seen = vec![progress.recv().await.unwrap()];
        assert!(matches!(seen[0], Progress::Started { total: 6, .. }));

        // The reader, while that refresh runs (2 at a time, 300 ms each):
        // `a`, an address, its preview, `y`.
        let mut app = App::new(
            h.store(),
            &h.config,
            chrono::Utc::now().timestamp_millis(),
            ratatui::layout::Rect::new(0, 0, 120, 40),
        )
        .unwrap();
        let fetcher = tidings::fetch::Fetcher::new(&h.config.refresh).unwrap();
        let preview = tidings::subscribe::probe(&fetcher, &server.url("/new-home.xml"))
            .await
            .unwrap();
        app.update(Msg::Probed(Ok(preview)));
        let yes = KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE);
        for effect in app.update(Msg::Key(yes)) {
            if let Effect::Worker(command) = effect {
                commands.send(command).unwrap();
            }
        }
        drop(commands);
        while let Some(p) = progress.recv().await {
            app.update(Msg::Progress(p.clone()));
            seen.push(p);
        }
        worker.await.unwrap();
        (seen, app)
    });

    assert!(
        progress.contains(&Progress::Joined { feeds: 1 }),
        "{progress:?}"
    );
    let runs = progress
        .iter()
        .filter(|p| matches!(p, Progress::Started { .. }))
        .count();
    assert_eq!(runs, 1, "the subscription joined the run: {progress:?}");
    assert!(
        matches!(progress.last(), Some(Progress::Finished(s)) if s.feeds == 7 && s.failed == 0),
        "{progress:?}"
    );
    let rows = h.store().feed_list().unwrap();
    for feed in &slow {
        let row = rows.iter().find(|r| r.feed.id == *feed).unwrap();
        assert_eq!(row.total, 2, "the refresh's feeds land: {row:?}");
    }
    let new = rows
        .iter()
        .find(|r| r.feed.url == server.url("/new-home.xml"))
        .expect("subscribed");
    assert_eq!(new.total, 1, "the subscription's article lands");
    assert_eq!(
        server.requests_for("/new-home.xml").len(),
        1,
        "its answer is saved, not asked for again"
    );
    let notice = app.notice.as_ref().expect("a notice");
    assert!(
        !notice.error && notice.text.contains("Moved Blog: 1 article"),
        "{notice:?}"
    );
}

#[test]
fn a_feed_cut_short_is_saved_with_the_items_before_the_break_and_a_warning() {
    let server = TestServer::start();
    let h = Harness::new();
    let feed = h.subscribe(&server.url("/cut-short.xml"));
    let progress = h.refresh_all();
    assert!(
        matches!(progress.last(), Some(Progress::Finished(s)) if s.ok == 1 && s.failed == 0),
        "a warning is no failure: {progress:?}"
    );
    let record = h.last_record(feed);
    assert_eq!(record.error_kind, None);
    assert_eq!(record.new_articles, 1);
    let warning = record.warning.expect("the record keeps the warning");
    assert!(warning.starts_with("recovered: "), "{warning}");
    assert!(warning.contains("read 1 entry before byte"), "{warning}");
}

/// How many of the two indexes by date the database at `db` has.
fn date_indexes(db: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'index'
         AND name IN ('articles_unread_by_time', 'articles_for_queries')",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

/// Runs `run` while another thread looks at the indexes by date every few
/// milliseconds; returns what `run` returned and the fewest it saw.
fn fewest_date_indexes_during<T>(db: &std::path::Path, run: impl FnOnce() -> T) -> (T, i64) {
    use std::sync::atomic::{AtomicBool, Ordering};
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let watcher = {
        let (db, stop) = (db.to_path_buf(), stop.clone());
        std::thread::spawn(move || {
            let mut fewest = 2;
            while !stop.load(Ordering::Relaxed) {
                fewest = fewest.min(date_indexes(&db));
                std::thread::sleep(Duration::from_millis(2));
            }
            fewest
        })
    };
    let out = run();
    stop.store(true, Ordering::Relaxed);
    (out, watcher.join().unwrap())
}

/// A first refresh of many new feeds (an imported OPML) is stored without
/// the indexes by date, which it builds at its end; a later run of the same
/// feeds keeps them all along; and a run after a bulk run that was killed
/// before its end builds them first.
#[test]
fn a_first_refresh_of_many_new_feeds_builds_its_indexes_by_date_at_the_end() {
    let server = TestServer::start();
    let h = Harness::new();
    for i in 0..8 {
        h.subscribe(&format!("{}?n={i}", server.url("/slow.xml")));
    }
    let bulk = || h.refresher().with_bulk_first_refresh(4);

    let (progress, fewest) =
        fewest_date_indexes_during(&h.db, || h.run_with(bulk(), Command::Refresh(None)));
    assert!(matches!(progress.last(), Some(Progress::Finished(s)) if s.ok == 8));
    assert_eq!(fewest, 0, "stored without the indexes by date");
    assert_eq!(date_indexes(&h.db), 2, "built at the end of the run");
    let rows = h.store().feed_list().unwrap();
    assert!(
        rows.iter().all(|r| r.total == 2 && r.unread == 2),
        "{rows:?}"
    );

    let (progress, fewest) =
        fewest_date_indexes_during(&h.db, || h.run_with(bulk(), Command::RefreshForced(None)));
    assert!(matches!(progress.last(), Some(Progress::Finished(s)) if s.ok == 8));
    assert_eq!(fewest, 2, "feeds fetched before are not a first refresh");

    h.store().drop_date_indexes().unwrap();
    let progress = h.run(Command::RefreshForced(None));
    assert!(matches!(progress.last(), Some(Progress::Finished(_))));
    assert_eq!(
        date_indexes(&h.db),
        2,
        "a killed bulk run's indexes are built"
    );
}
