//! The real `tidings` binary, end to end: each test gets a fresh data dir
//! (`--data-dir`) and its own local HTTP server (`support::TestServer`), runs
//! commands as a user would, and asserts what that user would see: the output,
//! the exit code, and what later commands (list, export, search, stats) report.

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use assert_cmd::Command;
use support::{FEED_V1, TestServer, Tidings};

impl Tidings {
    /// The feeds of the JSON export as (url, tags) pairs.
    fn subscriptions(&self) -> BTreeSet<(String, Vec<String>)> {
        feeds(&self.export_json())
            .iter()
            .map(|f| {
                let tags = f["tags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t.as_str().unwrap().to_string())
                    .collect();
                (f["url"].as_str().unwrap().to_string(), tags)
            })
            .collect()
    }
}

fn feeds(export: &serde_json::Value) -> &Vec<serde_json::Value> {
    export["feeds"]
        .as_array()
        .expect("the export has a feeds array")
}

/// The feed of `url` in a JSON document with a `feeds` array (the export, `stats`).
fn feed_by_url<'a>(export: &'a serde_json::Value, url: &str) -> &'a serde_json::Value {
    feeds(export)
        .iter()
        .find(|f| f["url"] == url)
        .unwrap_or_else(|| panic!("no feed {url} in: {export:#}"))
}

/// The `list` row of the feed whose name or address contains `needle`.
fn list_row<'a>(list: &'a str, needle: &str) -> &'a str {
    list.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no row for {needle} in:\n{list}"))
}

fn summary_line(out: &str) -> &str {
    out.lines()
        .find(|l| l.contains(" feeds · ") || l.contains(" feed · "))
        .unwrap_or_else(|| panic!("no summary line in:\n{out}"))
}

// ---- add ------------------------------------------------------------------------

#[test]
fn adding_a_feed_fetches_it_and_list_shows_its_counts() {
    let server = TestServer::start();
    let t = Tidings::new();
    let url = server.url("/etag.xml");
    let out = t.ok(&["add", &url, "--tag", "news"]);
    assert!(out.contains(&format!("subscribed to {url}")), "{out}");
    assert!(out.contains("Local News: 2 articles"), "{out}");
    assert_eq!(
        server.requests_for("/etag.xml").len(),
        1,
        "the answer that showed the address is a feed is the one saved"
    );

    let list = t.ok(&["list"]);
    let row = list_row(&list, "Local News");
    assert!(row.contains("2/2"), "unread/total should read 2/2: {row}");
    assert!(row.contains("ok (200)") && row.contains("[news]"), "{row}");

    // The same address again: nothing new, and the user is told so.
    let again = t.ok(&["add", &url]);
    assert!(again.contains("already subscribed"), "{again}");
    assert_eq!(feeds(&t.export_json()).len(), 1);
}

#[test]
fn an_address_without_a_scheme_is_tried_over_https_then_http() {
    let server = TestServer::start();
    let t = Tidings::new();
    // This server speaks plain http only, as some small sites still do.
    let url = server.url("/etag.xml");
    let bare = url.strip_prefix("http://").unwrap();
    let out = t.ok(&["add", bare]);
    assert!(out.contains(&format!("subscribed to {url}")), "{out}");
    assert!(out.contains("Local News: 2 articles"), "{out}");
    // Nothing answers at all: both attempts are in the message.
    let run = t.run(&["add", "127.0.0.1:9/feed.xml"]);
    assert!(!run.ok, "{}", run.stdout);
    assert!(
        run.stderr.contains("https://127.0.0.1:9/feed.xml")
            && run.stderr.contains("http://127.0.0.1:9/feed.xml"),
        "{}",
        run.stderr
    );
    assert_eq!(feeds(&t.export_json()).len(), 1);
}

