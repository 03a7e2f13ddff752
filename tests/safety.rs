//! Terminal and system safety (issue 11), through the real binary. A feed in
//! each format (RSS, Atom, JSON Feed) carries terminal escape sequences (OSC 52
//! clipboard writes, OSC 0 window titles, OSC 8 hyperlinks, DCS, CSI), raw C1
//! controls and bidi overrides in every field, both as XML character
//! references and as raw characters; it is served from the test's own
//! 127.0.0.1 server and subscribed to and refreshed with the binary. Then
//! neither the reader (every byte it writes, captured through a pty) nor any
//! command that prints feed text may pass one of them on. Links reach the
//! browser (a stand-in script that records its argv) only when they are
//! http(s), each as exactly one argument; an OPML or newsboat list whose
//! entries are commands runs nothing and says what it skipped.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::{Reader, TestServer};

// ---- the hostile feeds ------------------------------------------------------------------

/// The payloads as XML character references: what a feed can say in any text
/// or attribute (a lenient parser accepts even the C0 ones XML 1.0 forbids).
const REFS: &str = "&#27;]52;c;UkVGNTI=&#7; &#x1B;]0;ref-title&#x7; \
    &#27;]8;;http://evil.test/&#27;\\ref-link&#27;]8;;&#27;\\ &#27;P1$qm&#27;\\ \
    &#27;[8;99;99t &#x9b;8;77;77t &#x9d;52;c;UkVGQzE=&#x9c; &#x90;ref-dcs&#x9c; \
    &#x85;&#x8d;&#x9f; &#x202e;ref-rlo&#x202c; &#x2066;ref-lri&#x2069; \
    &#x202a;&#x202b;&#x202d;&#x2067;&#x2068;";

/// The same payloads as raw characters (ESC and BEL are not well-formed XML,
/// but feeds carry them and parsers accept them).
const RAW: &str = "\u{1b}]52;c;UkFXNTI=\u{7} \u{1b}]0;raw-title\u{7} \
    \u{1b}]8;;http://evil.test/\u{1b}\\raw-link\u{1b}]8;;\u{1b}\\ \u{1b}P1$qm\u{1b}\\ \
    \u{1b}[8;99;99t \u{9b}8;77;77t \u{9d}52;c;UkFXQzE=\u{9c} \u{90}raw-dcs\u{9c} \
    \u{85}\u{8d}\u{9f} \u{202e}raw-rlo\u{202c} \u{2066}raw-lri\u{2069} \
    \u{202a}\u{202b}\u{202d}\u{2067}\u{2068}";

/// HTML character references inside an article's HTML: html2text decodes
/// these when it renders, after everything stored was sanitised.
const HTML_REFS: &str = "&#27;]52;c;SFRNTA==&#7; &#x1b;]0;html-title&#x07; \
    &#155;8;77;77t &#x9d;52;c;SFRNTEMx&#x9c; &#8238;html-rlo&#8236; &#x2066;html-lri&#x2069;";

/// CSI sequences only the payloads hold (window resizes): the reader writes
/// CSI sequences of its own, never these.
const PAYLOAD_CSI: [&str; 2] = ["\u{1b}[8;99;99t", "\u{1b}[8;77;77t"];

/// An article body for feed `tag`: the payloads in text, a link target, a
/// link text, an image's alt text (the image is missing: a placeholder shows
/// it), preformatted text, a table and a list.
fn article_html(tag: &str, base: &str) -> String {
    format!(
        "<p>BODY-{tag} zeppelin {RAW} {HTML_REFS}</p>\
         <p><a href=\"http://evil.test/{tag}/&#27;]52;c;TElOSw==&#7;\">hostile link {HTML_REFS}</a></p>\
         <p><img src=\"{base}/img/missing-{tag}.png\" alt=\"alt {HTML_REFS} {RAW}\" title=\"t {HTML_REFS}\"></p>\
         <pre>pre {RAW}</pre><p><code>code {HTML_REFS}</code></p>\
         <table><tr><th>head {RAW}</th></tr><tr><td>cell {HTML_REFS}</td></tr></table>\
         <ul><li>item {RAW}</li></ul><blockquote>quote {HTML_REFS}</blockquote>"
    )
}

