//! A local HTTP server for the tests, on 127.0.0.1 with a port the OS picks.
//! It serves the misbehaviours a feed reader meets (304, redirects, 410, 429,
//! 500, a hang, malformed XML, a feed cut short after its first item, a gzip
//! bomb, an HTML page that announces a feed)
//! and a directory of files (the seed blog), and records every request so that
//! tests can assert what tidings sent. It runs on its own runtime, so both
//! plain and async tests can use it. [`Reader`] runs the real binary in a
//! pseudo-terminal and keeps both the screen and every byte it wrote;
//! [`Tidings`] runs its commands against a data directory of the test's own.
#![allow(dead_code)]

pub mod proxies;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::StreamExt;
use portable_pty::{CommandBuilder, PtySize, native_pty_system};

pub const FEED_V1: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Local News</title><link>http://local.test/</link><ttl>5</ttl>
<item><title>First story</title><link>http://local.test/1</link><guid>story-1</guid><pubDate>Mon, 02 Jan 2023 10:00:00 GMT</pubDate><description>&lt;p&gt;The &lt;b&gt;first&lt;/b&gt; body about zeppelins&lt;/p&gt;</description></item>
<item><title>Second story</title><link>http://local.test/2</link><guid>story-2</guid><pubDate>Tue, 03 Jan 2023 10:00:00 GMT</pubDate><description>Second body</description></item>
</channel></rss>"#;

pub const ATOM_FEED: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Moved Blog</title><id>urn:moved</id><updated>2023-01-01T00:00:00Z</updated>
<entry><title>Moved entry</title><id>urn:moved:1</id><link href="/posts/1"/><updated>2023-01-01T00:00:00Z</updated><content type="html">&lt;p&gt;hello&lt;/p&gt;</content></entry>
</feed>"#;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub headers: HashMap<String, String>,
}

#[derive(Default)]
pub struct ServerState {
    pub requests: Mutex<Vec<Seen>>,
    /// Extra files served under /files/ (the seed blog).
    pub files_dir: Mutex<Option<PathBuf>>,
    /// Per-path counters for paths whose answer changes over time.
    pub hits: Mutex<HashMap<String, u32>>,
    /// Requests being answered right now, and the most there ever were.
    pub in_flight: AtomicUsize,
    /// Bytes the streaming routes have handed to the connection.
    pub streamed_bytes: AtomicUsize,
    pub max_in_flight: AtomicUsize,
}