#[test]
fn adding_a_web_page_subscribes_to_the_feed_it_announces() {
    let server = TestServer::start();
    let t = Tidings::new();
    let out = t.ok(&["add", &server.url("/page.html")]);
    let feed = server.url("/etag.xml");
    assert!(out.contains(&format!("found feed {feed}")), "{out}");
    assert!(out.contains(&format!("subscribed to {feed}")), "{out}");
    assert_eq!(server.requests_for("/page.html").len(), 1);
    assert_eq!(server.requests_for("/etag.xml").len(), 1);
    let export = t.export_json();
    assert_eq!(feeds(&export).len(), 1);
    assert_eq!(
        feed_by_url(&export, &feed)["articles"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn a_page_announcing_several_feeds_lists_them_and_adds_none() {
    let server = TestServer::start();
    let t = Tidings::new();
    let run = t.run(&["add", &server.url("/two-feeds.html")]);
    assert!(
        !run.ok,
        "choosing between two feeds must fail:\n{}",
        run.stdout
    );
    for feed in ["/etag.xml", "/new-home.xml"] {
        assert!(
            run.stdout
                .contains(&format!("tidings add {}", server.url(feed))),
            "{}",
            run.stdout
        );
    }
    assert!(run.stderr.contains("none added"), "{}", run.stderr);
    assert!(t.ok(&["list"]).contains("No feeds yet"));

    let none = t.run(&["add", &server.url("/no-feed.html")]);
    assert!(
        !none.ok && none.stderr.contains("announces no feed"),
        "{}",
        none.stderr
    );
}

#[test]
fn adding_an_address_that_fails_subscribes_to_nothing() {
    let server = TestServer::start();
    let t = Tidings::new();
    let run = t.run(&["add", &server.url("/error.xml")]);
    assert!(!run.ok && run.stderr.contains("500"), "{}", run.stderr);
    // A server error is a feed that is down: the way to subscribe anyway.
    assert!(run.stderr.contains("--no-fetch"), "{}", run.stderr);
    let run = t.run(&["add", &server.url("/malformed.xml")]);
    assert!(
        !run.ok && run.stderr.contains("not a readable feed"),
        "{}",
        run.stderr
    );
    assert!(feeds(&t.export_json()).is_empty());
}

#[test]
fn a_local_file_can_be_added_by_path_or_file_url() {
    let files = tempfile::tempdir().unwrap();
    let path = files.path().join("local.xml");
    std::fs::write(&path, FEED_V1).unwrap();
    let t = Tidings::new();
    let out = t.ok(&["add", path.to_str().unwrap()]);
    assert!(out.contains("subscribed to file:///"), "{out}");
    assert!(out.contains("Local News: 2 articles"), "{out}");
    assert!(list_row(&t.ok(&["list"]), "Local News").contains("2/2"));

    // The same file by its file:// address is the same subscription.
    let url = url::Url::from_file_path(path.canonicalize().unwrap())
        .unwrap()
        .to_string();
    assert!(t.ok(&["add", &url]).contains("already subscribed"));

    // A refresh reads the file again: nothing new.
    let refresh = t.ok(&["refresh", "--force"]);
    assert!(
        summary_line(&refresh)
            .starts_with("1 feed · 1 ok (0 not modified) · 0 failed · 0 new articles"),
        "{refresh}"
    );
}

#[test]
fn the_seed_blog_adds_with_its_six_articles() {
    let server = TestServer::start();
    let Some(dir) = support::seed_blog(
        &server.url("/files"),
        "the_seed_blog_adds_with_its_six_articles",
    ) else {
        return;
    };
    server.serve_dir(dir.path());
    let t = Tidings::new();
    let out = t.ok(&["add", &server.url("/files/aws-opensource.xml")]);
    assert!(out.contains(": 6 articles"), "{out}");
    let export = t.export_json();
    let feed = feed_by_url(&export, &server.url("/files/aws-opensource.xml"));
    let articles = feed["articles"].as_array().unwrap();
    assert_eq!(articles.len(), 6);
    assert!(
        articles
            .iter()
            .all(|a| a["title"].is_string() && a["link"].is_string()),
        "{articles:#?}"
    );

    // Its images come with a refresh; the one the blog lost says why.
    t.ok(&["refresh", "--force", "--quiet"]);
    let text = t.ok(&["images", "stats"]);
    assert!(text.contains("failures by reason: HTTP 404: 1"), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(&t.ok(&["images", "stats", "--format", "json"])).unwrap();
    assert_eq!(json["failures_by_reason"]["HTTP 404"], 1, "{json:#}");
    assert_eq!(json["failed"], 1, "{json:#}");
    let stats: serde_json::Value =
        serde_json::from_str(&t.ok(&["stats", "--format", "json"])).unwrap();
    assert_eq!(
        stats["image_failures_by_reason"]["HTTP 404"], 1,
        "{stats:#}"
    );
}

#[test]
fn an_articles_cover_image_is_stored_and_exported() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("videos.xml"),
        r#"<feed xmlns="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/">
  <title>Channel</title>
  <entry><id>yt:video:1</id><title>Video</title><link rel="alternate" href="http://example.test/watch?v=1"/>
    <updated>2024-03-01T10:00:00Z</updated>
    <media:group><media:title>Video</media:title>
      <media:thumbnail url="http://example.test/vi/1/hqdefault.jpg" width="480" height="360"/>
      <media:description>What the video is about</media:description></media:group></entry>
</feed>"#,
    )
    .unwrap();
    server.serve_dir(dir.path());
    let t = Tidings::new();
    t.ok(&["add", &server.url("/files/videos.xml")]);
    let export = t.export_json();
    let article = &feed_by_url(&export, &server.url("/files/videos.xml"))["articles"][0];
    assert_eq!(
        article["image"], "http://example.test/vi/1/hqdefault.jpg",
        "{article:#?}"
    );
    assert_eq!(
        article["summary"], "What the video is about",
        "{article:#?}"
    );
}

// ---- refresh and stats ------------------------------------------------------------

#[test]
fn a_refresh_says_when_images_start_and_which_host_it_left_for_later() {
    let server = TestServer::start();
    let site = tempfile::tempdir().unwrap();
    // Twelve images on the feed's own host, which answers feeds but hangs on images.
    let body: String = (0..12)
        .map(|n| format!("&lt;img src=\"{}?{n}\"&gt;", server.url("/img/hang.png")))
        .collect();
    std::fs::write(
        site.path().join("pictures.xml"),
        format!(
            "<rss version=\"2.0\"><channel><title>Pictures</title><item><title>Many</title>\
             <guid>many</guid><description>{body}</description></item></channel></rss>"
        ),
    )
    .unwrap();
    server.serve_dir(site.path());
    let t = Tidings::with_short_timeouts();
    t.ok(&["add", "--no-fetch", &server.url("/files/pictures.xml")]);
    let out = t.ok(&["refresh", "--force"]);
    assert!(
        out.contains("articles stored; downloading images: 0 of 12 done"),
        "{out}"
    );
    let host = server.base.trim_start_matches("http://");
    assert!(
        out.contains(&format!(
            "{host} does not answer: its other feeds and images wait for a later run"
        )),
        "{out}"
    );
    assert!(out.contains("12 failed (10 of them deferred)"), "{out}");
    assert!(
        out.contains(&format!(
            "deferred: host unreachable: {host} (0 feeds and 10 images wait for a later run)"
        )),
        "{out}"
    );
    let stats = t.ok(&["images", "stats"]);
    assert!(stats.contains("deferred: host unreachable: 10"), "{stats}");
    assert!(stats.contains("timeout: 2"), "{stats}");
}

#[test]
fn a_refresh_while_another_runs_says_so_and_fetches_nothing_or_waits_for_it() {
    use std::io::{BufRead, Write};
    let server = TestServer::start();
    let t = Tidings::new();
    let url = server.url("/etag.xml");
    t.ok(&["add", &url]);
    let fetched = || server.requests_for("/etag.xml").len();
    let before = fetched();
    // Another refresh holds the lock, as a cron run would.
    let mut lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(t.path().join("tidings.refresh.lock"))
        .unwrap();
    lock.lock().unwrap();
    lock.write_all(b"4242").unwrap();
    let run = t.run(&["refresh", "--force"]);
    assert!(!run.ok, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("another tidings refresh is running (process 4242); nothing was fetched"),
        "{}",
        run.stderr
    );
    assert_eq!(fetched(), before, "nothing is fetched");

    // With --wait it says so, waits for the other to end, then refreshes.
    let mut child = t.spawn(&["refresh", "--force", "--wait"]);
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.contains("waiting for it to end"), "{line}");
    assert_eq!(fetched(), before, "nothing is fetched while it waits");
    drop(lock);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(fetched(), before + 1);
}

#[test]
fn refresh_reports_each_feed_and_a_summary_and_survives_failures() {
    let server = TestServer::start();
    let t = Tidings::with_short_timeouts();
    let [good, moved, error, gone, busy, hang] = [
        "/etag.xml",
        "/moved.xml",
        "/error.xml",
        "/gone.xml",
        "/busy.xml",
        "/hang.xml",
    ]
    .map(|p| server.url(p));
    for url in [&good, &moved, &error, &gone, &busy, &hang] {
        t.ok(&["add", url, "--no-fetch"]);
    }

    let first = t.run(&["refresh", "--force"]);
    assert!(
        first.ok,
        "a refresh with failing feeds still exits 0:\n{}\n{}",
        first.stdout, first.stderr
    );
    let out = &first.stdout;
    assert!(
        out.contains(&format!("  ok {good}: 2 new, 2 articles")),
        "{out}"
    );
    assert!(
        out.contains(&format!("  ok {moved}: 1 new, 1 articles")),
        "{out}"
    );
    for url in [&error, &gone, &busy, &hang] {
        assert!(
            out.contains(&format!("FAIL {url}: ")),
            "{url} should be reported as failed:\n{out}"
        );
    }
    assert!(list_row(out, &error).contains("500"), "{out}");
    assert!(list_row(out, &busy).contains("429"), "{out}");
    assert!(
        summary_line(out)
            .starts_with("6 feeds · 2 ok (0 not modified) · 4 failed · 3 new articles · "),
        "{out}"
    );

    let second = t.run(&["refresh", "--force"]);
    assert!(second.ok, "{}\n{}", second.stdout, second.stderr);
    let out = &second.stdout;
    assert!(
        out.contains("2 feeds skipped"),
        "the gone feed and the busy one are left alone:\n{out}"
    );
    assert!(out.contains("  ok Local News: not modified"), "{out}");
    assert!(out.contains("  ok Moved Blog: 0 new, 1 articles"), "{out}");
    assert!(
        summary_line(out)
            .starts_with("4 feeds · 2 ok (1 not modified) · 2 failed · 0 new articles · "),
        "{out}"
    );
    // What the servers saw: the validator sent back, the permanent redirect
    // followed for good, and no second request to a 410 or a 429.
    let requests = server.requests_for("/etag.xml");
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[1].headers.get("if-none-match").map(String::as_str),
        Some("\"v1\"")
    );
    assert_eq!(
        server.requests_for("/moved.xml").len(),
        1,
        "a 301 moves the feed"
    );
    assert_eq!(server.requests_for("/new-home.xml").len(), 2);
    assert_eq!(
        server.requests_for("/gone.xml").len(),
        1,
        "a 410 is not fetched again"
    );
    assert_eq!(
        server.requests_for("/busy.xml").len(),
        1,
        "Retry-After: 3600 is respected"
    );

    let list = t.ok(&["list"]);
    assert!(list_row(&list, "Local News").contains("ok (304)"), "{list}");
    assert!(list_row(&list, &gone).contains("gone (410)"), "{list}");
    assert!(list_row(&list, &error).contains("http (500)"), "{list}");
    assert!(list_row(&list, &hang).contains("timeout"), "{list}");
    // The subscription keeps the address the user gave.
    assert!(
        feeds(&t.export_json())
            .iter()
            .any(|f| f["url"] == moved.as_str())
    );

    // --quiet: failures and the summary only.
    let quiet = t.ok(&["refresh", "--force", "-q"]);
    assert!(!quiet.contains("  ok "), "{quiet}");
    assert!(quiet.contains(&format!("FAIL {error}")), "{quiet}");
    summary_line(&quiet);

    // Named feeds: only those are fetched.
    let named = t.ok(&["refresh", "--force", "Local News"]);
    assert!(
        summary_line(&named).starts_with("1 feed · 1 ok (1 not modified)"),
        "{named}"
    );
}

