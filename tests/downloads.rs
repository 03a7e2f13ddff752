//! `tidings download` against a server this test starts: podcast episodes
//! land whole and byte-identical in the downloads directory, an interrupted
//! download resumes where it was killed, and what a server or a feed says
//! cannot put a file elsewhere, make one too large, or pass a partial file
//! for a complete one.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::{TestServer, Tidings};

/// A file of `len` bytes that differ from place to place, so that a byte
/// put at the wrong offset shows.
fn episode_bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[i % 4] ^ seed)
        .collect()
}

/// A podcast feed whose items carry `enclosures` (address, length).
fn podcast(enclosures: &[(String, usize)]) -> String {
    let items: String = enclosures
        .iter()
        .enumerate()
        .map(|(i, (url, len))| {
            format!(
                r#"<item><title>Episode {n}</title><guid>ep{n}</guid>
<pubDate>Mon, 0{n} Jan 2024 10:00:00 GMT</pubDate><itunes:duration>{n}2:05</itunes:duration>
<enclosure url="{url}" type="audio/mpeg" length="{len}"/></item>"#,
                n = i + 1,
            )
        })
        .collect();
    format!(
        r#"<?xml version="1.0"?><rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">
<channel><title>The Cast</title><link>https://cast.example/</link><description>d</description>{items}</channel></rss>"#
    )
}

fn downloads_dir(t: &Tidings) -> std::path::PathBuf {
    t.path().join("downloads")
}

/// Every file under `dir`, hidden ones too, by name.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn the_newest_episodes_of_podcast_feeds_download_whole_and_once() {
    let server = TestServer::start();
    let files = tempfile::tempdir().unwrap();
    let mut enclosures = Vec::new();
    for n in 1..=3 {
        let bytes = episode_bytes(200_000 + n * 1_000, n as u8);
        std::fs::write(files.path().join(format!("ep{n}.mp3")), &bytes).unwrap();
        enclosures.push((server.url(&format!("/media/ep{n}.mp3")), bytes.len()));
    }
    std::fs::write(files.path().join("cast.rss"), podcast(&enclosures)).unwrap();
    server.serve_dir(files.path());
    let t = Tidings::new();
    t.ok(&["add", &server.url("/files/cast.rss"), "--tag", "podcast"]);
    // An untagged feed is left alone.
    t.ok(&["add", &server.url("/etag.xml")]);

    let out = t.ok(&["download", "--newest", "2"]);
    assert!(
        out.contains("2 episodes · 2 downloaded · 0 already here · 0 failed"),
        "{out}"
    );
    // The newest two: episodes 3 and 2, each the served bytes exactly.
    assert_eq!(names_in(&downloads_dir(&t)), ["ep2.mp3", "ep3.mp3"]);
    for n in [2, 3] {
        let name = format!("ep{n}.mp3");
        assert_eq!(
            std::fs::read(downloads_dir(&t).join(&name)).unwrap(),
            std::fs::read(files.path().join(&name)).unwrap(),
            "{name}"
        );
    }
    // Again: nothing is fetched twice.
    let requests = server.requests_for("/media/ep3.mp3").len();
    let out = t.ok(&["download", "--newest", "2"]);
    assert!(out.contains("0 downloaded · 2 already here"), "{out}");
    assert_eq!(server.requests_for("/media/ep3.mp3").len(), requests);
    // The list says where each is.
    let list = t.ok(&["download", "--list"]);
    assert!(
        list.contains("complete") && list.contains("Episode 3 · The Cast"),
        "{list}"
    );
    assert!(
        list.contains(&downloads_dir(&t).join("ep2.mp3").display().to_string()),
        "{list}"
    );
}