/// `text` escaped to go in XML text.
fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn hostile_rss(base: &str) -> String {
    let body = article_html("RSS", base);
    let summary = xml_escape(&format!("<p>Summary {HTML_REFS}</p>"));
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
<title>Hostile RSS {REFS} {RAW}</title>
<link>http://evil.test/rss?{REFS}</link>
<description>Channel {REFS} {RAW}</description>
<item>
<title>RSS item zeppelin {REFS} {RAW}</title>
<link>http://evil.test/rss/1?{REFS}</link>
<guid isPermaLink="false">rss-1</guid>
<author>ann@evil.test (Ann {REFS})</author>
<dc:creator>Ann {RAW}</dc:creator>
<category>rss-cat {REFS}</category>
<category><![CDATA[rss-cdata {RAW}]]></category>
<enclosure url="http://evil.test/rss/ep{REFS}.mp3" type="audio/mpeg{REFS}" length="1"/>
<description>{summary} {REFS}</description>
<content:encoded><![CDATA[{body}]]></content:encoded>
</item>
</channel>
</rss>"#
    )
}

fn hostile_atom(base: &str) -> String {
    let body = xml_escape(&article_html("ATOM", base));
    let html_title = xml_escape(&format!("<b>Hostile Atom</b> {HTML_REFS}"));
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<title type="html">{html_title} {REFS} {RAW}</title>
<subtitle>Subtitle {REFS}</subtitle>
<id>urn:hostile-atom</id>
<updated>2024-01-01T00:00:00Z</updated>
<author><name>Feed author {REFS}</name></author>
<link href="http://evil.test/atom?{REFS}"/>
<entry>
<title>Atom entry zeppelin {REFS} {RAW}</title>
<id>urn:hostile-atom:1</id>
<updated>2024-01-01T00:00:00Z</updated>
<link href="http://evil.test/atom/1?{REFS}"/>
<link rel="enclosure" href="http://evil.test/atom/ep{REFS}.mp3" type="audio/mpeg" length="1"/>
<author><name>Bob {REFS} {RAW}</name></author>
<category term="atom-term {REFS}" label="atom-label {RAW}"/>
<summary>Atom summary {REFS}</summary>
<content type="html">{body}</content>
</entry>
</feed>"#
    )
}

/// JSON escapes (`\u001b`) are what a JSON Feed would use; serde_json writes
/// the C0 controls so and the C1 and bidi ones raw.
fn hostile_json(base: &str) -> String {
    let payload = format!("{RAW} {}", decode_refs(REFS));
    serde_json::json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": format!("Hostile JSON {payload}"),
        "home_page_url": "http://evil.test/json",
        "description": format!("JSON description {payload}"),
        "authors": [{"name": format!("JSON feed author {payload}")}],
        "items": [{
            "id": "json-1",
            "url": format!("http://evil.test/json/1?{payload}"),
            "title": format!("JSON item zeppelin {payload}"),
            "content_html": article_html("JSON", base),
            "summary": format!("JSON summary {payload}"),
            "authors": [{"name": format!("Jay {payload}")}],
            "tags": [format!("json-tag {payload}")],
            "date_published": "2024-01-01T00:00:00Z",
            "attachments": [{"url": format!("http://evil.test/json/ep{payload}.mp3"), "mime_type": "audio/mpeg"}],
        }],
    })
    .to_string()
}

/// A document that is no feed: its refusal names the root element's
/// namespace, which carries the payloads.
fn not_a_feed() -> String {
    format!(
        r#"<?xml version="1.0"?><x:nofeed xmlns:x="http://evil.test/ns?{REFS}"><x:title>{REFS}</x:title></x:nofeed>"#
    )
}

/// A web page announcing two feeds whose titles carry the payloads.
fn hostile_page() -> String {
    format!(
        r#"<!DOCTYPE html><html><head><title>{REFS}</title>
<link rel="alternate" type="application/rss+xml" title="Announced RSS {REFS} {RAW}" href="hostile.rss">
<link rel="alternate" type="application/atom+xml" title="Announced Atom {HTML_REFS}" href="hostile.atom">
</head><body>{RAW}</body></html>"#
    )
}

/// The characters `&#N;` and `&#xN;` references name.
fn decode_refs(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("&#") {
        out.push_str(&rest[..at]);
        let end = rest[at..].find(';').unwrap() + at;
        let number = &rest[at + 2..end];
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).unwrap(),
            None => number.parse().unwrap(),
        };
        out.push(char::from_u32(code).unwrap());
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

// ---- what must not reach a terminal -----------------------------------------------------

/// A character a terminal would act on or that reorders a line: C0 controls
/// but tab and newline, DEL, C1 controls, bidi overrides and isolates. Written
/// out here rather than taken from `tidings::text`, so that a change there
/// cannot make this test blind too.
fn is_hostile(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// What in a command's output a terminal would act on, each with where it is.
/// The output must be UTF-8: a lone byte 0x9b is CSI to an 8-bit terminal.
fn cli_findings(bytes: &[u8]) -> Vec<String> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => return vec![format!("not UTF-8 at byte {}", e.valid_up_to())],
    };
    text.char_indices()
        .filter(|(_, c)| is_hostile(*c))
        .map(|(at, c)| format!("{c:?} at byte {at}: {:?}", around(text, at)))
        .collect()
}