#[test]
fn stats_tell_failure_streaks_and_not_modified_shares_in_text_and_json() {
    let server = TestServer::start();
    let t = Tidings::new();
    assert!(t.ok(&["stats"]).contains("No refresh has run yet"));
    let [good, error, gone] = ["/etag.xml", "/error.xml", "/gone.xml"].map(|p| server.url(p));
    for url in [&good, &error, &gone] {
        t.ok(&["add", url, "--no-fetch"]);
    }
    t.ok(&["refresh", "--force"]);
    t.ok(&["refresh", "--force"]);

    let text = t.ok(&["stats"]);
    assert!(
        text.contains("Last refresh")
            && text.contains("2 feeds · 1 ok (1 not modified) · 1 failed"),
        "{text}"
    );
    // The per-feed table comes after its header line.
    let table = text
        .split_once("LAST ERROR")
        .map(|(_, rows)| rows)
        .unwrap_or_else(|| panic!("no table:\n{text}"));
    assert!(list_row(table, "gone.xml").contains("gone (410)"), "{text}");
    assert!(
        list_row(table, "Local News").contains("50%"),
        "one 304 in two successful fetches:\n{text}"
    );
    assert!(list_row(table, "error.xml").contains("HTTP 500"), "{text}");

    let json: serde_json::Value =
        serde_json::from_str(&t.ok(&["stats", "--format", "json"])).unwrap();
    let stat = |url: &str| feed_by_url(&json, url);
    assert_eq!(stat(&good)["failure_streak"], 0);
    assert_eq!(stat(&good)["fetches"], 2);
    assert_eq!(stat(&good)["not_modified_share"].as_f64(), Some(0.5));
    assert_eq!(stat(&good)["title"], "Local News");
    assert_eq!(stat(&error)["failure_streak"], 2);
    assert!(
        stat(&error)["not_modified_share"].is_null(),
        "no successful fetch: no share"
    );
    assert!(
        stat(&error)["last_error"].as_str().unwrap().contains("500"),
        "{json:#}"
    );
    assert_eq!(stat(&gone)["gone"], true);
    assert_eq!(
        stat(&gone)["failure_streak"],
        1,
        "a gone feed is not fetched again"
    );
    let run = &json["last_run"];
    assert_eq!(
        (
            run["feeds"].as_u64(),
            run["ok"].as_u64(),
            run["failed"].as_u64()
        ),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(run["not_modified"], 1);
    let started = run["started_at"].as_str().unwrap();
    chrono::DateTime::parse_from_rfc3339(started).unwrap_or_else(|e| panic!("{started}: {e}"));
}

#[test]
fn stats_show_the_warning_of_a_feed_read_cut_short_in_text_and_json() {
    let server = TestServer::start();
    let t = Tidings::new();
    let [good, cut] = ["/etag.xml", "/cut-short.xml"].map(|p| server.url(p));
    for url in [&good, &cut] {
        t.ok(&["add", url, "--no-fetch"]);
    }
    let refresh = t.ok(&["refresh", "--force"]);
    assert!(
        summary_line(&refresh).starts_with("2 feeds · 2 ok (0 not modified) · 0 failed"),
        "a warning is no failure:\n{refresh}"
    );

    let text = t.ok(&["stats"]);
    let (summary, rest) = text
        .split_once("LAST ERROR")
        .unwrap_or_else(|| panic!("no table:\n{text}"));
    assert!(
        summary.contains("1 feed had a warning at its last fetch (listed below)"),
        "{text}"
    );
    let (table, warnings) = rest
        .split_once("LAST WARNING")
        .unwrap_or_else(|| panic!("no warnings section:\n{text}"));
    assert!(
        !table.contains("recovered"),
        "a warning is not a last error:\n{text}"
    );
    let listed = list_row(warnings, "recovered: ");
    assert!(
        listed.contains("Local News") && listed.contains("read 1 entry before byte"),
        "{text}"
    );
    assert_eq!(
        warnings.lines().filter(|l| !l.trim().is_empty()).count(),
        1,
        "only the feed read with a warning:\n{text}"
    );

    let json: serde_json::Value =
        serde_json::from_str(&t.ok(&["stats", "--format", "json"])).unwrap();
    assert_eq!(json["feeds_with_warning"], 1, "{json:#}");
    let stat = |url: &str| feed_by_url(&json, url);
    let warning = stat(&cut)["last_warning"]
        .as_str()
        .unwrap_or_else(|| panic!("no last_warning: {json:#}"))
        .to_string();
    assert!(
        warning.starts_with("recovered: ") && warning.contains("read 1 entry before byte"),
        "{warning}"
    );
    assert!(stat(&cut)["last_error"].is_null(), "{json:#}");
    assert_eq!(stat(&cut)["failure_streak"], 0);
    assert!(stat(&good)["last_warning"].is_null(), "{json:#}");
}

// ---- search, export, import ----------------------------------------------------------

#[test]
fn search_finds_a_word_from_an_article_body() {
    let server = TestServer::start();
    let t = Tidings::new();
    t.ok(&["add", &server.url("/etag.xml")]);
    let out = t.ok(&["search", "zeppelins"]);
    assert!(out.contains("Local News — First story"), "{out}");
    assert!(out.contains("http://local.test/1"), "{out}");
    assert!(out.contains("2023-01-02"), "{out}");
    assert!(!out.contains("Second story"), "{out}");
    // Words are ANDed, and FTS syntax in a query is searched for, not obeyed.
    assert!(
        t.ok(&["search", "zeppelins", "second"])
            .contains("nothing found")
    );
    let odd = t.run(&["search", "\"zeppelins", "OR", "NEAR("]);
    assert!(odd.ok, "{}", odd.stderr);
}

#[test]
fn search_takes_prefixes_and_queries_and_filter_test_shows_what_a_query_catches() {
    let server = TestServer::start();
    let t = Tidings::new();
    t.ok(&["add", &server.url("/etag.xml")]);
    let out = t.ok(&["search", "zeppel*"]);
    assert!(out.contains("First story"), "{out}");
    let out = t.ok(&["search", "title =~ 'second|first' and feed = 'local news'"]);
    assert!(
        out.contains("First story") && out.contains("Second story"),
        "{out}"
    );

    let out = t.ok(&[
        "filter",
        "test",
        "title contains story and not title =~ '^first'",
    ]);
    assert!(
        out.starts_with("1 of 2 articles match, 1 of them unread"),
        "{out}"
    );
    assert!(
        out.contains("Second story") && !out.contains("First story"),
        "{out}"
    );
    let every = t.ok(&["filter", "test", "feed = 'Local News'"]);
    assert!(every.contains("(every article in the cache)"), "{every}");

    // A wrong query fails, and says where.
    let wrong = t.run(&["filter", "test", "title =~ 'x' and"]);
    assert!(!wrong.ok);
    assert!(
        wrong
            .stderr
            .contains("column 17: expected a field, `not` or `(` at the end"),
        "{}",
        wrong.stderr
    );
    assert!(
        wrong
            .stderr
            .contains("  title =~ 'x' and\n                  ^"),
        "{}",
        wrong.stderr
    );
}

#[test]
fn a_saved_filter_hides_what_arrives_and_one_hiding_everything_asks_first() {
    let server = TestServer::start();
    let t = Tidings::new();
    // Tested on the (empty) cache, then saved.
    let saved = t.ok(&["filter", "add", "--action", "hide", "title =~ '^first'"]);
    assert!(saved.contains("saved filter 1: it hides"), "{saved}");
    t.ok(&["add", &server.url("/etag.xml")]);
    let list = t.ok(&["list"]);
    assert!(list.contains("1/1"), "one article kept, unread:\n{list}");
    assert!(t.ok(&["search", "zeppelins"]).contains("nothing found"));
    // A rule that would hide every article is not saved without a yes.
    let all = t.run(&["filter", "add", "--action", "hide", "feed = 'Local News'"]);
    assert!(!all.ok);
    assert!(
        all.stderr.contains("would hide every article"),
        "{}",
        all.stderr
    );
    assert!(
        t.ok(&[
            "filter",
            "add",
            "--action",
            "tag",
            "--tag",
            "later",
            "title contains second"
        ])
        .contains("saved filter 2")
    );
    let filters = t.ok(&["filter", "list"]);
    assert!(filters.contains("hide  title =~ '^first'"), "{filters}");
    assert!(
        filters.contains("tag \"later\"  title contains second"),
        "{filters}"
    );
    t.ok(&["filter", "remove", "1"]);
    assert!(!t.ok(&["filter", "list"]).contains("'^first'"));
    assert!(!t.run(&["filter", "remove", "1"]).ok);
    // A wrong action says which ones there are.
    let wrong = t.run(&["filter", "add", "--action", "explode", "unread"]);
    assert!(
        wrong.stderr.contains("hide, read, star or tag"),
        "{}",
        wrong.stderr
    );
}

#[test]
fn two_feeds_carrying_the_same_stories_list_and_search_them_once() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    server.serve_dir(dir.path());
    let feed = |name: &str, suffix: &str| {
        let items: String = ["Airships return", "Ports reopen", "Tides turn"]
            .iter()
            .enumerate()
            .map(|(i, title)| {
                format!(
                    "<item><title>{title}</title><guid>{name}-{i}</guid>\
                     <link>https://news.example/story/{i}{suffix}</link>\
                     <description>zeppelins over the harbour</description></item>"
                )
            })
            .collect();
        std::fs::write(
            dir.path().join(format!("{name}.xml")),
            format!("<rss version=\"2.0\"><channel><title>{name}</title>{items}</channel></rss>"),
        )
        .unwrap();
    };
    feed("wire", "");
    feed("mirror", "?utm_source=mirror");
    feed("reposts", "/");
    let t = Tidings::new();
    t.ok(&["add", &server.url("/files/wire.xml")]);
    t.ok(&["add", &server.url("/files/mirror.xml")]);
    t.ok(&["add", "--no-dedup", &server.url("/files/reposts.xml")]);
    // Search: each story once from the two merged feeds, and the reposts apart.
    let found = t.ok(&["search", "zeppelins"]);
    assert_eq!(found.matches("Airships return").count(), 2, "{found}");
    assert_eq!(found.matches("— ").count(), 6, "{found}");
    let list = t.ok(&["list"]);
    // Each feed still lists its own three.
    assert_eq!(list.matches("3/3").count(), 3, "{list}");
}

