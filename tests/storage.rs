//! The binary and its data directory: what unsubscribing keeps (starred
//! articles, under "Saved"), what an import costs the disk (one transaction,
//! no WAL left behind), the OPML backup of the subscriptions beside the
//! database, and the way out of a damaged database (`tidings repair`). Each
//! test has its own data dir and, where it fetches, its own local server.

mod support;

use std::path::{Path, PathBuf};

use support::{Run, TestServer, Tidings};
use tidings::model::ArticleSource;
use tidings::store::Store;

impl Tidings {
    /// The subscriptions' addresses, read from the database.
    fn subscribed(&self) -> Vec<String> {
        let store = Store::open(&self.database()).unwrap();
        store.feeds().unwrap().into_iter().map(|f| f.url).collect()
    }
}

fn wal_bytes(database: &Path) -> u64 {
    std::fs::metadata(format!("{}-wal", database.display())).map_or(0, |m| m.len())
}

// ---- unsubscribing keeps starred articles ------------------------------------------------

/// Stars the article titled `title` straight in the database.
fn star(database: &Path, title: &str) {
    let mut store = Store::open(database).unwrap();
    let starred = store
        .search(title, 10)
        .unwrap()
        .into_iter()
        .find(|h| h.article.title.as_deref() == Some(title))
        .unwrap_or_else(|| panic!("no article {title}"));
    store.set_starred(starred.article.id, true).unwrap();
}

#[test]
fn remove_keeps_starred_articles_under_saved_unless_told_to_drop_them() {
    let server = TestServer::start();
    let t = Tidings::new();
    let url = server.url("/etag.xml");
    t.ok(&["add", &url]);
    star(&t.database(), "First story");

    let out = t.ok(&["remove", "Local News"]);
    assert!(
        out.contains("removed Local News")
            && out.contains("kept its 1 starred article under Saved"),
        "{out}"
    );
    let list = t.ok(&["list"]);
    assert!(
        !list.contains(&url) && list.contains("Saved: 1 article kept from 1 unsubscribed feed"),
        "{list}"
    );
    let found = t.ok(&["search", "zeppelins"]);
    assert!(found.contains("First story"), "{found}");
    assert!(t.ok(&["search", "Second"]).contains("nothing found"));
    // The JSON export keeps it, marked; the OPML export lists subscriptions only.
    let export = t.export_json();
    let feeds = export["feeds"].as_array().unwrap();
    assert_eq!(feeds.len(), 1);
    assert_eq!(feeds[0]["saved"], true);
    assert_eq!(feeds[0]["articles"].as_array().unwrap().len(), 1);
    assert_eq!(feeds[0]["articles"][0]["starred"], true);
    assert!(!t.ok(&["export"]).contains(&url));
    // Nothing fetches it.
    let refresh = t.ok(&["refresh"]);
    assert!(server.requests_for("/etag.xml").len() == 1, "{refresh}");

    // Subscribing again brings the feed back with its article, not a copy.
    t.ok(&["add", &url]);
    let list = t.ok(&["list"]);
    let row = list.lines().find(|l| l.contains("Local News")).unwrap();
    assert!(row.contains("/2 "), "{list}");
    assert!(!list.contains("Saved:"), "{list}");
    let export = t.export_json();
    let articles = export["feeds"][0]["articles"].as_array().unwrap();
    assert_eq!(articles.len(), 2);
    assert_eq!(articles.iter().filter(|a| a["starred"] == true).count(), 1);
    assert_eq!(export["feeds"][0]["saved"], false);

    // Unsubscribed again, then the kept article deleted by name.
    t.ok(&["remove", &url]);
    let refused = t.run(&["remove", "Local News"]);
    assert!(
        !refused.ok && refused.stderr.contains("tidings remove --drop-starred"),
        "{}",
        refused.stderr
    );
    let out = t.ok(&["remove", "--drop-starred", "Local News"]);
    assert!(
        out.contains("deleted the 1 saved article of Local News"),
        "{out}"
    );
    assert!(t.export_json()["feeds"].as_array().unwrap().is_empty());
    assert!(t.ok(&["search", "zeppelins"]).contains("nothing found"));
}