/// What in the reader's output is not the reader's own drawing: anything but
/// text, CR, LF and complete CSI sequences (ESC [ parameters intermediates
/// final), which is all ratatui's crossterm backend writes; and any CSI
/// sequence only the payloads hold. An OSC (ESC ]), DCS (ESC P), a lone ESC,
/// a C1 control as a character, a bidi control, BEL: each is a finding.
/// The colour query the reader starts with (see [`terminal_findings`]).
const COLOUR_QUERY: &[u8] = b"\x1b]10;?\x07\x1b]11;?\x07";

fn terminal_findings(bytes: &[u8]) -> Vec<String> {
    // The reader's own first words, before anything of a feed: it asks the
    // terminal for its colours (OSC 10 and 11), to pick a palette.
    let bytes = bytes.strip_prefix(COLOUR_QUERY).unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => return vec![format!("not UTF-8 at byte {}", e.valid_up_to())],
    };
    let mut findings = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        i += 1;
        if c == '\u{1b}' {
            if chars.get(i).map(|(_, c)| *c) != Some('[') {
                findings.push(format!("ESC not starting a CSI: {:?}", around(text, at)));
                continue;
            }
            i += 1;
            while chars
                .get(i)
                .is_some_and(|(_, c)| ('\x30'..='\x3f').contains(c))
            {
                i += 1;
            }
            while chars
                .get(i)
                .is_some_and(|(_, c)| ('\x20'..='\x2f').contains(c))
            {
                i += 1;
            }
            match chars.get(i) {
                Some((_, c)) if ('\x40'..='\x7e').contains(c) => {
                    i += 1;
                    let end = chars.get(i).map_or(text.len(), |(at, _)| *at);
                    let sequence = &text[at..end];
                    if PAYLOAD_CSI.contains(&sequence) {
                        findings.push(format!("a payload's CSI {sequence:?}"));
                    }
                }
                _ => findings.push(format!("an unfinished CSI: {:?}", around(text, at))),
            }
        } else if c != '\r' && is_hostile(c) {
            findings.push(format!("{c:?} at byte {at}: {:?}", around(text, at)));
        }
    }
    findings
}

/// Up to 40 bytes either side of `at`, for a message.
fn around(text: &str, at: usize) -> &str {
    let mut start = at.saturating_sub(40);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (at + 40).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    &text[start..end]
}

/// Every string in a JSON value, keys included.
fn json_strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| json_strings(v, out)),
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                out.push(k.clone());
                json_strings(v, out);
            }
        }
        _ => {}
    }
}

// ---- the binary -------------------------------------------------------------------------

/// One user's tidings: a data dir, a config, and the binary pointed at them.
struct Tidings {
    dir: tempfile::TempDir,
}

struct Ran {
    args: Vec<String>,
    ok: bool,
    /// Standard output then standard error.
    bytes: Vec<u8>,
    stdout: String,
    stderr: String,
}

impl Tidings {
    fn new(config: &str) -> Tidings {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), config).unwrap();
        Tidings { dir }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    fn run(&self, args: &[&str]) -> Ran {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tidings"))
            .env_remove("TIDINGS_DATA_DIR")
            .env_remove("TIDINGS_CONFIG")
            .env_remove("TIDINGS_LOG")
            .arg("--data-dir")
            .arg(self.data())
            .arg("--config")
            .arg(self.config())
            .args(args)
            .output()
            .unwrap();
        let mut bytes = out.stdout.clone();
        bytes.extend_from_slice(&out.stderr);
        Ran {
            args: args.iter().map(|a| a.to_string()).collect(),
            ok: out.status.success(),
            bytes,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn ok(&self, args: &[&str]) -> Ran {
        let ran = self.run(args);
        assert!(
            ran.ok,
            "tidings {args:?} failed:\n{}{}",
            ran.stdout, ran.stderr
        );
        ran
    }
}

/// Short timeouts, no refresh when the reader starts, no pictures.
const CONFIG: &str = "[refresh]\nconnect_timeout_secs = 5\non_start = false\n";

/// The hostile feeds served and subscribed to, and one that is no feed.
struct Hostile {
    _server: TestServer,
    _files: tempfile::TempDir,
    tidings: Tidings,
    urls: Vec<String>,
    /// The output of every command that set this up.
    runs: Vec<Ran>,
}

fn subscribe_to_hostile_feeds() -> Hostile {
    let server = TestServer::start();
    let files = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("hostile.rss", hostile_rss(&server.base)),
        ("hostile.atom", hostile_atom(&server.base)),
        ("hostile.json", hostile_json(&server.base)),
        ("not-a-feed.xml", not_a_feed()),
        ("page.html", hostile_page()),
    ] {
        std::fs::write(files.path().join(name), text).unwrap();
    }
    server.serve_dir(files.path());
    let tidings = Tidings::new(CONFIG);
    let mut runs = Vec::new();
    let mut urls = Vec::new();
    for name in ["hostile.rss", "hostile.atom", "hostile.json"] {
        let url = server.url(&format!("/files/{name}"));
        runs.push(tidings.ok(&["add", &url]));
        urls.push(url);
    }
    let no_feed = server.url("/files/not-a-feed.xml");
    runs.push(tidings.run(&["add", &no_feed]));
    runs.push(tidings.ok(&["add", "--no-fetch", &no_feed]));
    urls.push(no_feed);
    // A second fetch of each, and the refusal of the one that is no feed.
    runs.push(tidings.run(&["refresh"]));
    // A page announcing two feeds: `add` lists them, by their titles.
    runs.push(tidings.run(&["add", &server.url("/files/page.html")]));
    Hostile {
        _server: server,
        _files: files,
        tidings,
        urls,
        runs,
    }
}