#[test]
fn export_json_holds_every_article_with_rfc3339_dates() {
    let server = TestServer::start();
    let t = Tidings::new();
    let url = server.url("/etag.xml");
    t.ok(&[
        "add", &url, "--tag", "news", "--tag", "daily", "--title", "My News",
    ]);

    let export = t.export_json();
    let feed = feed_by_url(&export, &url);
    assert_eq!(feed["title"], "My News");
    assert_eq!(feed["site_url"], "http://local.test/");
    assert_eq!(feed["tags"], serde_json::json!(["news", "daily"]));
    let articles = feed["articles"].as_array().unwrap();
    let by_guid = |g: &str| {
        articles
            .iter()
            .find(|a| a["guid"] == g)
            .unwrap_or_else(|| panic!("{g}: {feed:#}"))
    };
    let first = by_guid("story-1");
    assert_eq!(first["title"], "First story");
    assert_eq!(first["link"], "http://local.test/1");
    assert_eq!(first["published"], "2023-01-02T10:00:00Z");
    assert!(first["summary"].as_str().unwrap().contains("zeppelins"));
    assert_eq!(
        (first["read"].as_bool(), first["starred"].as_bool()),
        (Some(false), Some(false))
    );
    assert!(first["categories"].is_array() && first["enclosures"].is_array());
    for a in articles {
        let published = a["published"].as_str().unwrap();
        chrono::DateTime::parse_from_rfc3339(published)
            .unwrap_or_else(|e| panic!("{published}: {e}"));
    }
    assert_eq!(by_guid("story-2")["published"], "2023-01-03T10:00:00Z");

    // -o writes the same document to a file.
    let file = t.path().join("backup.json");
    t.ok(&["export", "--format", "json", "-o", file.to_str().unwrap()]);
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(saved, export);
}

