//! The reader end to end: the real binary in a pseudo-terminal (portable-pty),
//! its output read by a terminal emulator (vt100), driven by keys as a person
//! would, against a local HTTP server. Each step waits (with a deadline) for
//! what the screen must show.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::{Reader, TestServer};

#[test]
fn subscribe_by_keyboard_see_the_articles_arrive_open_one_and_quit() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[refresh]\nconnect_timeout_secs = 5\n").unwrap();
    // A "browser" that writes down the arguments it was given.
    let opened = dir.path().join("opened.txt");
    let browser = dir.path().join("browser.sh");
    std::fs::write(
        &browser,
        format!("#!/bin/sh\nprintf '%s\\n' \"$@\" > {}\n", opened.display()),
    )
    .unwrap();
    std::fs::set_permissions(
        &browser,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let mut reader = Reader::start(&dir.path().join("data"), &config, &browser);

    // First start: the built-in welcome feed, with no network needed.
    reader.expect("Welcome to tidings");
    reader.expect("Subscribing to feeds");

    // a: a web page's address; tidings finds the feed it announces and previews it.
    reader.keys("a");
    reader.expect("Subscribe to");
    for c in server.url("/page.html").chars() {
        reader.keys(&c.to_string());
    }
    reader.keys("\r");
    reader.expect("Subscribe?");
    reader.expect("Local News");
    reader.expect("First story");
    reader.keys("\r");

    // The articles arrive in the list; the feed is selected.
    reader.expect("Local News · 2 articles");
    reader.expect("Second story");

    // Open the older story (the second row) and read its body.
    reader.keys("l");
    reader.keys("j");
    reader.keys("\r");
    reader.expect("body about zeppelins");

    // o hands the article's address to the browser, as one argument.
    reader.keys("o");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !opened.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        std::fs::read_to_string(&opened).unwrap(),
        "http://local.test/1\n"
    );

    // q closes the article, q again quits; the terminal is restored.
    reader.keys("q");
    reader.keys("q");
    let status = reader.wait_for_exit();
    assert!(status.success(), "{status:?}");
    let raw = reader.raw();
    let tail = String::from_utf8_lossy(&raw[raw.len().saturating_sub(200)..]).into_owned();
    assert!(
        tail.contains("\u{1b}[?1049l"),
        "left the alternate screen: {tail:?}"
    );

    // The subscription and the read state are in the cache for the next start.
    let list = std::process::Command::new(env!("CARGO_BIN_EXE_tidings"))
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("list")
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(list.contains("Local News"), "{list}");
}

/// An RSS feed with these (guid, title) items.
fn feed_of(items: &[(&str, &str)]) -> String {
    let items: String = items
        .iter()
        .map(|(guid, title)| {
            format!("<item><guid>{guid}</guid><title>{title}</title><description>{title}.</description></item>")
        })
        .collect();
    format!("<rss version=\"2.0\"><channel><title>Local Notes</title>{items}</channel></rss>")
}

#[test]
fn the_reader_and_two_cron_refreshes_at_once_lose_nothing_and_show_the_new_articles() {
    let server = TestServer::start();
    let site = tempfile::tempdir().unwrap();
    let notes = site.path().join("notes.xml");
    std::fs::write(&notes, feed_of(&[("n1", "Old note")])).unwrap();
    server.serve_dir(site.path());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[ui]\nmark_read = \"never\"\n").unwrap();
    let tidings = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tidings"))
            .arg("--data-dir")
            .arg(&data)
            .arg("--config")
            .arg(&config)
            .args(args)
            .output()
            .unwrap()
    };
    assert!(
        tidings(&["add", "--no-fetch", &server.url("/files/notes.xml")])
            .status
            .success()
    );
    // Ten slow feeds (300 ms an answer, two at a time) keep each refresh going
    // for about a second and a half, so that the two cron runs overlap.
    for n in 0..10 {
        let url = format!("{}?n={n}", server.url("/slow.xml"));
        assert!(tidings(&["add", "--no-fetch", &url]).status.success());
    }
    let mut reader = Reader::start(&data, &config, std::path::Path::new("/bin/true"));
    reader.expect("Old note");
    reader.expect("last refresh");

    // New in the feed; two cron runs start together while the reader is open.
    std::fs::write(&notes, feed_of(&[("n2", "Fresh note"), ("n1", "Old note")])).unwrap();
    let spawn = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_tidings"))
            .arg("--data-dir")
            .arg(&data)
            .arg("--config")
            .arg(&config)
            .args(["refresh", "--quiet"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (spawn(), spawn());
    // Meanwhile the reader stars and marks read what it has selected: the
    // Old note, in the unread list it opened on.
    std::thread::sleep(Duration::from_millis(300));
    reader.keys("l");
    reader.keys("s");
    reader.keys("m");
    let outcomes: Vec<std::process::Output> = [first, second]
        .into_iter()
        .map(|child| child.wait_with_output().unwrap())
        .collect();
    let succeeded = outcomes.iter().filter(|o| o.status.success()).count();
    assert!(
        succeeded >= 1,
        "one of the cron runs refreshes: {:?}",
        outcomes
            .iter()
            .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
            .collect::<Vec<_>>()
    );
    for out in outcomes.iter().filter(|o| !o.status.success()) {
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            said.contains("another tidings refresh is running")
                && said.contains("nothing was fetched"),
            "a run that did not refresh says why: {said}"
        );
    }
    // The open reader shows what the cron run stored.
    reader.expect("Fresh note");
    reader.keys("q");
    reader.keys("q");
    assert!(reader.wait_for_exit().success());

    let db = rusqlite::Connection::open(data.join("tidings.db")).unwrap();
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let marks: Vec<(String, bool, bool)> = db
        .prepare(
            "SELECT title, read, starred FROM articles WHERE title LIKE '%note' ORDER BY title",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        marks,
        [
            ("Fresh note".to_string(), false, false),
            ("Old note".to_string(), true, true),
        ],
        "the reader's star and read mark, made while both runs wrote, are kept"
    );
}