// ---- 1. what reaches the terminal ------------------------------------------------------

#[test]
fn no_command_prints_an_escape_sequence_a_c1_or_a_bidi_control_from_a_feed() {
    let mut hostile = subscribe_to_hostile_feeds();
    let t = &hostile.tidings;
    let mut runs = std::mem::take(&mut hostile.runs);
    for args in [
        &["list"][..],
        &["refresh", "--quiet"],
        &["refresh", "Hostile"],
        &["search", "zeppelin"],
        &["search", "hostile"],
        &["search", "ref-title"],
        &["stats"],
        &["stats", "--format", "json"],
        &["images", "stats"],
        &["images", "stats", "--format", "json"],
        &["export"],
        &["export", "--format", "json"],
    ] {
        runs.push(t.run(args));
    }
    // The text got through (so the checks below look at something).
    let all: String = runs.iter().map(|r| r.stdout.clone()).collect();
    for seen in [
        "Hostile RSS",
        "Hostile Atom",
        "Hostile JSON",
        "RSS item zeppelin",
        "Atom entry zeppelin",
        "JSON item zeppelin",
        "ref-title",
        "raw-title",
        "Announced RSS",
        "Announced Atom",
    ] {
        assert!(all.contains(seen), "no command printed {seen:?}:\n{all}");
    }

    let mut findings = Vec::new();
    for run in &runs {
        for finding in cli_findings(&run.bytes) {
            findings.push(format!("tidings {}: {finding}", run.args.join(" ")));
        }
    }
    // JSON export may write a control as an escape (`\u001b`) and still be safe
    // to print, but `jq -r` would print it raw: the export holds none at all,
    // neither raw nor escaped, because nothing stored holds one.
    let export = t.ok(&["export", "--format", "json"]);
    let stats = t.ok(&["stats", "--format", "json"]);
    for (what, json) in [("export", &export.stdout), ("stats", &stats.stdout)] {
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        let mut strings = Vec::new();
        json_strings(&value, &mut strings);
        for s in strings.iter().filter(|s| s.chars().any(is_hostile)) {
            findings.push(format!("JSON {what} holds {s:?}"));
        }
    }
    // And the last commands: remove prints the feed's name.
    for url in &hostile.urls {
        let run = t.ok(&["remove", url]);
        for finding in cli_findings(&run.bytes) {
            findings.push(format!("tidings remove: {finding}"));
        }
    }
    assert!(findings.is_empty(), "{}", findings.join("\n"));
}