#[test]
fn opml_export_imports_into_a_new_data_dir_with_the_same_feeds_and_tags() {
    let Some(shared) = support::shared_dir() else {
        support::skip(
            "opml_export_imports_into_a_new_data_dir_with_the_same_feeds_and_tags",
            "../shared/corpora/newsboat is not in this checkout",
        );
        return;
    };
    let data = shared.join("corpora/newsboat/test/data");
    let mut inputs: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "opml"))
        .collect();
    inputs.sort();
    inputs.push(data.join("test-urls.txt"));

    let first = Tidings::new();
    for input in &inputs {
        let text = std::fs::read_to_string(input).unwrap();
        let run = first.run(&["import", input.to_str().unwrap()]);
        let name = input.file_name().unwrap().to_str().unwrap();
        // A document with an <opml> root and at least one feed must import; the
        // others (no <body>, a wrong root) must fail and say which file.
        if text.contains("xmlUrl") && text.contains("<opml") || name.ends_with(".txt") {
            assert!(
                run.ok && run.stdout.contains("imported "),
                "{name}:\n{}\n{}",
                run.stdout,
                run.stderr
            );
        } else {
            assert!(
                !run.ok && run.stderr.contains(name),
                "{name} should fail and be named:\n{}",
                run.stderr
            );
        }
    }
    let subscribed = first.subscriptions();
    assert!(subscribed.len() >= 10, "{subscribed:#?}");
    assert!(
        subscribed
            .iter()
            .all(|(url, _)| url.starts_with("http://") || url.starts_with("https://")),
        "a piped command or a local file was subscribed: {subscribed:#?}"
    );
    let tags_of = |url: &str| {
        subscribed
            .iter()
            .find(|(u, _)| u == url)
            .map(|(_, t)| t.clone())
    };
    assert_eq!(
        tags_of("http://test1.url.cc/feed.xml"),
        Some(vec!["tag1".into(), "tag2".into()])
    );
    assert_eq!(
        tags_of("https://blogs.example.com/~mike/.rss"),
        Some(vec!["Blogs".into(), "friends".into()])
    );

    let opml = first.path().join("out.opml");
    first.ok(&["export", "-o", opml.to_str().unwrap()]);
    let second = Tidings::new();
    let out = second.ok(&["import", opml.to_str().unwrap()]);
    assert!(
        out.contains(&format!("imported {} feeds", subscribed.len())),
        "{out}"
    );
    assert_eq!(second.subscriptions(), subscribed);
}