pub struct TestServer {
    pub base: String,
    pub state: Arc<ServerState>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl TestServer {
    pub fn start() -> TestServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let state = Arc::new(ServerState::default());
        let app = Router::new()
            .route("/etag.xml", get(etag_feed))
            .route("/moved.xml", get(|| async { redirect(StatusCode::MOVED_PERMANENTLY, "/new-home.xml") }))
            .route("/temporary.xml", get(|| async { redirect(StatusCode::FOUND, "/new-home.xml") }))
            .route("/loop.xml", get(|| async { redirect(StatusCode::FOUND, "/loop.xml") }))
            .route("/to-file.xml", get(|| async { redirect(StatusCode::FOUND, "file:///etc/passwd") }))
            .route("/new-home.xml", get(|| async { xml(ATOM_FEED) }))
            .route("/gone.xml", get(|| async { StatusCode::GONE }))
            .route("/busy.xml", get(|| async {
                (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "3600")]).into_response()
            }))
            .route("/error.xml", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
            .route("/flaky.xml", get(flaky_feed))
            .route("/hang.xml", get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                xml(FEED_V1)
            }))
            .route("/slow.xml", get(|| async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                xml(FEED_V1)
            }))
            .route("/malformed.xml", get(|| async { xml(&FEED_V1[..FEED_V1.len() / 2]) }))
            .route("/cut-short.xml", get(|| async { xml(&FEED_V1[..FEED_V1.find("Second body").unwrap()]) }))
            .route("/bomb.xml", get(|| async { gzip_bomb() }))
            .route("/page.html", get(|| async {
                html(r#"<!DOCTYPE html><html><head><title>A blog</title>
                <link rel="alternate" type="application/rss+xml" title="Local News" href="/etag.xml">
                </head><body><p>Welcome</p></body></html>"#)
            }))
            .route("/two-feeds.html", get(|| async {
                html(r#"<!DOCTYPE html><html><head>
                <link rel="alternate" type="application/rss+xml" title="Posts" href="/etag.xml">
                <link rel="alternate" type="application/atom+xml" title="Comments" href="/new-home.xml">
                </head><body></body></html>"#)
            }))
            .route("/no-feed.html", get(|| async { html("<!DOCTYPE html><html><body>nothing</body></html>") }))
            .route("/files/{*path}", get(serve_file))
            // Enclosures: ranges answered, slowly, with a name, or wrongly.
            .route("/media/{*path}", get(|s, p, h| media(s, p, h, Media::Plain)))
            .route("/slow-media/{*path}", get(|s, p, h| media(s, p, h, Media::Slow)))
            .route("/named-media/{*path}", get(|s, p, h| media(s, p, h, Media::Named)))
            .route("/wrong-range/{*path}", get(|s, p, h| media(s, p, h, Media::WrongRange)))
            .route("/endless.mp3", get(|| async {
                let chunks = futures_util::stream::iter(0..u32::MAX)
                    .map(|_| Ok::<_, std::io::Error>(vec![0u8; 64 * 1024]));
                ([(header::CONTENT_TYPE, "audio/mpeg")], axum::body::Body::from_stream(chunks))
                    .into_response()
            }))
            // Hostile images.
            .route("/img/huge.png", get(huge_image))
            .route("/img/bomb.png", get(|| async { png_response(png_claiming(100_000, 100_000)) }))
            .route("/img/fake.png", get(|| async { png_response(b"<!DOCTYPE html><html>not an image</html>".to_vec()) }))
            .route("/img/loop.png", get(|| async { redirect(StatusCode::FOUND, "/img/loop.png") }))
            .route("/img/hang.png", get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                png_response(png_claiming(1, 1))
            }))
            .layer(axum::middleware::from_fn_with_state(state.clone(), record))
            .with_state(state.clone());
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
        TestServer {
            base: format!("http://{addr}"),
            state,
            runtime: Some(runtime),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn serve_dir(&self, dir: &Path) {
        *self.state.files_dir.lock().unwrap() = Some(dir.to_path_buf());
    }

    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    /// Requests made for `path`, in order.
    pub fn requests_for(&self, path: &str) -> Vec<Seen> {
        self.state
            .requests
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.path == path)
            .cloned()
            .collect()
    }
}

async fn record(
    State(state): State<Arc<ServerState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let headers = request
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    state.requests.lock().unwrap().push(Seen {
        path: request.uri().path().to_string(),
        headers,
    });
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let response = next.run(request).await;
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    response
}

/// A gigabyte of "image" sent in chunks with no Content-Length: only counting
/// the bytes as they come can stop it (the stream ends when the client hangs up).
async fn huge_image(State(state): State<Arc<ServerState>>) -> Response {
    let sent = state.clone();
    let chunks = futures_util::stream::iter(0..16 * 1024).map(move |_| {
        sent.streamed_bytes.fetch_add(64 * 1024, Ordering::SeqCst);
        Ok::<_, std::io::Error>(vec![0x89u8; 64 * 1024])
    });
    let body = axum::body::Body::from_stream(chunks);
    ([(header::CONTENT_TYPE, "image/png")], body).into_response()
}

fn png_response(bytes: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "image/png")], bytes).into_response()
}

/// A PNG whose header claims `width` × `height` pixels, with one tiny data
/// chunk: what a decompression bomb looks like before it is decoded.
pub fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &b in bytes {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    fn chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let mut crc_input = kind.to_vec();
        crc_input.extend_from_slice(data);
        out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
        out
    }
    let mut header = width.to_be_bytes().to_vec();
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &header));
    png.extend(chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    png.extend(chunk(b"IEND", &[]));
    png
}