#[test]
fn the_reader_writes_no_escape_sequence_c1_or_bidi_control_from_a_feed() {
    let hostile = subscribe_to_hostile_feeds();
    let t = &hostile.tidings;
    let dir = tempfile::tempdir().unwrap();
    let browser = recording_browser(dir.path());
    let mut reader = Reader::start(&t.data(), &t.config(), &browser.script);
    reader.expect("Hostile RSS");
    reader.expect("Hostile Atom");
    reader.expect("Hostile JSON");

    // Each hostile feed in turn (under "All unread" and "Starred"): its
    // article list, then its article opened (its text, image placeholder and
    // link list) and scrolled to the end.
    let mut bodies = Vec::new();
    reader.keys("g");
    reader.keys("j");
    for _ in 0..3 {
        reader.keys("j");
        reader.keys("l");
        reader.keys("\r");
        let body = reader.wait_for_any(&["BODY-RSS", "BODY-ATOM", "BODY-JSON"], &bodies);
        bodies.push(body.expect("an article of a hostile feed opened"));
        reader.keys("G");
        reader.expect("Links:");
        reader.keys("q");
        reader.keys("h");
    }
    bodies.sort();
    assert_eq!(bodies, ["BODY-ATOM", "BODY-JSON", "BODY-RSS"]);
    // Search results, the statistics view, the expanded status panel (the
    // refusal of the document that is no feed names its namespace).
    reader.keys("/");
    for c in "zeppelin".chars() {
        reader.keys(&c.to_string());
    }
    reader.keys("\r");
    reader.expect("Search “zeppelin” · 3 articles");
    reader.keys("\u{1b}");
    reader.keys("S");
    reader.expect("Statistics · 4 feeds");
    reader.keys("q");
    reader.keys("!");
    reader.expect("feeds failed their last fetch");
    reader.expect("not a feed: root element");
    reader.keys("!");
    reader.keys("q");
    reader.keys("q");
    assert!(reader.wait_for_exit().success());

    let mut findings = terminal_findings(&reader.all_output());
    // A refresh on a terminal draws its progress (feed names in it).
    let mut refresh = Reader::run(&t.data(), &t.config(), &browser.script, &["refresh"]);
    let output = refresh.all_output();
    let text = String::from_utf8_lossy(&output);
    assert!(text.contains("Hostile RSS"), "{text}");
    findings.extend(
        terminal_findings(&output)
            .into_iter()
            .map(|f| format!("tidings refresh: {f}")),
    );
    assert!(findings.is_empty(), "{}", findings.join("\n"));
    assert!(
        browser.calls().is_empty(),
        "nothing was to be opened: {:?}",
        browser.calls()
    );
}

// ---- 2. what reaches the browser --------------------------------------------------------

/// From the reader's first screen to the article list of the first feed
/// (below "All unread" and "Starred").
fn to_the_first_feeds_articles(reader: &mut Reader) {
    for key in ["g", "j", "j", "l"] {
        reader.keys(key);
    }
}

/// A stand-in browser: a script that appends its argument count and each
/// argument (one a line) to a log.
struct Browser {
    script: PathBuf,
    log: PathBuf,
}

fn recording_browser(dir: &Path) -> Browser {
    let script = dir.join("browser.sh");
    let log = dir.join("browser.log");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n{{ printf 'argc=%s\\n' \"$#\"; for a in \"$@\"; do printf 'arg=%s\\n' \"$a\"; done; }} >> '{}'\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    Browser { script, log }
}

impl Browser {
    /// Each start of the browser, as the list of its arguments.
    fn calls(&self) -> Vec<Vec<String>> {
        let Ok(log) = std::fs::read_to_string(&self.log) else {
            return Vec::new();
        };
        let mut calls: Vec<Vec<String>> = Vec::new();
        for line in log.lines() {
            if line.starts_with("argc=") {
                calls.push(Vec::new());
            } else if let Some(arg) = line.strip_prefix("arg=") {
                calls.last_mut().unwrap().push(arg.to_string());
            }
        }
        calls
    }

    /// Waits until the browser was started `n` times.
    fn wait_for_calls(&self, n: usize) -> Vec<Vec<String>> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.calls().len() < n && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.calls()
    }
}

/// A feed of two articles: one whose link is `javascript:`, one whose link
/// and body links carry shell metacharacters; its body also links with the
/// schemes a browser must never be handed. `marker` is the file a command
/// hidden in a link would create.
fn links_feed(marker: &Path) -> (String, String) {
    let marker = marker.display();
    let shell_url = format!(
        "http://evil.test/a;b?q=$(touch${{IFS}}{marker})&r=`touch${{IFS}}{marker}`;s|t&u='v'\"w\"x"
    );
    let escaped = quick_escape(&shell_url);
    let body = format!(
        "<p>SHELL-BODY \
         <a href=\"javascript:alert(1)\">js</a> <a href=\"JaVaScRiPt:alert(2)\">js2</a> \
         <a href=\" &#x09;javascript:alert(3)\">js3</a> \
         <a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">data</a> \
         <a href=\"file:///etc/passwd\">file</a> <a href=\"vbscript:msgbox(1)\">vb</a> \
         <a href=\"{escaped}\">shell</a> \
         <a href=\"https://evil.test/two words?x='y'&amp;z=|w\">spaces</a></p>"
    );
    let feed = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Links</title><link>http://evil.test/</link>
<item><title>Script link</title><link>javascript:alert(document.cookie)</link><guid>script</guid>
<pubDate>Tue, 03 Jan 2023 10:00:00 GMT</pubDate>
<description>&lt;p&gt;SCRIPT-BODY &lt;a href="javascript:alert(1)"&gt;js&lt;/a&gt; &lt;a href="data:text/html,x"&gt;data&lt;/a&gt; &lt;a href="file:///etc/passwd"&gt;file&lt;/a&gt;&lt;/p&gt;</description></item>
<item><title>Shell link</title><link>{escaped}</link><guid>shell</guid>
<pubDate>Mon, 02 Jan 2023 10:00:00 GMT</pubDate>
<description>{}</description></item>
</channel></rss>"#,
        quick_escape(&body)
    );
    (feed, shell_url)
}