#[test]
fn importing_the_same_list_twice_adds_nothing_the_second_time() {
    let t = Tidings::new();
    let urls = t.path().join("urls");
    std::fs::write(
        &urls,
        "http://a.test/feed.xml tech \"~A title\"\nhttps://b.test/rss\n# a comment\nhttp://c.test/atom news\n\"exec:curl http://x.test | sed s/a/b/\"\nfile:///etc/passwd\n",
    )
    .unwrap();
    let run = t.run(&["import", urls.to_str().unwrap()]);
    assert!(run.ok, "{}", run.stderr);
    assert!(
        run.stdout.contains("imported 3 feeds") && run.stdout.contains("2 skipped"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("exec:") && run.stderr.contains("file:///etc/passwd"),
        "{}",
        run.stderr
    );
    let before = t.subscriptions();
    assert_eq!(before.len(), 3);

    let again = t.ok(&["import", urls.to_str().unwrap()]);
    assert!(
        again.contains("imported 0 feeds") && again.contains("3 already subscribed"),
        "{again}"
    );
    assert_eq!(t.subscriptions(), before);
    assert!(list_row(&t.ok(&["list"]), "A title").contains("never"));
}

// ---- remove, data dir ---------------------------------------------------------------

#[test]
fn remove_unsubscribes_and_takes_the_articles_along() {
    let server = TestServer::start();
    let t = Tidings::new();
    t.ok(&["add", &server.url("/etag.xml")]);
    t.ok(&["add", &server.url("/new-home.xml")]);
    assert!(t.ok(&["search", "zeppelins"]).contains("First story"));

    let out = t.ok(&["remove", "Local News"]);
    assert!(
        out.contains("removed Local News") && out.contains(&server.url("/etag.xml")),
        "{out}"
    );
    let list = t.ok(&["list"]);
    assert!(
        !list.contains("Local News") && list.contains("Moved Blog"),
        "{list}"
    );
    assert!(
        t.ok(&["search", "zeppelins"]).contains("nothing found"),
        "search still finds a removed feed"
    );
    assert_eq!(feeds(&t.export_json()).len(), 1);

    let missing = t.run(&["remove", "No Such Feed"]);
    assert!(
        !missing.ok && missing.stderr.contains("no feed matches"),
        "{}",
        missing.stderr
    );
    assert!(t.ok(&["list"]).contains("Moved Blog"));
}

#[test]
fn the_data_dir_can_come_from_tidings_data_dir() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let url = server.url("/etag.xml");
    let mut cmd = Command::cargo_bin("tidings").unwrap();
    cmd.env("TIDINGS_DATA_DIR", dir.path())
        .args(["add", &url, "--no-fetch"])
        .assert()
        .success();
    assert!(dir.path().join("tidings.db").is_file());

    let list = Command::cargo_bin("tidings")
        .unwrap()
        .env("TIDINGS_DATA_DIR", dir.path())
        .arg("list")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&list.stdout).contains(&url));
    // The flag and the variable name the same place.
    let t = Tidings { dir };
    assert!(t.ok(&["list"]).contains(&url));
}

// ---- hostile text -----------------------------------------------------------------------