#[test]
fn a_download_killed_midway_resumes_and_the_file_is_byte_identical() {
    let server = TestServer::start();
    let files = tempfile::tempdir().unwrap();
    // About 1.3 s at the slow route's pace.
    let bytes = episode_bytes(1_000_000, 7);
    std::fs::write(files.path().join("long.mp3"), &bytes).unwrap();
    let url = server.url("/slow-media/long.mp3");
    std::fs::write(
        files.path().join("cast.rss"),
        podcast(&[(url, bytes.len())]),
    )
    .unwrap();
    server.serve_dir(files.path());
    let t = Tidings::new();
    t.ok(&["add", &server.url("/files/cast.rss"), "--tag", "podcast"]);

    let mut first = t.spawn(&["download"]);
    let dir = downloads_dir(&t);
    let part_size = || {
        names_in(&dir)
            .iter()
            .filter(|n| n.ends_with(".part"))
            .map(|n| std::fs::metadata(dir.join(n)).map_or(0, |m| m.len()))
            .max()
            .unwrap_or(0)
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while part_size() < 200_000 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    first.kill().unwrap();
    first.wait().unwrap();
    let cut_at = part_size();
    assert!(
        (200_000..bytes.len() as u64).contains(&cut_at),
        "killed after {cut_at} bytes"
    );
    // No complete file while only a part has come.
    assert!(!dir.join("long.mp3").exists());

    let out = t.ok(&["download"]);
    assert!(out.contains("resumed at"), "{out}");
    assert_eq!(std::fs::read(dir.join("long.mp3")).unwrap(), bytes);
    assert_eq!(
        names_in(&dir),
        ["long.mp3"],
        "the part and its validator are gone"
    );
    let asked = server.requests_for("/slow-media/long.mp3");
    let range = asked
        .last()
        .unwrap()
        .headers
        .get("range")
        .cloned()
        .unwrap_or_default();
    let from: u64 = range
        .trim_start_matches("bytes=")
        .trim_end_matches('-')
        .parse()
        .unwrap();
    assert!(
        from >= cut_at.saturating_sub(64 * 1024) && from > 0,
        "{range} after {cut_at}"
    );
    assert!(asked.last().unwrap().headers.contains_key("if-range"));
}

#[test]
fn servers_cannot_place_a_file_outside_or_make_it_too_large_or_resume_wrongly() {
    let server = TestServer::start();
    let files = tempfile::tempdir().unwrap();
    let bytes = episode_bytes(50_000, 3);
    std::fs::write(files.path().join("named.mp3"), &bytes).unwrap();
    std::fs::write(files.path().join("resumed.mp3"), &bytes).unwrap();
    let enclosures = [
        // Content-Disposition: ../../../outside.mp3
        (server.url("/named-media/named.mp3"), bytes.len()),
        // The feed says 1 KB; the server never stops.
        (server.url("/endless.mp3"), 1_000),
        // Not a web address.
        ("file:///etc/passwd".to_string(), 100),
    ];
    std::fs::write(files.path().join("cast.rss"), podcast(&enclosures)).unwrap();
    server.serve_dir(files.path());
    let t = Tidings::new();
    std::fs::write(t.path().join("config.toml"), "[downloads]\nmax_mb = 1\n").unwrap();
    t.ok(&["add", &server.url("/files/cast.rss"), "--tag", "podcast"]);

    let run = t.run(&["download", "--newest", "5"]);
    assert!(!run.ok, "two of three failed: {}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("too large: more than 1 MB"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("only http(s) addresses are downloaded"),
        "{}",
        run.stderr
    );
    // The file: URL is not an enclosure a reader fetches at all, or it is
    // refused by name: either way nothing of /etc/passwd is written.
    let dir = downloads_dir(&t);
    assert_eq!(
        names_in(&dir),
        ["outside.mp3"],
        "nothing but the named file"
    );
    assert_eq!(std::fs::read(dir.join("outside.mp3")).unwrap(), bytes);
    assert!(!t.path().join("outside.mp3").exists());
    assert!(!Path::new("/outside.mp3").exists());

    // A server that answers a resumed download from byte 0 while claiming
    // the range: refused, the part dropped, and the next run starts clean.
    let t2 = Tidings::new();
    let url = server.url("/wrong-range/resumed.mp3");
    std::fs::write(
        files.path().join("wrong.rss"),
        podcast(&[(url.clone(), bytes.len())]),
    )
    .unwrap();
    t2.ok(&["add", &server.url("/files/wrong.rss"), "--tag", "podcast"]);
    let dir2 = downloads_dir(&t2);
    std::fs::create_dir_all(&dir2).unwrap();
    // What an interrupted run left: the first 10,000 bytes under the part's name.
    let part = format!(
        ".tidings-{:016x}.part",
        xxhash_rust::xxh3::xxh3_64(url.as_bytes())
    );
    std::fs::write(dir2.join(&part), &bytes[..10_000]).unwrap();
    let run = t2.run(&["download"]);
    assert!(!run.ok);
    assert!(
        run.stderr
            .contains("resumed at byte 0 where 10000 was asked"),
        "{}",
        run.stderr
    );
    assert!(!dir2.join(&part).exists(), "the wrong part is dropped");
    assert!(
        !dir2.join("resumed.mp3").exists(),
        "no file passes for complete"
    );
    t2.ok(&["download"]);
    assert_eq!(std::fs::read(dir2.join("resumed.mp3")).unwrap(), bytes);
}