fn quick_escape(text: &str) -> String {
    xml_escape(text).replace('"', "&quot;")
}

#[test]
fn only_web_links_reach_the_browser_each_as_one_argument() {
    let server = TestServer::start();
    let files = tempfile::tempdir().unwrap();
    let marker = files.path().join("marker");
    let (feed, shell_url) = links_feed(&marker);
    std::fs::write(files.path().join("links.rss"), feed).unwrap();
    server.serve_dir(files.path());
    let t = Tidings::new(CONFIG);
    t.ok(&["add", &server.url("/files/links.rss")]);

    // $BROWSER with "%s" where the address goes.
    let dir = tempfile::tempdir().unwrap();
    let browser = recording_browser(dir.path());
    let mut reader = Reader::start(&t.data(), &t.config(), &browser.script);
    reader.expect("Script link");
    // The feed (below "All unread" and "Starred"), its newest article: the
    // one whose link is javascript:. Neither o nor a digit opens anything.
    to_the_first_feeds_articles(&mut reader);
    reader.keys("\r");
    reader.expect("SCRIPT-BODY");
    for key in ["o", "1", "2", "3"] {
        reader.keys(key);
    }
    // The other article: its body's web links are [1] and [2]; no other
    // link has a number.
    reader.keys("q");
    reader.keys("j");
    reader.keys("\r");
    reader.expect("SHELL-BODY");
    reader.keys("G");
    reader.expect("Links:");
    let screen = reader.contents();
    assert!(
        screen.contains("│ [2] ")
            && !screen.contains("│ [3]")
            && !screen.contains("javascript")
            && !screen.contains("data:"),
        "{screen}"
    );
    for key in ["9", "3", "o", "1", "2"] {
        reader.keys(key);
    }
    let calls = browser.wait_for_calls(3);
    reader.keys("q");
    reader.keys("q");
    assert!(reader.wait_for_exit().success());

    assert_eq!(calls.len(), 3, "{calls:?}");
    for call in &calls {
        assert_eq!(call.len(), 1, "one argument: {call:?}");
        assert!(call[0].starts_with("http"), "{call:?}");
    }
    // o: the article's link (as the URL parser wrote it); 1: the same
    // address in the body, exactly as the feed wrote it; 2: an address with
    // spaces and quotes, still one argument.
    assert_eq!(calls[0][0], url::Url::parse(&shell_url).unwrap().as_str());
    for piece in ["$(touch${IFS}", "`touch${IFS}", ";s|t&u="] {
        assert!(calls[0][0].contains(piece), "{piece:?} kept in {calls:?}");
    }
    assert_eq!(calls[1][0], shell_url);
    assert_eq!(calls[2][0], "https://evil.test/two words?x='y'&z=|w");
    assert!(!marker.exists(), "a command in a link ran");

    // A browser from the config, with an argument of its own: the address
    // comes after it, still one argument; $BROWSER is not used.
    let other = tempfile::tempdir().unwrap();
    let configured = recording_browser(other.path());
    std::fs::write(
        t.config(),
        format!(
            "{CONFIG}[ui]\nbrowser = [\"{}\", \"--new-tab\"]\n",
            configured.script.display()
        ),
    )
    .unwrap();
    let mut reader = Reader::start(&t.data(), &t.config(), &browser.script);
    reader.expect("No unread articles");
    to_the_first_feeds_articles(&mut reader);
    reader.keys("j");
    reader.keys("\r");
    reader.expect("SHELL-BODY");
    reader.keys("o");
    let calls = configured.wait_for_calls(1);
    reader.keys("q");
    reader.keys("q");
    assert!(reader.wait_for_exit().success());
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].len(), 2, "{calls:?}");
    assert_eq!(calls[0][0], "--new-tab");
    assert!(calls[0][1].contains("$(touch${IFS}"), "{calls:?}");
    assert_eq!(browser.calls().len(), 3, "$BROWSER was not started again");
    assert!(!marker.exists(), "a command in a link ran");
}

