//! Sync against a real Tiny Tiny RSS server (`../shared/sync/ttrss-up.sh`
//! starts one on 127.0.0.1 with its own PostgreSQL), with two data
//! directories as two devices: subscriptions, reads, stars, names and
//! categories travel between them through the server; changes made while
//! the server is down arrive once it is back; a sync killed in the middle
//! leaves both sides consistent; a sync with nothing changed costs three
//! requests; a wrong password, an API switched off or an unreachable server
//! says so and loses nothing.
//!
//! The feeds the server fetches are this test's own, served on 127.0.0.1.
//! Without `../shared/sync` (or when the server cannot start) each test says
//! SKIPPED and why.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use support::proxies::{LocalProxy, http_proxy};
use support::{TestServer, Tidings, skip};
use tidings::model::{ArticleId, FeedId, ImageStatus};
use tidings::store::{Store, SyncRecord};

/// A tt-rss instance of this test process, stopped and deleted when dropped.
struct TtRss {
    dir: PathBuf,
    url: String,
    update: PathBuf,
    pg_port: String,
}

impl TtRss {
    /// Starts an instance, or says why not (`None`).
    fn start(test: &str) -> Option<TtRss> {
        static INSTANCES: AtomicUsize = AtomicUsize::new(0);
        let Some(shared) = support::shared_dir() else {
            skip(test, "../shared/sync is not in this checkout");
            return None;
        };
        // Not a 0700 temporary directory: postgres and www-data must reach it.
        let dir = PathBuf::from(format!(
            "/tmp/tidings-test-ttrss-{}-{}",
            std::process::id(),
            INSTANCES.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        // One at a time: the first may install the server's packages.
        static STARTING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one = STARTING.lock().unwrap_or_else(|e| e.into_inner());
        let out = Command::new(shared.join("sync/ttrss-up.sh"))
            .arg(&dir)
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        let value = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{key}=")))
                .map(str::to_string)
        };
        match (
            out.status.success(),
            value("TTRSS_URL"),
            value("TTRSS_UPDATE"),
            value("TTRSS_PG_PORT"),
        ) {
            (true, Some(url), Some(update), Some(pg_port)) => Some(TtRss {
                dir,
                url,
                update: update.into(),
                pg_port,
            }),
            _ => {
                let why = String::from_utf8_lossy(&out.stderr);
                let tail: Vec<&str> = why.lines().rev().take(3).collect();
                skip(test, &format!("the tt-rss server did not start: {tail:?}"));
                let _ = std::fs::remove_dir_all(&dir);
                None
            }
        }
    }

    /// Turns the API on or off for its user, as its preferences page does.
    fn allow_api(&self, on: bool) {
        let status = Command::new("/usr/lib/postgresql/15/bin/psql")
            .args(["-X", "-q", "-U", "postgres", "-d", "ttrss", "-h"])
            .arg(self.dir.join("pg"))
            .args(["-p", &self.pg_port, "-c"])
            .arg(format!(
                "UPDATE ttrss_user_prefs SET value = '{on}' WHERE pref_name = 'ENABLE_API_ACCESS'"
            ))
            .status()
            .unwrap();
        assert!(status.success(), "psql failed");
    }

    /// Makes the server fetch every feed now.
    fn update_feeds(&self) {
        let status = Command::new(&self.update).status().unwrap();
        assert!(status.success(), "update-feeds.sh failed");
    }

    fn stop(&self) {
        let shared = support::shared_dir().unwrap();
        let status = Command::new(shared.join("sync/ttrss-down.sh"))
            .arg(&self.dir)
            .output()
            .unwrap();
        assert!(status.status.success());
    }

    /// Starts it again after [`TtRss::stop`], on the same port.
    fn restart(&self) {
        let shared = support::shared_dir().unwrap();
        let out = Command::new(shared.join("sync/ttrss-up.sh"))
            .arg(&self.dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains(&self.url));
    }
}

impl Drop for TtRss {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A device: a data directory whose config syncs with `server`.
fn device(server: &TtRss, password: &str) -> Tidings {
    let t = Tidings::new();
    let config = t.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[sync]\nbackend = \"ttrss\"\nurl = \"{}\"\nuser = \"admin\"\npassword = \"{password}\"\n\
             [refresh]\nconnect_timeout_secs = 2\nread_timeout_secs = 5\n",
            server.url
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    t
}

/// A feed of `n` posts whose guids no other feed of the server uses.
fn write_feed(dir: &Path, server: &TestServer, name: &str, n: usize) {
    let items: String = (0..n)
        .map(|i| {
            format!(
                "<item><title>{name} post {i}</title><link>{}</link><guid>urn:{name}:{i}</guid>\
                 <pubDate>Tue, 0{} Dec 2026 10:00:00 GMT</pubDate>\
                 <description>&lt;p&gt;The body of {name} post {i}.&lt;/p&gt;\
                 &lt;img src=\"{}\" alt=\"a picture\"&gt;</description></item>",
                server.url(&format!("/files/{name}/{i}.html")),
                1 + i % 4,
                server.url("/files/picture.png"),
            )
        })
        .collect();
    std::fs::write(
        dir.join(format!("{name}.xml")),
        format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Feed {name}</title>\
             <link>{}</link>{items}</channel></rss>",
            server.url("/files/")
        ),
    )
    .unwrap();
}

/// A tt-rss instance, and a server of this test's feeds (`(name, posts)`)
/// in a temporary directory; `None` when the instance cannot start.
fn servers(test: &str, feeds: &[(&str, usize)]) -> Option<(TtRss, TestServer, tempfile::TempDir)> {
    let server = TtRss::start(test)?;
    let files = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    files.serve_dir(dir.path());
    for (name, posts) in feeds {
        write_feed(dir.path(), &files, name, *posts);
    }
    let mut png = Vec::new();
    image::RgbImage::new(8, 6)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    std::fs::write(dir.path().join("picture.png"), png).unwrap();
    Some((server, files, dir))
}

/// (title, read, starred) of every article of the feed titled `feed`, by title.
fn articles_of(t: &Tidings, feed: &str) -> Vec<(String, bool, bool)> {
    let store = Store::open(&t.database()).unwrap();
    let Some(f) = store
        .feeds()
        .unwrap()
        .into_iter()
        .find(|f| f.display_name() == feed)
    else {
        return Vec::new();
    };
    let mut articles: Vec<(String, bool, bool)> = store
        .feed_articles(f.id)
        .unwrap()
        .into_iter()
        .map(|a| (a.title.unwrap_or_default(), a.read, a.starred))
        .collect();
    articles.sort();
    articles
}

fn feed_titles(t: &Tidings) -> Vec<String> {
    let store = Store::open(&t.database()).unwrap();
    let mut titles: Vec<String> = store
        .feeds()
        .unwrap()
        .iter()
        .map(|f| f.display_name().to_string())
        .collect();
    titles.sort();
    titles
}

/// The id of the article titled `title`.
fn article_id(t: &Tidings, title: &str) -> ArticleId {
    let store = Store::open(&t.database()).unwrap();
    let feeds: Vec<FeedId> = store.feeds().unwrap().iter().map(|f| f.id).collect();
    feeds
        .into_iter()
        .flat_map(|f| store.feed_articles(f).unwrap())
        .find(|a| a.title.as_deref() == Some(title))
        .unwrap_or_else(|| panic!("no article {title:?}"))
        .id
}

fn last_sync(t: &Tidings) -> SyncRecord {
    Store::open(&t.database())
        .unwrap()
        .recent_syncs(1)
        .unwrap()
        .pop()
        .unwrap()
}

#[test]
fn two_devices_share_subscriptions_reads_and_stars_through_the_server() {
    let test = "two_devices_share_subscriptions_reads_and_stars_through_the_server";
    let Some((server, feeds, _dir)) = servers(test, &[("alpha", 4), ("beta", 3)]) else {
        return;
    };
    let (laptop, desktop) = (device(&server, "password"), device(&server, "password"));

    // The laptop subscribes (and reads the feed itself at once), and so
    // does the server, which then fetches the feed.
    let added = laptop.ok(&["add", &feeds.url("/files/alpha.xml")]);
    assert!(added.contains("subscribed on the sync server"), "{added}");
    assert_eq!(articles_of(&laptop, "Feed alpha").len(), 4);
    server.update_feeds();
    laptop.ok(&["sync"]);
    // The server's copies take the place of the laptop's own: listed once.
    assert_eq!(articles_of(&laptop, "Feed alpha").len(), 4);

    // The desktop, empty, gets the subscription and its articles.
    let synced = desktop.ok(&["sync"]);
    assert!(synced.contains("4 new articles"), "{synced}");
    assert!(synced.contains("1 images cached"), "{synced}");
    assert_eq!(feed_titles(&desktop), ["Feed alpha"]);
    // The articles' picture came from its own host into the local cache.
    let cached = Store::open(&desktop.database())
        .unwrap()
        .image_totals()
        .unwrap();
    assert!(
        cached
            .by_status
            .iter()
            .any(|(status, n)| *status == ImageStatus::Cached && *n == 1),
        "{cached:?}"
    );
    assert!(
        articles_of(&desktop, "Feed alpha")
            .iter()
            .all(|(_, read, starred)| !read && !starred)
    );

    // A read and a star on the laptop are on the desktop after both sync.
    {
        let mut store = Store::open(&laptop.database()).unwrap();
        store
            .set_read(article_id(&laptop, "alpha post 1"), true)
            .unwrap();
        store
            .set_starred(article_id(&laptop, "alpha post 2"), true)
            .unwrap();
    }
    let synced = laptop.ok(&["sync"]);
    assert!(synced.contains("2 changes pushed"), "{synced}");
    let synced = desktop.ok(&["sync"]);
    assert!(
        synced.contains("2 read/star changes from elsewhere"),
        "{synced}"
    );
    let alpha = articles_of(&desktop, "Feed alpha");
    assert!(
        alpha.contains(&("alpha post 1".into(), true, false)),
        "{alpha:?}"
    );
    assert!(
        alpha.contains(&("alpha post 2".into(), false, true)),
        "{alpha:?}"
    );
    assert_eq!(alpha.iter().filter(|(_, read, _)| *read).count(), 1);

    // Nothing changed: three requests (subscriptions, counts, articles since).
    laptop.ok(&["sync"]);
    let quiet = last_sync(&laptop);
    assert!(quiet.requests <= 3, "{quiet:?}");
    assert_eq!(
        quiet.articles_pulled + quiet.states_pulled + quiet.changes_pushed,
        0
    );

    // A subscription made on the desktop reaches the laptop; an
    // unsubscription made on the laptop reaches the desktop.
    desktop.ok(&["add", &feeds.url("/files/beta.xml")]);
    desktop.ok(&["sync"]);
    server.update_feeds();
    laptop.ok(&["remove", "Feed alpha"]);
    laptop.ok(&["sync"]);
    assert_eq!(feed_titles(&laptop), ["Feed beta"]);
    assert_eq!(articles_of(&laptop, "Feed beta").len(), 3);
    let synced = desktop.ok(&["sync"]);
    assert!(synced.contains("1 feed removed"), "{synced}");
    // The starred article of the feed gone is kept, under "Saved".
    let store = Store::open(&desktop.database()).unwrap();
    assert_eq!(store.feeds().unwrap().len(), 1);
    assert_eq!(store.saved_feeds().unwrap().len(), 1);
    drop(store);
    assert_eq!(articles_of(&desktop, "Feed beta").len(), 3);

    // Offline: the server stops; a read on the desktop waits, kept.
    server.stop();
    {
        let mut store = Store::open(&desktop.database()).unwrap();
        store
            .set_read(article_id(&desktop, "beta post 0"), true)
            .unwrap();
    }
    let run = desktop.run(&["sync"]);
    assert!(!run.ok);
    assert!(
        run.stderr.contains("cannot reach the sync server"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("1 change wait"), "{}", run.stderr);
    // The reader would go on from the cache: the read is there.
    assert!(articles_of(&desktop, "Feed beta").contains(&("beta post 0".into(), true, false)));
    server.restart();
    let synced = desktop.ok(&["sync"]);
    assert!(synced.contains("1 change pushed"), "{synced}");
    laptop.ok(&["sync"]);
    assert!(articles_of(&laptop, "Feed beta").contains(&("beta post 0".into(), true, false)));

    // Pushed once: the next syncs push nothing.
    desktop.ok(&["sync"]);
    assert_eq!(last_sync(&desktop).changes_pushed, 0);
    let stats = desktop.ok(&["stats", "--format", "json"]);
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(
        stats["sync"]["failures_by_kind"]["unreachable"], 1,
        "{stats}"
    );
    assert_eq!(stats["sync"]["changes_waiting"], 0);
    assert!(!stats.to_string().contains("password"));

    // A new name and a new category given on one device reach the other
    // (through the server's web interface: its API has no call for them).
    {
        let mut store = Store::open(&laptop.database()).unwrap();
        let beta = store.find_feed("Feed beta").unwrap()[0].id;
        store
            .set_feed_title(beta, Some("Beta, read daily"))
            .unwrap();
        store
            .set_feed_tags(beta, &["reading".into(), "later".into()])
            .unwrap();
    }
    let synced = laptop.ok(&["sync"]);
    assert!(synced.contains("2 changes pushed"), "{synced}");
    desktop.ok(&["sync"]);
    let store = Store::open(&desktop.database()).unwrap();
    let beta = &store.feeds().unwrap()[0];
    assert_eq!(beta.display_name(), "Beta, read daily");
    assert_eq!(beta.tags, ["reading"]);
    // The laptop keeps both of its tags; nothing is pushed back and forth.
    let again = laptop.ok(&["sync"]);
    assert!(again.contains("0 changes pushed"), "{again}");
    let store = Store::open(&laptop.database()).unwrap();
    assert_eq!(store.feeds().unwrap()[0].tags, ["reading", "later"]);
}

#[test]
fn a_wrong_password_an_expired_session_or_the_api_switched_off_say_so_and_lose_nothing() {
    let test =
        "a_wrong_password_an_expired_session_or_the_api_switched_off_say_so_and_lose_nothing";
    let Some((server, feeds, _dir)) = servers(test, &[("gamma", 2)]) else {
        return;
    };

    let wrong = device(&server, "not-the-password");
    let added = wrong.ok(&["add", &feeds.url("/files/gamma.xml")]);
    assert!(added.contains("not on the sync server yet"), "{added}");
    let run = wrong.run(&["sync"]);
    assert!(!run.ok);
    assert!(
        run.stderr.contains("refused the user name or password"),
        "{}",
        run.stderr
    );
    assert!(!run.raw.windows(16).any(|w| w == b"not-the-password"));
    // The subscription still waits, and the feed reads as before.
    assert_eq!(last_sync(&wrong).changes_left, 1);
    assert_eq!(articles_of(&wrong, "Feed gamma").len(), 2);
    let log = std::fs::read_dir(wrong.path().join("logs"))
        .into_iter()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .collect::<String>();
    assert!(!log.contains("not-the-password"));

    // The right password from the environment wins over the config's.
    let synced = wrong
        .command()
        .env("TIDINGS_SYNC_PASSWORD", "password")
        .arg("sync")
        .output()
        .unwrap();
    assert!(
        synced.status.success(),
        "{}",
        String::from_utf8_lossy(&synced.stderr)
    );

    // A session the server no longer knows: logged in again, quietly.
    let right = device(&server, "password");
    right.ok(&["sync"]);
    {
        let mut store = Store::open(&right.database()).unwrap();
        let memory = store.sync_memory().unwrap().unwrap();
        let expired = memory.replace(
            &serde_json::from_str::<serde_json::Value>(&memory).unwrap()["session"]
                .as_str()
                .unwrap()
                .to_string(),
            "expired0session0id",
        );
        store.set_sync_memory(&expired).unwrap();
    }
    right.ok(&["sync"]);
    let record = last_sync(&right);
    assert!(record.error.is_none(), "{record:?}");
    assert!(record.ms_login > 0 || record.requests == 5, "{record:?}");
    assert_eq!(feed_titles(&right), ["Feed gamma"]);

    // The API switched off for the user: said so, and nothing is lost.
    server.allow_api(false);
    let run = right.run(&["sync"]);
    assert!(!run.ok);
    assert!(run.stderr.contains("API is switched off"), "{}", run.stderr);
    assert_eq!(feed_titles(&right), ["Feed gamma"]);
    server.allow_api(true);
    right.ok(&["sync"]);

    // With a proxy set for the feeds, the server is reached through it too.
    let proxy = LocalProxy::start(http_proxy);
    let proxied = device(&server, "password");
    let config = proxied.path().join("config.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!("proxy = \"http://127.0.0.1:{}\"\n", proxy.port));
    std::fs::write(&config, text).unwrap();
    proxied.ok(&["sync"]);
    assert_eq!(feed_titles(&proxied), ["Feed gamma"]);
    assert!(
        proxy.carried() >= 3,
        "the proxy carried {}",
        proxy.carried()
    );
}

#[test]
fn a_sync_killed_in_the_middle_leaves_both_sides_consistent() {
    let test = "a_sync_killed_in_the_middle_leaves_both_sides_consistent";
    // Enough articles for several pages of the server's answers.
    let names: Vec<String> = (0..6).map(|i| format!("bulk{i}")).collect();
    let bulk: Vec<(&str, usize)> = names.iter().map(|n| (n.as_str(), 150)).collect();
    let Some((server, feeds, _dir)) = servers(test, &bulk) else {
        return;
    };
    let first = device(&server, "password");
    for name in &names {
        first.ok(&[
            "add",
            "--no-fetch",
            &feeds.url(&format!("/files/{name}.xml")),
        ]);
    }
    first.ok(&["sync"]);
    server.update_feeds();

    let second = device(&server, "password");
    for delay_ms in [80, 200, 400, 700] {
        let mut child = second.spawn(&["sync"]);
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let store = Store::open(&second.database()).unwrap();
        store.check_integrity().unwrap();
    }
    second.ok(&["sync"]);
    first.ok(&["sync"]);
    for name in &names {
        let title = format!("Feed {name}");
        let on_second = articles_of(&second, &title);
        assert_eq!(on_second.len(), 150, "{title} on the second device");
        assert_eq!(on_second, articles_of(&first, &title));
    }
    // Nothing was stored twice, and nothing waits.
    assert_eq!(last_sync(&second).changes_left, 0);
    let again = second.ok(&["sync"]);
    assert!(again.contains("0 new articles"), "{again}");
}
