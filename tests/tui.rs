//! The reader end to end: the real binary in a pseudo-terminal (portable-pty),
//! its output read by a terminal emulator (vt100), driven by keys as a person
//! would, against a local HTTP server. Each step waits (with a deadline) for
//! what the screen must show.

mod support;

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