#[test]
fn remove_drop_starred_deletes_starred_articles_with_the_feed() {
    let server = TestServer::start();
    let t = Tidings::new();
    t.ok(&["add", &server.url("/etag.xml")]);
    star(&t.database(), "First story");
    let out = t.ok(&["remove", "--drop-starred", "Local News"]);
    assert!(
        out.contains("removed Local News") && !out.contains("Saved"),
        "{out}"
    );
    assert!(!t.ok(&["list"]).contains("Saved"));
    assert!(t.ok(&["search", "zeppelins"]).contains("nothing found"));
    let store = Store::open(&t.database()).unwrap();
    assert_eq!(
        store.count_articles(ArticleSource::Starred, false).unwrap(),
        0
    );
}

// ---- import ---------------------------------------------------------------------

fn urls_file(dir: &Path, n: usize) -> PathBuf {
    let text: String = (0..n)
        .map(|i| {
            format!(
                "http://feeds.test/{i}.xml \"~Feed number {i}\" tag{} imported\n",
                i % 7
            )
        })
        .collect();
    let path = dir.join("urls");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn importing_300_feeds_adds_them_all_and_leaves_no_wal_behind() {
    let t = Tidings::new();
    t.ok(&["list"]);
    // Another connection holds the database open, as a running reader would:
    // closing tidings' own connection then leaves the log where it is, unless
    // tidings truncates it.
    let reader = rusqlite::Connection::open(t.database()).unwrap();
    let count = |reader: &rusqlite::Connection| -> i64 {
        reader
            .query_row("SELECT count(*) FROM feeds", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(count(&reader), 0);
    let list = urls_file(t.path(), 300);
    let out = t.ok(&["import", list.to_str().unwrap()]);
    assert!(out.contains("imported 300 feeds"), "{out}");
    assert_eq!(wal_bytes(&t.database()), 0);
    assert_eq!(count(&reader), 300);
    let again = t.ok(&["import", list.to_str().unwrap()]);
    assert!(again.contains("300 already subscribed"), "{again}");
}

#[test]
fn an_import_that_fails_half_way_subscribes_to_none_of_the_list() {
    let t = Tidings::new();
    t.ok(&["add", "--no-fetch", "http://before.test/feed.xml"]);
    let conn = rusqlite::Connection::open(t.database()).unwrap();
    // An injected failure at the 151st feed.
    conn.execute_batch(
        "CREATE TRIGGER fail_import BEFORE INSERT ON feeds
         WHEN NEW.url = 'http://feeds.test/150.xml'
         BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
    )
    .unwrap();
    drop(conn);
    let list = urls_file(t.path(), 300);
    let run = t.run(&["import", list.to_str().unwrap()]);
    assert!(
        !run.ok && run.stderr.contains("injected failure"),
        "{}",
        run.stderr
    );
    assert_eq!(t.subscribed(), ["http://before.test/feed.xml"]);
    let backup = std::fs::read_to_string(t.backup()).unwrap();
    assert!(!backup.contains("feeds.test"), "{backup}");
}

// ---- the OPML backup ---------------------------------------------------------------

/// The backup's subscriptions as (address, tags), read the way import reads them.
fn backed_up(t: &Tidings) -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(t.backup()).unwrap();
    let mut subs: Vec<_> = tidings::subscriptions::parse_import(&text)
        .unwrap()
        .subscriptions
        .into_iter()
        .map(|s| (s.url, s.tags))
        .collect();
    subs.sort();
    subs
}

#[test]
fn the_backup_follows_every_change_to_the_subscriptions() {
    let t = Tidings::new();
    t.ok(&["list"]);
    assert!(!t.backup().exists(), "no subscriptions, no backup");
    t.ok(&["add", "--no-fetch", "http://a.test/feed.xml", "-t", "news"]);
    t.ok(&[
        "add",
        "--no-fetch",
        "http://b.test/feed.xml",
        "--title",
        "Bee",
    ]);
    assert_eq!(
        backed_up(&t),
        [
            (
                "http://a.test/feed.xml".to_string(),
                vec!["news".to_string()]
            ),
            ("http://b.test/feed.xml".to_string(), vec![]),
        ]
    );
    assert!(std::fs::read_to_string(t.backup()).unwrap().contains("Bee"));

    t.ok(&["remove", "http://a.test/feed.xml"]);
    assert_eq!(
        backed_up(&t),
        [("http://b.test/feed.xml".to_string(), vec![])]
    );
    let list = urls_file(t.path(), 3);
    t.ok(&["import", list.to_str().unwrap()]);
    let after = backed_up(&t);
    assert_eq!(after.len(), 4);
    assert!(after.contains(&(
        "http://feeds.test/2.xml".to_string(),
        vec!["tag2".to_string(), "imported".to_string()]
    )));
    // Written by rename: no temporary file is left beside it.
    let leftovers: Vec<_> = std::fs::read_dir(t.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_backup_is_written_at_start_when_there_is_none() {
    let t = Tidings::new();
    t.ok(&["add", "--no-fetch", "http://a.test/feed.xml"]);
    std::fs::remove_file(t.backup()).unwrap();
    t.ok(&["list"]);
    assert_eq!(
        backed_up(&t),
        [("http://a.test/feed.xml".to_string(), vec![])]
    );
}

// ---- a damaged database: tidings repair --------------------------------------------

/// Bytes that look like nothing: a fixed pseudo-random sequence.
fn noise(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// The files tidings set aside in the data dir, by name.
fn set_aside(t: &Tidings) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(t.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("tidings.db.damaged-"))
        .collect();
    names.sort();
    names
}

fn assert_way_out_named(t: &Tidings, run: &Run) {
    let command = format!("tidings --data-dir {} repair", t.path().display());
    assert!(
        !run.ok && run.stderr.contains("damaged") && run.stderr.contains(&command),
        "{}",
        run.stderr
    );
}

#[test]
fn a_database_of_random_bytes_names_the_way_out_and_repair_rebuilds_it_from_the_backup() {
    let t = Tidings::new();
    let local = t.path().join("local.xml");
    std::fs::write(&local, support::FEED_V1).unwrap();
    t.ok(&[
        "add",
        "--no-fetch",
        "http://a.test/feed.xml",
        "-t",
        "news",
        "-t",
        "daily",
    ]);
    t.ok(&["add", "--no-fetch", "https://b.test/atom", "--title", "Bee"]);
    t.ok(&["add", "--no-fetch", local.to_str().unwrap()]);
    let before = t.subscribed();
    assert_eq!(before.len(), 3);

    let garbage = noise(64 * 1024);
    std::fs::write(t.database(), &garbage).unwrap();
    assert_way_out_named(&t, &t.run(&["list"]));
    assert!(set_aside(&t).is_empty(), "nothing is moved unasked");

    let out = t.ok(&["repair"]);
    assert!(
        out.contains("is damaged") && out.contains("your 3 subscriptions from"),
        "{out}"
    );
    let aside = set_aside(&t);
    assert_eq!(aside.len(), 1, "{aside:?}");
    let stamp = aside[0].trim_start_matches("tidings.db.damaged-");
    assert!(
        stamp.len() == 15
            && stamp.as_bytes()[8] == b'T'
            && stamp.replace('T', "").bytes().all(|b| b.is_ascii_digit()),
        "{stamp}"
    );
    assert!(out.contains(&aside[0]), "{out}");
    assert_eq!(
        std::fs::read(t.path().join(&aside[0])).unwrap(),
        garbage,
        "kept untouched"
    );

    let mut after = t.subscribed();
    after.sort();
    let mut want = before.clone();
    want.sort();
    assert_eq!(after, want);
    let list = t.ok(&["list"]);
    assert!(
        list.contains("[news, daily]") && list.contains("Bee"),
        "{list}"
    );
    assert!(!list.contains("Welcome"), "{list}");
    // And it is sound now.
    assert!(t.ok(&["repair"]).contains("nothing to repair"));
}

#[test]
fn a_truncated_database_is_repaired_and_a_refresh_brings_the_articles_back() {
    let server = TestServer::start();
    let t = Tidings::new();
    t.ok(&["add", &server.url("/etag.xml"), "--title", "My News"]);
    t.ok(&["add", &server.url("/new-home.xml")]);
    let size = std::fs::metadata(t.database()).unwrap().len();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(t.database())
        .unwrap();
    file.set_len(size / 2).unwrap();
    drop(file);
    assert_way_out_named(&t, &t.run(&["list"]));

    t.ok(&["repair"]);
    assert_eq!(set_aside(&t).len(), 1);
    assert_eq!(t.subscribed().len(), 2);
    t.ok(&["refresh"]);
    assert!(t.ok(&["search", "zeppelins"]).contains("First story"));
    // The name given to a feed is still its name after the refresh.
    let list = t.ok(&["list"]);
    assert!(
        list.contains("My News") && !list.contains("Local News"),
        "{list}"
    );
}

#[test]
fn without_a_backup_repair_rebuilds_from_what_the_damaged_file_still_holds() {
    let t = Tidings::new();
    // A feed big enough that its articles fill most of the file.
    let items: String = (0..300)
        .map(|i| {
            format!(
                "<item><title>Item {i}</title><guid>item-{i}</guid><description>{}</description></item>",
                "words of a longer body ".repeat(40)
            )
        })
        .collect();
    let local = t.path().join("big.xml");
    std::fs::write(
        &local,
        format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Big</title>{items}</channel></rss>"),
    )
    .unwrap();
    t.ok(&["add", "--no-fetch", "http://a.test/feed.xml", "-t", "news"]);
    t.ok(&["add", local.to_str().unwrap()]);
    std::fs::remove_file(t.backup()).unwrap();
    // Scribble over the last third of the file, where the articles are.
    let mut bytes = std::fs::read(t.database()).unwrap();
    let third = bytes.len() / 3;
    let end = bytes.len();
    bytes[end - third..].fill(0xAB);
    std::fs::write(t.database(), bytes).unwrap();

    let out = t.ok(&["repair"]);
    assert!(
        out.contains("is damaged") && out.contains("your 2 subscriptions from what"),
        "{out}"
    );
    let list = t.ok(&["list"]);
    assert!(
        list.contains("http://a.test/feed.xml  [news]") && list.contains("Big"),
        "{list}"
    );
    // The rebuilt list is backed up again.
    assert!(
        std::fs::read_to_string(t.backup())
            .unwrap()
            .contains("http://a.test/feed.xml")
    );
}

#[test]
fn repair_leaves_a_sound_or_a_newer_database_alone() {
    let t = Tidings::new();
    t.ok(&["add", "--no-fetch", "http://a.test/feed.xml"]);
    let out = t.ok(&["repair"]);
    assert!(out.contains("nothing to repair"), "{out}");
    assert!(set_aside(&t).is_empty());
    assert_eq!(t.subscribed(), ["http://a.test/feed.xml"]);

    let conn = rusqlite::Connection::open(t.database()).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let bytes = std::fs::read(t.database()).unwrap();
    let list = t.run(&["list"]);
    assert!(
        !list.ok && list.stderr.contains("newer tidings") && !list.stderr.contains("repair"),
        "{}",
        list.stderr
    );
    let repair = t.run(&["repair"]);
    assert!(
        !repair.ok
            && repair.stderr.contains("not damaged")
            && repair.stderr.contains("newer tidings"),
        "{}",
        repair.stderr
    );
    assert!(set_aside(&t).is_empty());
    assert_eq!(
        std::fs::read(t.database()).unwrap(),
        bytes,
        "a newer database is never touched"
    );
}