#[test]
fn link_twelve_of_twenty_one_opens_by_its_digits_and_link_one_after_a_pause() {
    let server = TestServer::start();
    let files = tempfile::tempdir().unwrap();
    let body: String = (1..=21)
        .map(|n| format!(r#"<p><a href="https://example.org/link/{n}">link {n}</a></p>"#))
        .collect();
    let feed = format!(
        r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Many links</title>
<link>https://example.org/</link><description>d</description>
<item><title>Twenty-one links</title><link>https://example.org/post</link><guid>p1</guid>
<pubDate>Mon, 02 Jan 2023 10:00:00 GMT</pubDate>
<description>{}</description></item></channel></rss>"#,
        quick_escape(&format!("<p>MANY-LINKS</p>{body}"))
    );
    std::fs::write(files.path().join("many.rss"), feed).unwrap();
    server.serve_dir(files.path());
    let t = Tidings::new(CONFIG);
    t.ok(&["add", &server.url("/files/many.rss")]);
    let dir = tempfile::tempdir().unwrap();
    let browser = recording_browser(dir.path());
    let mut reader = Reader::start(&t.data(), &t.config(), &browser.script);
    reader.expect("Many links");
    to_the_first_feeds_articles(&mut reader);
    reader.keys("\r");
    reader.expect("MANY-LINKS");
    reader.keys("G");
    reader.expect("[21] https://example.org/link/21");
    // 1 waits for a second digit; 2 makes 12, which opens at once.
    reader.keys("1");
    reader.expect("link 1…");
    reader.keys("2");
    let calls = browser.wait_for_calls(1);
    assert_eq!(calls, [["https://example.org/link/12"]]);
    // 1 alone opens link 1 after a pause.
    reader.keys("1");
    let calls = browser.wait_for_calls(2);
    reader.keys("q");
    reader.keys("q");
    assert!(reader.wait_for_exit().success());
    assert_eq!(calls[1], ["https://example.org/link/1"]);
}

/// The reader open on the one episode of a podcast "Cast" served by a local
/// server, `[ui] player` a recording stand-in (the browser another).
struct Episode {
    _server: TestServer,
    _files: tempfile::TempDir,
    _dirs: [tempfile::TempDir; 2],
    t: Tidings,
    player: Browser,
    browser: Browser,
    reader: Reader,
}

/// `item` gives the episode's enclosure (and what goes with it), with the
/// server to point at and the served directory to put files in.
fn open_episode(item: impl FnOnce(&TestServer, &Path) -> String) -> Episode {
    let server = TestServer::start();
    let files = tempfile::tempdir().unwrap();
    let feed = format!(
        r#"<?xml version="1.0"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>Cast</title>
<link>https://example.test/</link><description>d</description>
<item><title>Episode one</title><guid>e1</guid><pubDate>Mon, 02 Jan 2023 10:00:00 GMT</pubDate>
<description>EPISODE-BODY</description>{}</item></channel></rss>"#,
        item(&server, files.path())
    );
    std::fs::write(files.path().join("cast.rss"), feed).unwrap();
    server.serve_dir(files.path());
    let t = Tidings::new(CONFIG);
    t.ok(&["add", &server.url("/files/cast.rss")]);
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let player = recording_browser(dirs[0].path());
    let browser = recording_browser(dirs[1].path());
    std::fs::write(
        t.config(),
        format!("{CONFIG}[ui]\nplayer = [\"{}\"]\n", player.script.display()),
    )
    .unwrap();
    let mut reader = Reader::start(&t.data(), &t.config(), &browser.script);
    reader.expect("Cast");
    for key in ["g", "j", "j", "l", "\r"] {
        reader.keys(key);
    }
    reader.expect("EPISODE-BODY");
    Episode {
        _server: server,
        _files: files,
        _dirs: dirs,
        t,
        player,
        browser,
        reader,
    }
}

#[test]
fn p_hands_an_episode_to_the_configured_player_as_one_argument() {
    let marker_dir = tempfile::tempdir().unwrap();
    let marker = marker_dir.path().join("marker");
    // An address with spaces, quotes and a command substitution: one argument.
    let audio = format!(
        "https://cdn.example.test/ep 1.mp3?x='$(touch {})'",
        marker.display()
    );
    let mut episode = open_episode(|_, _| {
        format!(
            r#"<itunes:duration>42:05</itunes:duration><enclosure url="{}" type="audio/mpeg" length="48213000"/>"#,
            quick_escape(&audio)
        )
    });
    let reader = &mut episode.reader;
    reader.expect("48.2 MB · 42:05  p plays · D downloads");
    reader.keys("p");
    let calls = episode.player.wait_for_calls(1);
    reader.keys("q");
    reader.keys("q");
    assert!(reader.wait_for_exit().success());
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].len(), 1, "one argument: {calls:?}");
    assert_eq!(
        url::Url::parse(&calls[0][0]).unwrap(),
        url::Url::parse(&audio).unwrap()
    );
    assert!(
        episode.browser.calls().is_empty(),
        "the player, not the browser"
    );
    assert!(!marker.exists(), "a command in the address ran");
}