#[test]
fn escape_sequences_in_a_feed_never_reach_the_terminal() {
    let server = TestServer::start();
    let files = tempfile::tempdir().unwrap();
    let evil = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>\
        <title>Evil\u{7} \u{1b}]0;owned\u{7}Feed</title><link>http://evil.test/</link>\
        <item><title>\u{1b}[31mRed alert\u{1b}[0m \u{9b}2J</title><link>http://evil.test/1</link><guid>e1</guid>\
        <author>\u{1b}[5mblinker</author><category>\u{1b}[1mbold</category>\
        <description>Body with \u{1b}[2J a clear-screen and zeppelins</description></item>\
        </channel></rss>";
    std::fs::write(files.path().join("evil.xml"), evil).unwrap();
    server.serve_dir(files.path());
    let url = server.url("/files/evil.xml");

    let t = Tidings::new();
    let mut outputs = vec![("add", t.run(&["add", &url]))];
    for args in [
        &["list"][..],
        &["refresh"],
        &["search", "zeppelins"],
        &["search", "alert"],
        &["stats"],
        &["stats", "--format", "json"],
        &["export"],
        &["export", "--format", "json"],
    ] {
        outputs.push((args[0], t.run(args)));
    }
    for (what, run) in &outputs {
        assert!(run.ok, "{what}: {}", run.stderr);
        for (byte, name) in [(0x1b_u8, "ESC"), (0x07, "BEL")] {
            assert!(
                !run.raw.contains(&byte),
                "`tidings {what}` printed a raw {name}:\n{}",
                run.stdout
            );
        }
        assert!(
            !run.stdout.contains('\u{9b}'),
            "`tidings {what}` printed a raw CSI (U+009B)"
        );
    }
    let search = &outputs
        .iter()
        .find(|(w, _)| *w == "search")
        .unwrap()
        .1
        .stdout;
    assert!(
        search.contains("[31mRed alert[0m"),
        "the title is kept, without its escapes: {search}"
    );
    let export = t.export_json();
    let article = &feeds(&export)[0]["articles"][0];
    for field in ["title", "author", "summary"] {
        let text = article[field].as_str().unwrap();
        assert!(
            !text.chars().any(tidings::text::is_forbidden),
            "{field}: {text:?}"
        );
    }
    assert!(
        !article["categories"][0]
            .as_str()
            .unwrap()
            .contains('\u{1b}')
    );
}

// ---- known bugs, kept as tests ----------------------------------------------------------

/// A mistyped local path is taken for a host name: `cli::subscription_url`
/// turns `/home/me/feeds/x.xml` (missing) into `https:///home/me/feeds/x.xml`,
/// and the user reads a DNS error. Fix: input that starts with `/`, `./`, `../`
/// or `~` is a path; when it does not exist, say so.
#[test]
fn a_missing_local_path_is_reported_as_a_missing_file() {
    let t = Tidings::new();
    let missing = t.path().join("no-such-dir/feed.xml");
    let run = t.run(&["add", missing.to_str().unwrap()]);
    assert!(!run.ok);
    assert!(
        !run.stderr.contains("https://"),
        "a path is not a web address: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("no-such-dir/feed.xml"),
        "{}",
        run.stderr
    );
}

#[test]
fn output_cut_short_by_the_reader_is_not_an_error() {
    let t = Tidings::new();
    let welcome = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/welcome.xml");
    t.ok(&["add", welcome.to_str().unwrap()]);
    for args in [
        &["stats", "--format", "json"][..],
        &["export", "--format", "json"],
        &["list"],
    ] {
        // The reading end is closed before tidings writes: its writes fail with EPIPE.
        let mut child = t.spawn(args);
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "tidings {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "tidings {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn the_reader_without_a_terminal_says_so_instead_of_garbling_a_pipe() {
    let t = Tidings::new();
    let run = t.run(&[]);
    assert!(!run.ok);
    assert!(run.stderr.contains("needs a terminal"), "{}", run.stderr);
    assert!(
        !run.stdout.contains('\u{1b}'),
        "no escape sequences: {:?}",
        run.stdout
    );
}

#[test]
fn images_come_with_add_and_show_in_stats_and_prune_frees_them() {
    let test = "images_come_with_add_and_show_in_stats_and_prune_frees_them";
    let server = TestServer::start();
    let Some(dir) = support::seed_blog(&server.url("/files"), test) else {
        return;
    };
    server.serve_dir(dir.path());
    let t = Tidings::new();
    t.ok(&["add", &server.url("/files/aws-opensource.xml")]);
    let stats = t.ok(&["stats"]);
    assert!(stats.contains("Image cache: 28 images"), "{stats}");
    let images = t.ok(&["images", "stats"]);
    assert!(images.contains("28 cached"), "{images}");
    assert!(images.contains("1 failed"), "{images}");
    let image_files = || support::files_under(&t.path().join("cache/images")).len();
    assert_eq!(image_files(), 28);

    // A refresh finds nothing new to download; stats report the run's images.
    let out = t.ok(&["refresh", "--force"]);
    assert!(!out.contains("images cached"), "{out}");
    // Files no image row names (a refresh killed between writing a file and
    // recording it) go with a prune once they are an hour old; younger ones
    // may be a running refresh's and stay.
    let cache = t.path().join("cache/images");
    let stale = cache.join("zz/left-behind.png");
    std::fs::create_dir_all(stale.parent().unwrap()).unwrap();
    std::fs::write(&stale, b"not recorded").unwrap();
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(two_hours_ago)
        .unwrap();
    let fresh = cache.join("zz/being-written.png");
    std::fs::write(&fresh, b"a refresh is on it").unwrap();
    let swept = t.ok(&["images", "prune"]);
    assert!(swept.contains("removed 0 images"), "{swept}");
    assert!(swept.contains("removed 1 file no image uses"), "{swept}");
    assert!(!stale.exists() && fresh.exists());
    assert_eq!(image_files(), 29, "the 28 cached images and the young file");
    std::fs::remove_file(&fresh).unwrap();

    let pruned = t.ok(&["images", "prune", "--limit-mb", "0"]);
    assert!(pruned.starts_with("removed 28 images"), "{pruned}");
    assert_eq!(image_files(), 0);
    let images = t.ok(&["images", "stats"]);
    assert!(images.contains("28 evicted"), "{images}");
}

/// A filesystem of `megabytes` mounted at a new directory (a tmpfs; needs
/// root), unmounted when dropped. None where mounting is not allowed.
struct SmallDisk {
    path: std::path::PathBuf,
}

impl SmallDisk {
    fn mount(parent: &Path, megabytes: u32) -> Option<SmallDisk> {
        let path = parent.join("small-disk");
        std::fs::create_dir_all(&path).unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(&path)
            .output()
            .is_ok_and(|o| o.status.success());
        mounted.then_some(SmallDisk { path })
    }

    fn grow(&self, megabytes: u32) {
        let grown = std::process::Command::new("mount")
            .args(["-o", &format!("remount,size={megabytes}m"), "tmpfs"])
            .arg(&self.path)
            .status()
            .unwrap();
        assert!(grown.success());
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.path)
            .status();
    }
}

#[test]
fn a_disk_that_fills_during_a_refresh_gives_a_clear_error_and_loses_nothing() {
    let test = "a_disk_that_fills_during_a_refresh_gives_a_clear_error_and_loses_nothing";
    let t = Tidings::new();
    let Some(disk) = SmallDisk::mount(t.path(), 4) else {
        support::skip(test, "cannot mount a small tmpfs here (needs root)");
        return;
    };
    let server = TestServer::start();
    let site = tempfile::tempdir().unwrap();
    // 40 feeds of 20 articles of ~10 KB of distinct words each: ~8 MB of text
    // and its index, twice what the disk holds.
    for f in 0..40 {
        let items: String = (0..20)
            .map(|i| {
                let words: String = (0..1500).map(|w| format!("w{f}x{i}y{w} ")).collect();
                format!("<item><guid>{f}-{i}</guid><title>Item {f}.{i}</title><description>{words}</description></item>")
            })
            .collect();
        std::fs::write(
            site.path().join(format!("f{f}.xml")),
            format!("<rss version=\"2.0\"><channel><title>Feed {f}</title>{items}</channel></rss>"),
        )
        .unwrap();
    }
    server.serve_dir(site.path());
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tidings"))
            .arg("--data-dir")
            .arg(&disk.path)
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    for f in 0..40 {
        let (ok, said) = run(&[
            "add",
            "--no-fetch",
            &server.url(&format!("/files/f{f}.xml")),
        ]);
        assert!(ok, "{said}");
    }
    let (ok, said) = run(&["refresh", "--quiet"]);
    assert!(
        !ok,
        "a refresh that could not store everything fails: {said}"
    );
    assert!(said.contains("the disk is full"), "{said}");
    assert!(!said.contains("panicked"), "{said}");

    // The database is intact and usable: what was stored is there, whole.
    let db = rusqlite::Connection::open(disk.path.join("tidings.db")).unwrap();
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let per_feed: Vec<i64> = db
        .prepare("SELECT count(a.id) FROM feeds f LEFT JOIN articles a ON a.feed_id = f.id GROUP BY f.id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(per_feed.len(), 40, "every subscription is still there");
    assert!(
        per_feed.iter().all(|n| *n == 0 || *n == 20),
        "each feed is stored whole or not at all: {per_feed:?}"
    );
    let stored = per_feed.iter().filter(|n| **n == 20).count();
    assert!(stored < 40, "the disk filled before the end");
    drop(db);
    let (ok, listed) = run(&["list"]);
    assert!(ok, "{listed}");

    // With space again, the next refresh completes.
    disk.grow(64);
    let (ok, said) = run(&["refresh", "--quiet"]);
    assert!(ok, "{said}");
    let db = rusqlite::Connection::open(disk.path.join("tidings.db")).unwrap();
    let articles: i64 = db
        .query_row("SELECT count(*) FROM articles", [], |r| r.get(0))
        .unwrap();
    assert_eq!(articles, 800);
}

#[test]
fn importing_300_feeds_fits_on_a_6_mb_disk() {
    let test = "importing_300_feeds_fits_on_a_6_mb_disk";
    let t = Tidings::new();
    let Some(disk) = SmallDisk::mount(t.path(), 6) else {
        support::skip(test, "cannot mount a small tmpfs here (needs root)");
        return;
    };
    // A transaction per feed once wrote a 6 MB log and filled this disk at feed 138.
    let urls: String = (0..300)
        .map(|n| format!("http://feeds{}.example.org/feed/{n}.xml\n", n % 40))
        .collect();
    let list = t.path().join("urls");
    std::fs::write(&list, urls).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tidings"))
        .arg("--data-dir")
        .arg(&disk.path)
        .arg("import")
        .arg(&list)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let db = rusqlite::Connection::open(disk.path.join("tidings.db")).unwrap();
    let feeds: i64 = db
        .query_row("SELECT count(*) FROM feeds", [], |r| r.get(0))
        .unwrap();
    assert_eq!(feeds, 300);
}

#[test]
fn feeds_that_ask_to_rest_are_left_alone_until_then_unless_forced() {
    let server = TestServer::start();
    let files = tempfile::tempdir().unwrap();
    let feed = |title: &str, extra: &str| {
        format!(
            r#"<?xml version="1.0"?><rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">
<channel><title>{title}</title><link>https://rest.example/</link><description>d</description>{extra}
<item><title>One</title><guid>1</guid></item></channel></rss>"#
        )
    };
    std::fs::write(
        files.path().join("ttl.rss"),
        feed("With a TTL", "<ttl>60</ttl>"),
    )
    .unwrap();
    std::fs::write(
        files.path().join("sy.rss"),
        feed(
            "Updated daily",
            "<sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>",
        ),
    )
    .unwrap();
    server.serve_dir(files.path());
    let t = Tidings::new();
    t.ok(&["add", &server.url("/files/ttl.rss")]);
    t.ok(&["add", &server.url("/files/sy.rss")]);
    let asked =
        || server.requests_for("/files/ttl.rss").len() + server.requests_for("/files/sy.rss").len();
    let before = asked();

    // Both asked to rest (an hour; half a day): a refresh fetches nothing and says so.
    let out = t.ok(&["refresh"]);
    assert!(
        out.contains("nothing fetched: all 2 feeds are resting as their servers asked"),
        "{out}"
    );
    // The TTL's hour is the first to end (the other rests twelve hours).
    assert!(
        (out.contains("the next is due in 60 min") || out.contains("the next is due in 1 h"))
            && out.contains("--force"),
        "{out}"
    );
    assert_eq!(asked(), before, "nothing was asked of the server");

    // --force fetches them anyway.
    let out = t.ok(&["refresh", "--force"]);
    assert!(out.contains("2 feeds · 2 ok"), "{out}");
    assert_eq!(asked(), before + 2);

    // A feed set not to honour its wishes is fetched; the other still rests.
    t.ok(&["settings", "With a TTL", "honour_ttl=off"]);
    let out = t.ok(&["refresh"]);
    assert!(out.contains("1 feed · 1 ok"), "{out}");
    assert_eq!(server.requests_for("/files/ttl.rss").len(), 3);
    assert_eq!(server.requests_for("/files/sy.rss").len(), 2);
}

#[test]
fn a_feeds_settings_are_shown_changed_and_refused_on_the_command_line() {
    let server = TestServer::start();
    let t = Tidings::new();
    t.ok(&["add", &server.url("/etag.xml")]);
    let shown = t.ok(&["settings", "1"]);
    for line in [
        "refresh        default (1 h)",
        "images         default (on)",
        "keep_articles  default (all)",
        "dedup          on",
        "proxy          default (none, or the environment's)",
    ] {
        assert!(shown.contains(line), "{line:?} in:\n{shown}");
    }
    let changed = t.ok(&[
        "settings",
        "1",
        "refresh=2h",
        "images=off",
        "keep_days=30",
        "proxy=direct",
    ]);
    for line in [
        "refresh        2 h",
        "images         off",
        "keep_days      30 days",
        "proxy          direct",
    ] {
        assert!(changed.contains(line), "{line:?} in:\n{changed}");
    }
    // Its next fetch follows its own interval: two hours, not the config's one.
    t.ok(&["refresh", "--force"]);
    let db = rusqlite::Connection::open(t.database()).unwrap();
    let (next, last): (i64, i64) = db
        .query_row(
            "SELECT next_fetch_at, (SELECT max(started_at_ms) / 1000 FROM fetches) FROM feeds",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(
        (next - last - 7200).abs() <= 5,
        "next fetch in {} s",
        next - last
    );
    // Back to the default; wrong values and names are refused, nothing saved.
    let back = t.ok(&["settings", "1", "images=default"]);
    assert!(back.contains("images         default (on)"), "{back}");
    for (wrong, says) in [
        ("refresh=soon", "minutes, or a number with h or d"),
        ("images=maybe", "images: on, off or default"),
        ("colour=red", "the settings are refresh, images"),
        ("refresh", "write SETTING=VALUE"),
        ("proxy=ftp://x:1", "socks5h://"),
    ] {
        let run = t.run(&["settings", "1", "keep_days=7", wrong]);
        assert!(
            !run.ok && run.stderr.contains(says),
            "{wrong}: {}",
            run.stderr
        );
    }
    assert!(t.ok(&["settings", "1"]).contains("keep_days      30 days"));
}

#[test]
fn completions_and_the_man_page_come_from_the_command_line_itself() {
    let t = Tidings::new();
    let bash = t.ok(&["completions", "bash"]);
    assert!(
        bash.contains("_tidings()") && bash.contains("download"),
        "{bash}"
    );
    let zsh = t.ok(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef tidings"), "{zsh}");
    let fish = t.ok(&["completions", "fish"]);
    assert!(
        fish.contains("complete -c tidings") && fish.contains("refresh"),
        "{fish}"
    );
    let man = t.ok(&["man"]);
    assert!(
        man.contains(".TH tidings 1") && man.contains("download"),
        "{man}"
    );
    // Neither needs a database: none was made.
    assert!(!t.database().exists());
    let unknown = t.run(&["completions", "tcsh"]);
    assert!(
        !unknown.ok && unknown.stderr.contains("possible values"),
        "{}",
        unknown.stderr
    );
}

/// On a terminal, `tidings add` of a feed that is down (a server error, no
/// answer) asks whether to subscribe anyway, and says when it is fetched.
#[test]
fn adding_a_feed_that_is_down_subscribes_it_when_the_user_says_so() {
    let server = TestServer::start();
    let t = Tidings::new();
    let config = tempfile::tempdir().unwrap();
    let config_file = config.path().join("config.toml");
    std::fs::write(&config_file, "").unwrap();
    let url = server.url("/error.xml");
    let add_on_a_terminal = |url: &str| {
        support::Reader::run(
            t.path(),
            &config_file,
            std::path::Path::new("/bin/true"),
            &["add", url],
        )
    };
    let mut add = add_on_a_terminal(&url);
    add.expect("anyway, to be fetched by a later refresh? [y/N]");
    add.keys("y\r");
    add.expect("the next refresh fetches it");
    assert!(add.wait_for_exit().success());
    let export = t.export_json();
    assert_eq!(feeds(&export).len(), 1);
    feed_by_url(&export, &url);
    // Refused there, nothing is subscribed.
    let mut refused = add_on_a_terminal(&server.url("/error.xml?other"));
    refused.expect("[y/N]");
    refused.keys("\r");
    assert!(!refused.wait_for_exit().success());
    assert_eq!(feeds(&t.export_json()).len(), 1);
}