fn xml(body: &str) -> Response {
    (
        [(header::CONTENT_TYPE, "application/rss+xml; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

fn html(body: &str) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

fn redirect(status: StatusCode, to: &str) -> Response {
    (status, [(header::LOCATION, to.to_string())]).into_response()
}

/// 200 with ETag "v1" and a Last-Modified; a request that sends "v1" back gets
/// a 304 that carries a new ETag "v2"; one that sends "v2" gets a plain 304.
async fn etag_feed(headers: HeaderMap) -> Response {
    let sent = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match sent {
        "\"v1\"" => (StatusCode::NOT_MODIFIED, [(header::ETAG, "\"v2\"")]).into_response(),
        "\"v2\"" => StatusCode::NOT_MODIFIED.into_response(),
        _ => (
            [
                (header::CONTENT_TYPE, "application/rss+xml"),
                (header::ETAG, "\"v1\""),
                (header::LAST_MODIFIED, "Tue, 03 Jan 2023 10:00:00 GMT"),
            ],
            FEED_V1,
        )
            .into_response(),
    }
}

/// The feed on the first request, HTTP 500 on every later one.
async fn flaky_feed(State(state): State<Arc<ServerState>>) -> Response {
    let n = {
        let mut hits = state.hits.lock().unwrap();
        let n = hits.entry("flaky".into()).or_default();
        *n += 1;
        *n
    };
    if n == 1 {
        xml(FEED_V1)
    } else {
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    }
}

/// 16 MiB of spaces inside a feed, gzip-compressed to a few dozen KiB: one
/// compressed MiB repeated as 16 gzip members (which a decoder must read as one
/// stream), so the test server does not spend seconds compressing.
fn gzip_bomb() -> Response {
    static MEMBER: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let member = MEMBER.get_or_init(|| {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&vec![b' '; 1 << 20]).unwrap();
        enc.finish().unwrap()
    });
    let mut head = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    head.write_all(b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>")
        .unwrap();
    let mut body = head.finish().unwrap();
    for _ in 0..16 {
        body.extend_from_slice(member);
    }
    (
        [
            (header::CONTENT_TYPE, "application/rss+xml"),
            (header::CONTENT_ENCODING, "gzip"),
        ],
        body,
    )
        .into_response()
}

async fn serve_file(
    State(state): State<Arc<ServerState>>,
    UrlPath(path): UrlPath<String>,
) -> Response {
    let Some(dir) = state.files_dir.lock().unwrap().clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if path.split('/').any(|part| part == "..") {
        return StatusCode::FORBIDDEN.into_response();
    }
    match std::fs::read(dir.join(&path)) {
        Ok(bytes) => {
            let kind = if path.ends_with(".png") {
                "image/png"
            } else {
                "application/rss+xml"
            };
            ([(header::CONTENT_TYPE, kind)], bytes).into_response()
        }
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// How a media route answers.
#[derive(Clone, Copy, PartialEq)]
enum Media {
    /// Ranges as HTTP says, with an ETag and `If-Range`.
    Plain,
    /// The same, 16 KB every 20 ms: slow enough to be interrupted.
    Slow,
    /// With `Content-Disposition` naming a file outside any directory.
    Named,
    /// A range answered from byte 0 while claiming `206`.
    WrongRange,
}

/// A file of the served directory as an enclosure host sends it.
async fn media(
    State(state): State<Arc<ServerState>>,
    UrlPath(path): UrlPath<String>,
    headers: HeaderMap,
    how: Media,
) -> Response {
    let Some(dir) = state.files_dir.lock().unwrap().clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if path.split('/').any(|part| part == "..") {
        return StatusCode::FORBIDDEN.into_response();
    }
    let Ok(bytes) = std::fs::read(dir.join(&path)) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!(
        "\"{}-{}\"",
        bytes.len(),
        bytes.iter().map(|&b| b as u64).sum::<u64>()
    );
    let asked = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("bytes="))
        .and_then(|v| v.strip_suffix('-'))
        .and_then(|v| v.parse::<usize>().ok());
    let same = headers
        .get(header::IF_RANGE)
        .is_none_or(|v| v.to_str().ok() == Some(etag.as_str()));
    let mut response_headers = vec![
        (header::CONTENT_TYPE, "audio/mpeg".to_string()),
        (header::ETAG, etag.clone()),
        (header::ACCEPT_RANGES, "bytes".to_string()),
    ];
    if how == Media::Named {
        response_headers.push((
            header::CONTENT_DISPOSITION,
            r#"attachment; filename="../../../outside.mp3""#.to_string(),
        ));
    }
    let (status, body) = match asked {
        Some(start) if same && how == Media::WrongRange => {
            response_headers.push((
                header::CONTENT_RANGE,
                format!("bytes 0-{}/{}", bytes.len() - 1, bytes.len()),
            ));
            let _ = start;
            (StatusCode::PARTIAL_CONTENT, bytes)
        }
        Some(start) if same && start < bytes.len() => {
            response_headers.push((
                header::CONTENT_RANGE,
                format!("bytes {start}-{}/{}", bytes.len() - 1, bytes.len()),
            ));
            (StatusCode::PARTIAL_CONTENT, bytes[start..].to_vec())
        }
        Some(start) if same => {
            response_headers.push((header::CONTENT_RANGE, format!("bytes */{}", bytes.len())));
            let _ = start;
            (StatusCode::RANGE_NOT_SATISFIABLE, Vec::new())
        }
        _ => (StatusCode::OK, bytes),
    };
    let mut map = HeaderMap::new();
    for (name, value) in response_headers {
        map.insert(name, value.parse().unwrap());
    }
    map.insert(
        header::CONTENT_LENGTH,
        body.len().to_string().parse().unwrap(),
    );
    if how == Media::Slow {
        let chunks: Vec<Vec<u8>> = body.chunks(16 * 1024).map(<[u8]>::to_vec).collect();
        let stream = futures_util::stream::iter(chunks).then(|chunk| async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok::<_, std::io::Error>(chunk)
        });
        return (status, map, axum::body::Body::from_stream(stream)).into_response();
    }
    (status, map, body).into_response()
}

/// `../shared/` beside the project, when this checkout has it.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    dir.is_dir().then_some(dir)
}

/// Says plainly that a test did not run, and why.
/// Written straight to the process's standard error, past the test harness's
/// output capture, so that `cargo test` shows it even though the test passes.
pub fn skip(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED {test}: {why}");
}

/// Writes the seed blog's feed and images (../shared/fixtures/seed) for `base`
/// into a temp dir; `None` (after saying so) when ../shared is absent.
pub fn seed_blog(base_url: &str, test: &str) -> Option<tempfile::TempDir> {
    let Some(shared) = shared_dir() else {
        skip(test, "../shared/fixtures/seed is not in this checkout");
        return None;
    };
    let out = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("python3")
        .arg(shared.join("fixtures/seed/make_feed.py"))
        .args(["--base-url", base_url, "--out"])
        .arg(out.path())
        .stdout(std::process::Stdio::null())
        .status();
    match status {
        Ok(s) if s.success() => Some(out),
        other => {
            skip(
                test,
                &format!("python3 could not write the seed feed: {other:?}"),
            );
            None
        }
    }
}

/// The files under `dir` and its subdirectories (the image cache keeps its
/// files in 256 of them); none when `dir` does not exist.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// gofeed's translator cases as (input, expected) pairs, sorted: RSS and
/// Atom inputs are `NAME.xml` beside `NAME.json`; JSON Feed inputs are
/// `NAME.json` beside `NAME_expected.json`.
pub fn translator_cases(dir: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut cases = Vec::new();
    for kind in ["rss", "atom", "json"] {
        let Ok(entries) = std::fs::read_dir(dir.join(kind)) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let expected = if kind == "json" {
                if name.ends_with("_expected.json") {
                    continue;
                }
                path.with_file_name(name.replace(".json", "_expected.json"))
            } else if name.ends_with(".xml") {
                path.with_extension("json")
            } else {
                continue;
            };
            if expected.is_file() {
                cases.push((path, expected));
            }
        }
    }
    cases
}

/// A running tidings in a pty, with the screen as a terminal would show it.
pub struct Reader {
    screen: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    output: std::thread::JoinHandle<()>,
}

impl Reader {
    pub fn start(
        data_dir: &std::path::Path,
        config: &std::path::Path,
        browser: &std::path::Path,
    ) -> Reader {
        Reader::run(data_dir, config, browser, &[])
    }

    /// `tidings ARGS` in the pty: a command as it runs on a terminal.
    pub fn run(
        data_dir: &std::path::Path,
        config: &std::path::Path,
        browser: &std::path::Path,
        args: &[&str],
    ) -> Reader {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: 40,
                cols: 120,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_tidings"));
        command.arg("--data-dir");
        command.arg(data_dir);
        command.arg("--config");
        command.arg(config);
        command.args(args);
        command.env("TERM", "xterm-256color");
        command.env_remove("NO_COLOR");
        command.env("BROWSER", format!("{} %s", browser.display()));
        let child = pty.slave.spawn_command(command).unwrap();
        drop(pty.slave);
        let mut output = pty.master.try_clone_reader().unwrap();
        let writer = pty.master.take_writer().unwrap();
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            std::num::NonZero::new(40).unwrap(),
            std::num::NonZero::new(120).unwrap(),
            0,
        )));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let (screen2, raw2) = (screen.clone(), raw.clone());
        let output = std::thread::spawn(move || {
            let _master = pty.master; // closing it early would hang up the child
            let mut buf = [0u8; 8192];
            while let Ok(n) = output.read(&mut buf) {
                if n == 0 {
                    break;
                }
                screen2.lock().unwrap().process(&buf[..n]);
                raw2.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Reader {
            screen,
            raw,
            writer,
            child,
            output,
        }
    }

    /// Every byte tidings wrote to the terminal so far.
    pub fn raw(&self) -> Vec<u8> {
        self.raw.lock().unwrap().clone()
    }

    /// Every byte tidings wrote, once it has quit: waits (with a deadline)
    /// until the terminal has given its last output.
    pub fn all_output(&mut self) -> Vec<u8> {
        self.wait_for_exit();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.output.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.raw()
    }

    pub fn contents(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    /// Waits until the screen shows `text`.
    pub fn expect(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.contents().contains(text) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "the screen never showed {text:?}; it shows:\n{}",
            self.contents()
        );
    }

    /// Waits until the screen shows one of `texts` not yet in `seen` and
    /// returns it; `None` when none shows within a few seconds.
    pub fn wait_for_any(&self, texts: &[&str], seen: &[String]) -> Option<String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            let contents = self.contents();
            if let Some(found) = texts
                .iter()
                .find(|t| contents.contains(**t) && !seen.iter().any(|s| s == **t))
            {
                return Some(found.to_string());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn keys(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        // One key at a time, as typed.
        std::thread::sleep(Duration::from_millis(60));
    }

    pub fn wait_for_exit(&mut self) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        panic!(
            "tidings did not quit; the screen shows:\n{}",
            self.contents()
        );
    }
}

/// One user's tidings: a temp data dir, and commands pointed at it.
/// The proxy variables set empty: a machine's own proxy must not carry the
/// tests' requests to 127.0.0.1 (the proxy tests set them themselves).
pub fn no_proxy_variables() -> Vec<(&'static str, &'static str)> {
    [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ]
    .into_iter()
    .map(|name| (name, ""))
    .collect()
}

pub struct Tidings {
    pub dir: tempfile::TempDir,
}

/// What a finished command printed.
pub struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
    pub raw: Vec<u8>,
}

impl Tidings {
    pub fn new() -> Tidings {
        Tidings {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Short timeouts, for tests whose server hangs on purpose.
    pub fn with_short_timeouts() -> Tidings {
        let t = Tidings::new();
        std::fs::write(
            t.dir.path().join("config.toml"),
            "[refresh]\nread_timeout_secs = 1\ntotal_timeout_secs = 2\nconnect_timeout_secs = 1\n",
        )
        .unwrap();
        t
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn database(&self) -> PathBuf {
        self.path().join("tidings.db")
    }

    pub fn backup(&self) -> PathBuf {
        self.path().join("subscriptions.opml")
    }

    pub fn command(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::cargo_bin("tidings").unwrap();
        cmd.env_remove("TIDINGS_DATA_DIR")
            .env_remove("TIDINGS_LOG")
            .envs(no_proxy_variables())
            .arg("--data-dir")
            .arg(self.path());
        cmd.timeout(std::time::Duration::from_secs(60));
        cmd
    }

    /// Starts a command that runs while the test goes on, its output piped.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        std::process::Command::new(env!("CARGO_BIN_EXE_tidings"))
            .env_remove("TIDINGS_DATA_DIR")
            .env_remove("TIDINGS_LOG")
            .envs(no_proxy_variables())
            .arg("--data-dir")
            .arg(self.path())
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let out = self.command().args(args).output().unwrap();
        let mut raw = out.stdout.clone();
        raw.extend_from_slice(&out.stderr);
        Run {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            raw,
        }
    }

    /// Runs a command that must succeed; its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert!(
            run.ok,
            "tidings {args:?} failed\nstdout:\n{}\nstderr:\n{}",
            run.stdout, run.stderr
        );
        run.stdout
    }

    pub fn export_json(&self) -> serde_json::Value {
        let out = self.ok(&["export", "--format", "json"]);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("export is not JSON ({e}):\n{out}"))
    }
}