#[test]
fn d_downloads_an_episode_in_the_reader_and_the_file_plays_from_the_downloads_list() {
    let audio: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let mut episode = open_episode(|server, files| {
        std::fs::write(files.join("ep.mp3"), &audio).unwrap();
        format!(
            r#"<enclosure url="{}" type="audio/mpeg" length="{}"/>"#,
            server.url("/media/ep.mp3"),
            audio.len()
        )
    });
    let reader = &mut episode.reader;
    reader.keys("D");
    reader.expect("300 KB · downloaded");
    let file = episode.t.data().join("downloads").join("ep.mp3");
    assert_eq!(std::fs::read(&file).unwrap(), audio);
    reader.keys("P");
    reader.expect("Episode one · Cast · ep.mp3");
    reader.keys("\r");
    let calls = episode.player.wait_for_calls(1);
    reader.keys("\u{1b}");
    reader.keys("q");
    reader.keys("q");
    assert!(reader.wait_for_exit().success());
    assert_eq!(calls, [[file.display().to_string()]]);
}

// ---- 4. imports run nothing -------------------------------------------------------------

#[test]
fn imports_of_command_entries_run_nothing_and_say_what_they_skipped() {
    let server = TestServer::start();
    let files = tempfile::tempdir().unwrap();
    std::fs::write(files.path().join("ok.xml"), support::FEED_V1).unwrap();
    server.serve_dir(files.path());
    let marker = files.path().join("marker");
    let m = marker.display();
    let ok = server.url("/files/ok.xml");
    let touch = format!("touch {m}");
    let opml = format!(
        r#"<?xml version="1.0"?>
<opml version="2.0"><head><title>hostile</title></head><body>
<outline text="exec" xmlUrl="exec:{touch} {REFS}"/>
<outline text="filter" xmlUrl="filter:{touch}:{ok}"/>
<outline text="query" xmlUrl="query:Unread:unread = &quot;yes&quot;"/>
<outline text="pipe" xmlUrl="|{touch}"/>
<outline text="file" xmlUrl="file:///etc/passwd"/>
<outline text="bare command" type="script" xmlUrl="{touch}"/>
<outline text="commands in attributes {REFS}" title="Title {REFS}" category="tag {REFS}" xmlUrl="{ok}?opml" exec="{touch}" command="{touch}" filter="{touch}" script="{touch}" onclick="{touch}" type="exec"/>
<outline text="shell in the address" xmlUrl="{ok}?x=$(touch${{IFS}}{m})&amp;y=`touch${{IFS}}{m}`"/>
</body></opml>"#
    );
    let urls = format!(
        "\"exec:{touch} {RAW}\"\n\
         \"filter:{touch}:{ok}\" tag\n\
         \"query:Unread:unread = yes\"\n\
         |{touch}\n\
         file:///etc/passwd\n\
         {ok}?urls=1&x=$(touch${{IFS}}{m}) \"tag {RAW}\" \"~$(touch {m}) {RAW}\"\n"
    );
    // The urls file's query line becomes a query feed; OPML has none.
    for (name, text, skipped) in [("subscriptions.opml", opml, 6), ("urls", urls, 4)] {
        let t = Tidings::new(CONFIG);
        let path = files.path().join(name);
        std::fs::write(&path, text).unwrap();
        let import = t.ok(&["import", path.to_str().unwrap()]);
        let refresh = t.run(&["refresh"]);
        let list = t.ok(&["list"]);
        assert!(!marker.exists(), "{name}: a command ran");

        // What was skipped is said, each with its reason.
        let said = |needle: &str| import.stderr.lines().filter(|l| l.contains(needle)).count();
        assert_eq!(said("skipped "), skipped, "{name}:\n{}", import.stderr);
        assert_eq!(
            said("runs a command: tidings never does"),
            3,
            "{name}:\n{}",
            import.stderr
        );
        if name == "urls" {
            assert!(
                import.stdout.contains("and 1 query feed"),
                "{}",
                import.stdout
            );
        }
        assert!(
            import.stdout.contains(&format!("{skipped} skipped")),
            "{}",
            import.stdout
        );
        // Only the web addresses are subscribed to, and fetched.
        let feeds = list.stdout.lines().skip(1).count();
        let web = if name == "urls" { 1 } else { 2 };
        assert_eq!(feeds, web, "{name}:\n{}", list.stdout);
        assert!(refresh.ok, "{name}:\n{}{}", refresh.stdout, refresh.stderr);
        assert!(!list.stdout.contains("exec:") && !list.stdout.contains("file:"));
        // What they print of the list's text passes nothing on to the terminal.
        let mut findings = cli_findings(&import.bytes);
        findings.extend(cli_findings(&list.bytes));
        findings.extend(cli_findings(&t.ok(&["export"]).bytes));
        assert!(findings.is_empty(), "{name}: {}", findings.join("\n"));
    }
}