/// A real PNG of `width` × `height` pixels.
fn png(width: u32, height: u32) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 5) as u8, 128])
    });
    let mut bytes = Vec::new();
    picture
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    bytes
}

#[test]
fn a_thumbnail_an_image_enclosure_and_a_body_image_each_make_a_cover_drawn_above_the_text() {
    let server = TestServer::start();
    let files = tempfile::tempdir().unwrap();
    for name in ["thumb.png", "enclosed.png", "body.png"] {
        std::fs::write(files.path().join(name), png(64, 48)).unwrap();
    }
    let url = |name: &str| server.url(&format!("/files/{name}"));
    let feed = format!(
        r#"<?xml version="1.0"?><rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>
<title>Covers</title><link>https://covers.example/</link><description>d</description>
<item><title>Thumbnail</title><guid>c1</guid><pubDate>Mon, 03 Jan 2023 10:00:00 GMT</pubDate>
<media:thumbnail url="{}"/><description>THUMB-TEXT</description></item>
<item><title>Enclosure</title><guid>c2</guid><pubDate>Mon, 02 Jan 2023 10:00:00 GMT</pubDate>
<enclosure url="{}" type="image/png" length="2000"/><description>ENCLOSED-TEXT</description></item>
<item><title>Body only</title><guid>c3</guid><pubDate>Mon, 01 Jan 2023 10:00:00 GMT</pubDate>
<description>&lt;p&gt;BODY-TEXT&lt;/p&gt;&lt;img src="{}" alt="in the body"&gt;</description></item>
</channel></rss>"#,
        url("thumb.png"),
        url("enclosed.png"),
        url("body.png")
    );
    std::fs::write(files.path().join("covers.rss"), feed).unwrap();
    server.serve_dir(files.path());
    let t = support::Tidings::new();
    std::fs::write(
        t.path().join("config.toml"),
        "[refresh]\non_start = false\n",
    )
    .unwrap();
    t.ok(&["add", &server.url("/files/covers.rss")]);
    t.ok(&["refresh"]);
    // Each article exports its cover.
    let export = t.export_json();
    let articles = export["feeds"][0]["articles"].as_array().unwrap();
    let cover = |title: &str| {
        articles
            .iter()
            .find(|a| a["title"] == title)
            .map(|a| a["image"].as_str().unwrap_or_default().to_string())
            .unwrap()
    };
    assert_eq!(cover("Thumbnail"), url("thumb.png"));
    assert_eq!(cover("Enclosure"), url("enclosed.png"));
    assert_eq!(cover("Body only"), url("body.png"));

    let mut reader = Reader::start(
        t.path(),
        &t.path().join("config.toml"),
        Path::new("/bin/true"),
    );
    reader.expect("Covers");
    reader.keys("g");
    reader.keys("j");
    reader.keys("j");
    reader.keys("l");
    for (text, down) in [
        ("THUMB-TEXT", false),
        ("ENCLOSED-TEXT", true),
        ("BODY-TEXT", true),
    ] {
        if down {
            reader.keys("q");
            reader.keys("j");
        }
        reader.keys("\r");
        reader.expect(text);
        // Half-blocks in tmux and other terminals without a graphics
        // protocol: the picture's rows come before the text (the body's own
        // picture, after it).
        let deadline = Instant::now() + Duration::from_secs(10);
        let screen = loop {
            let screen = reader.contents();
            if screen.contains('▀') || screen.contains('▄') || Instant::now() > deadline {
                break screen;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let picture = screen
            .find(['▀', '▄'])
            .unwrap_or_else(|| panic!("no picture for {text}:\n{screen}"));
        let at = screen.find(text).unwrap();
        if text == "BODY-TEXT" {
            assert!(
                picture > at,
                "the body's image stays where the body shows it:\n{screen}"
            );
        } else {
            assert!(picture < at, "the cover comes first:\n{screen}");
        }
    }
    reader.keys("q");
    reader.keys("q");
    assert!(reader.wait_for_exit().success());
}
