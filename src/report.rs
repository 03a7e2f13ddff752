//! The figures people read, the same on the command line and on the screen:
//! number and date formats ([`thousands`], [`megabytes`], [`ago`],
//! [`rfc3339`]), a run's
//! [`summary_line`], and `tidings stats` as text for people and JSON for
//! scripts (the last refresh run with its slowest feeds and how many feeds
//! had a warning at their last fetch, then one line per feed: last attempt
//! and success, failure streak, median latency, share of 304s, articles per
//! week, newest article, last error; then the feeds' warnings). Pure
//! formatting over values from the store; it imports neither `cli` nor `ui`.

use std::io::Write;

use serde_json::json;

use crate::model::{ErrorKind, FeedStats, ImageStatus, RunStats, SlowFetch};
use crate::store::ImageTotals;
use crate::text::truncate;

/// Counts by reason as a JSON object (`{"HTTP 404": 1, …}`), in order.
pub fn by_reason(counts: &[(String, u64)]) -> serde_json::Value {
    counts
        .iter()
        .map(|(reason, n)| (reason.clone(), serde_json::Value::from(*n)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// Counts by reason in brackets, for a line of text (` (HTTP 404: 1,
/// timeout: 3)`), or nothing when there are none.
pub fn by_reason_text(counts: &[(String, u64)]) -> String {
    if counts.is_empty() {
        return String::new();
    }
    let reasons: Vec<String> = counts
        .iter()
        .map(|(why, n)| format!("{why}: {n}"))
        .collect();
    format!(" ({})", reasons.join(", "))
}

/// `image_failures`: the cache's failed and refused images by reason.
pub fn json(
    feeds: &[FeedStats],
    last_run: Option<&(RunStats, Vec<SlowFetch>)>,
    image_failures: &[(String, u64)],
) -> serde_json::Value {
    json!({
        "image_failures_by_reason": by_reason(image_failures),
        "last_run": last_run.map(|(run, slowest)| json!({
            "started_at": rfc3339(run.started_at_ms / 1000),
            "wall_ms": run.wall_ms,
            "feeds": run.feeds,
            "ok": run.ok,
            "not_modified": run.not_modified,
            "failed": run.failed,
            "new_articles": run.new_articles,
            "bytes_wire": run.bytes_wire,
            "images": run.images,
            "slowest": slowest,
        })),
        "feeds_with_warning": warned(feeds).count(),
        "feeds": feeds.iter().map(|f| json!({
            "id": f.feed_id,
            "title": f.title,
            "url": f.url,
            "fetches": f.fetches,
            "last_attempt": f.last_attempt_ms.and_then(|ms| rfc3339(ms / 1000)),
            "last_success": f.last_success_ms.and_then(|ms| rfc3339(ms / 1000)),
            "failure_streak": f.failure_streak,
            "last_status": f.last_status,
            "median_latency_ms": f.median_latency_ms,
            "not_modified_share": f.not_modified_share,
            "articles_per_week": f.articles_per_week,
            "last_new_article": f.last_new_article.and_then(rfc3339),
            "last_error": f.last_error,
            "last_warning": f.last_warning,
            "gone": f.gone,
        })).collect::<Vec<_>>(),
    })
}

pub fn write_text(
    out: &mut impl Write,
    feeds: &[FeedStats],
    last_run: Option<&(RunStats, Vec<SlowFetch>)>,
    image_cache: &ImageTotals,
    now: i64,
) -> std::io::Result<()> {
    match last_run {
        None => writeln!(out, "No refresh has run yet: try `tidings refresh`.")?,
        Some((run, slowest)) => {
            writeln!(
                out,
                "Last refresh {}: {}",
                ago(run.started_at_ms / 1000, now),
                summary_line(run)
            )?;
            if !slowest.is_empty() {
                let list: Vec<String> = slowest
                    .iter()
                    .map(|s| format!("{} ({} ms)", truncate(&s.title, 30), s.ms_total))
                    .collect();
                writeln!(out, "Slowest: {}", list.join(", "))?;
            }
            let images = &run.images;
            if images.found > 0 {
                writeln!(
                    out,
                    "Images: {} found · {} cached · {} failed · {} refused · {} downloaded",
                    thousands(images.found),
                    thousands(images.cached),
                    thousands(images.failed),
                    thousands(images.refused),
                    megabytes(images.bytes_wire)
                )?;
            }
        }
    }
    let cached: u64 = image_cache
        .by_status
        .iter()
        .filter(|(s, _)| *s == ImageStatus::Cached)
        .map(|(_, n)| *n)
        .sum();
    if cached > 0 {
        writeln!(
            out,
            "Image cache: {} images, {} on disk",
            thousands(cached),
            megabytes(image_cache.stored_bytes)
        )?;
    }
    let warnings = warned(feeds).count();
    if warnings > 0 {
        let (noun, their) = if warnings == 1 {
            ("feed", "its")
        } else {
            ("feeds", "their")
        };
        writeln!(
            out,
            "{} {noun} had a warning at {their} last fetch (listed below)",
            thousands(warnings as u64)
        )?;
    }
    if feeds.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "{:>4}  {:<32}  {:>9}  {:>9}  {:>6}  {:>8}  {:>5}  {:>7}  {:>9}  LAST ERROR",
        "ID", "FEED", "ATTEMPT", "SUCCESS", "STREAK", "LATENCY", "304", "PER WK", "NEWEST"
    )?;
    for f in feeds {
        writeln!(
            out,
            "{:>4}  {:<32}  {:>9}  {:>9}  {:>6}  {:>8}  {:>5}  {:>7.1}  {:>9}  {}",
            f.feed_id,
            truncate(&f.title, 32),
            f.last_attempt_ms
                .map(|ms| ago(ms / 1000, now))
                .unwrap_or_else(|| "never".into()),
            f.last_success_ms
                .map(|ms| ago(ms / 1000, now))
                .unwrap_or_else(|| "never".into()),
            f.failure_streak,
            f.median_latency_ms
                .map(|ms| format!("{ms} ms"))
                .unwrap_or_else(|| "-".into()),
            f.not_modified_share
                .map(|s| format!("{:.0}%", s * 100.0))
                .unwrap_or_else(|| "-".into()),
            f.articles_per_week,
            f.last_new_article
                .map(|t| ago(t, now))
                .unwrap_or_else(|| "-".into()),
            if f.gone {
                "gone (410)".to_string()
            } else {
                f.last_error
                    .as_deref()
                    .map(|e| truncate(e, 60))
                    .unwrap_or_default()
            }
        )?;
    }
    if warnings > 0 {
        writeln!(out)?;
        writeln!(out, "{:>4}  {:<32}  LAST WARNING", "ID", "FEED")?;
        for (f, warning) in warned(feeds) {
            writeln!(
                out,
                "{:>4}  {:<32}  {}",
                f.feed_id,
                truncate(&f.title, 32),
                truncate(warning, 240)
            )?;
        }
    }
    Ok(())
}

/// One line per proxy, for `tidings stats` and the `S` view: `http://p:3128:
/// 120 requests · 117 answered · 3 failed (timeout: 2, connect: 1) · median
/// 84 ms · last used 5 min ago`.
pub fn proxy_lines(proxies: &[crate::store::ProxyStats], now: i64) -> Vec<String> {
    proxies
        .iter()
        .map(|p| {
            format!(
                "{}: {} requests · {} answered · {} failed{} · median {} · last used {}",
                p.proxy,
                thousands(p.requests),
                thousands(p.answered),
                thousands(p.failed()),
                by_reason_text(&p.failures),
                p.median_ms
                    .map(|ms| format!("{ms} ms"))
                    .unwrap_or_else(|| "-".into()),
                ago(p.last_used_ms / 1000, now)
            )
        })
        .collect()
}

/// The proxies' figures as JSON, for `tidings stats --format json`.
pub fn proxies_json(proxies: &[crate::store::ProxyStats]) -> serde_json::Value {
    proxies
        .iter()
        .map(|p| {
            json!({
                "proxy": p.proxy,
                "requests": p.requests,
                "answered": p.answered,
                "failed": p.failed(),
                "failures_by_kind": by_reason(&p.failures),
                "median_ms": p.median_ms,
                "last_used": rfc3339(p.last_used_ms / 1000),
            })
        })
        .collect()
}

/// The feeds whose last fetch read them with a warning, and the warning.
fn warned(feeds: &[FeedStats]) -> impl Iterator<Item = (&FeedStats, &str)> {
    feeds
        .iter()
        .filter_map(|f| f.last_warning.as_deref().map(|w| (f, w)))
}

/// "5 s ago", "3 min ago", "2 h ago", "4 d ago"; future times read "now".
pub fn ago(then: i64, now: i64) -> String {
    let secs = (now - then).max(0);
    match secs {
        0..=59 => format!("{secs} s ago"),
        60..=3599 => format!("{} min ago", secs / 60),
        3600..=86_399 => format!("{} h ago", secs / 3600),
        _ => format!("{} d ago", secs / 86_400),
    }
}

/// How long until `then`: `in 40 s`, `in 12 min`, `in 3 h`, `in 2 d`.
pub fn until(then: i64, now: i64) -> String {
    let secs = (then - now).max(0) as u64;
    match secs {
        0..=59 => format!("in {secs} s"),
        60..=3599 => format!("in {} min", secs.div_ceil(60)),
        3600..=86_399 => format!("in {} h", secs / 3600),
        _ => format!("in {} d", secs / 86_400),
    }
}

/// What a run that fetched nothing because every feed rests says, with
/// when the first is due.
pub fn resting_line(feeds: usize, next_due: i64, now: i64) -> String {
    let who = if feeds == 1 {
        "the feed is resting as its server".to_string()
    } else {
        format!(
            "all {} feeds are resting as their servers",
            thousands(feeds as u64)
        )
    };
    format!(
        "nothing fetched: {who} asked; the next is due {}",
        until(next_due, now)
    )
}

/// `300 feeds · 297 ok (41 not modified) · 3 failed · 1,204 new articles · 18.4 MB · 6.2 s`
pub fn summary_line(run: &RunStats) -> String {
    format!(
        "{} feed{} · {} ok ({} not modified) · {} failed · {} new articles · {} · {:.1} s",
        thousands(run.feeds),
        if run.feeds == 1 { "" } else { "s" },
        thousands(run.ok),
        thousands(run.not_modified),
        thousands(run.failed),
        thousands(run.new_articles),
        megabytes(run.bytes_wire),
        run.wall_ms as f64 / 1000.0
    )
}

/// One sync in a line: what it pulled and pushed and what it cost, or why it
/// failed and what waits to be pushed.
pub fn sync_line(record: &crate::store::SyncRecord) -> String {
    let plural = |n: u64, one: &str, many: &str| {
        format!("{} {}", thousands(n), if n == 1 { one } else { many })
    };
    if let Some(error) = &record.error {
        let waiting = match record.changes_left {
            0 => String::new(),
            n => format!(" · {} wait to be pushed", plural(n, "change", "changes")),
        };
        return format!("sync failed: {error}{waiting}");
    }
    let mut done = vec![
        plural(record.articles_pulled, "new article", "new articles"),
        format!(
            "{} from elsewhere",
            plural(
                record.states_pulled,
                "read/star change",
                "read/star changes"
            )
        ),
        format!(
            "{} pushed",
            plural(record.changes_pushed, "change", "changes")
        ),
    ];
    if record.feeds_added > 0 {
        done.push(format!(
            "{} added",
            plural(record.feeds_added, "feed", "feeds")
        ));
    }
    if record.feeds_removed > 0 {
        done.push(format!(
            "{} removed",
            plural(record.feeds_removed, "feed", "feeds")
        ));
    }
    format!(
        "synced with {}: {} · {} · {} · {:.2} s",
        record.server,
        done.join(", "),
        plural(record.requests, "request", "requests"),
        megabytes(record.bytes),
        record.ms_total as f64 / 1000.0
    )
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes in decimal megabytes, one decimal: `18.4 MB`.
pub fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

pub fn rfc3339(unix: i64) -> Option<String> {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_reads_like_the_spec() {
        let run = RunStats {
            feeds: 300,
            ok: 297,
            not_modified: 41,
            failed: 3,
            new_articles: 1204,
            bytes_wire: 18_400_000,
            wall_ms: 6200,
            ..Default::default()
        };
        assert_eq!(
            summary_line(&run),
            "300 feeds · 297 ok (41 not modified) · 3 failed · 1,204 new articles · 18.4 MB · 6.2 s"
        );
    }

    fn feed(id: i64, title: &str, warning: Option<&str>) -> FeedStats {
        FeedStats {
            feed_id: crate::model::FeedId(id),
            title: title.into(),
            url: format!("https://{id}.example/feed"),
            fetches: 1,
            last_attempt_ms: Some(0),
            last_success_ms: Some(0),
            failure_streak: 0,
            last_status: Some(200),
            median_latency_ms: Some(120),
            not_modified_share: Some(0.0),
            articles_per_week: 1.0,
            last_new_article: None,
            last_error: None,
            last_warning: warning.map(str::to_string),
            gone: false,
        }
    }

    #[test]
    fn warnings_are_counted_and_listed_after_the_table() {
        let warning = "recovered: an unclosed CDATA section; read 8 entries before byte 12345";
        let feeds = [feed(1, "Clean", None), feed(7, "Cut Short", Some(warning))];
        let mut out = Vec::new();
        write_text(&mut out, &feeds, None, &ImageTotals::default(), 60).unwrap();
        let text = String::from_utf8(out).unwrap();
        let (summary, rest) = text.split_once("LAST ERROR").unwrap();
        assert!(
            summary.contains("1 feed had a warning at its last fetch (listed below)"),
            "{text}"
        );
        let (_, listed) = rest.split_once("LAST WARNING").unwrap();
        assert!(
            listed.contains(&format!("   7  Cut Short{}{warning}", " ".repeat(25))),
            "{text}"
        );
        assert!(!listed.contains("Clean"), "{text}");

        let json = json(&feeds, None, &[("HTTP 404".to_string(), 1)]);
        assert_eq!(json["feeds_with_warning"], 1);
        assert_eq!(json["image_failures_by_reason"]["HTTP 404"], 1);
        assert_eq!(json["feeds"][1]["last_warning"], warning);
        assert!(json["feeds"][0]["last_warning"].is_null());

        let mut out = Vec::new();
        write_text(&mut out, &feeds[..1], None, &ImageTotals::default(), 60).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.to_lowercase().contains("warning"), "{text}");
    }

    #[test]
    fn ages_read_in_the_largest_unit() {
        assert_eq!(ago(100, 105), "5 s ago");
        assert_eq!(ago(0, 180), "3 min ago");
        assert_eq!(ago(0, 7200), "2 h ago");
        assert_eq!(ago(0, 4 * 86_400 + 5), "4 d ago");
        assert_eq!(ago(10, 0), "0 s ago");
    }
}

/// A failed fetch in a few words, for the status line ("connection
/// refused", "HTTP 404 not found", "the feed is broken at byte 81"); the
/// whole message stays in the `!` panel and the statistics.
pub fn short_error(kind: ErrorKind, message: Option<&str>, status: Option<u16>) -> String {
    let message = message.unwrap_or("");
    let lower = message.to_ascii_lowercase();
    let has = |needle: &str| lower.contains(needle);
    match kind {
        ErrorKind::Http | ErrorKind::Gone | ErrorKind::RateLimited if status.is_some() => {
            let status = status.unwrap_or_default();
            let reason = match status {
                400 => " bad request",
                401 => " login needed",
                403 => " forbidden",
                404 => " not found",
                410 => " gone",
                429 => " too many requests",
                500 => " server error",
                502 => " bad gateway",
                503 => " unavailable",
                504 => " gateway timeout",
                _ => "",
            };
            format!("HTTP {status}{reason}")
        }
        ErrorKind::Timeout => "timed out".into(),
        ErrorKind::Connect if has("refused") => "connection refused".into(),
        ErrorKind::Connect if has("reset") => "connection reset".into(),
        ErrorKind::Connect if has("no route") => "no route to host".into(),
        ErrorKind::Connect if has("unreachable") => "network unreachable".into(),
        ErrorKind::Connect => "cannot connect".into(),
        ErrorKind::Dns => "host not found".into(),
        ErrorKind::Tls if has("certificate") => "bad TLS certificate".into(),
        ErrorKind::Tls => "TLS failed".into(),
        ErrorKind::TooLarge => "too large".into(),
        ErrorKind::TooManyRedirects => "too many redirects".into(),
        ErrorKind::Parse if has("web page") => "a web page, not a feed".into(),
        ErrorKind::Parse => {
            static PLACE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
                regex::Regex::new(r"(?:at|line) (byte \d+|\d+)").expect("valid regex")
            });
            let place = PLACE.captures(message).map(|c| c[1].to_string());
            match place {
                Some(place) if place.starts_with("byte") => {
                    format!("the feed is broken at {place}")
                }
                Some(line) => format!("the feed is broken at line {line}"),
                None => "the feed is broken".into(),
            }
        }
        ErrorKind::Encoding => "unreadable text encoding".into(),
        ErrorKind::Io if has("no such file") => "no such file".into(),
        ErrorKind::Io => "cannot read".into(),
        ErrorKind::Forbidden => "a private address, refused".into(),
        ErrorKind::Deferred => "host down, left for later".into(),
        ErrorKind::Gone => "gone".into(),
        ErrorKind::RateLimited => "rate limited".into(),
        ErrorKind::Http => "HTTP error".into(),
        ErrorKind::Other => truncate(message, 48),
    }
}

#[cfg(test)]
mod short_error_tests {
    use super::*;

    /// The messages real failures leave (from `tidings refresh`), shortened.
    #[test]
    fn failures_read_in_a_few_words() {
        let cases = [
            (
                ErrorKind::Connect,
                "cannot connect: error sending request for url (http://127.0.0.1:9/feed.xml): client error (Connect): tcp connect error: Connection refused (os error 111)",
                None,
                "connection refused",
            ),
            (
                ErrorKind::Dns,
                "cannot resolve the host name: error sending request for url (http://nonexistent.invalid/feed.xml): client error (Connect): dns error: failed to lookup address information: Name or service not known",
                None,
                "host not found",
            ),
            (ErrorKind::Http, "HTTP 404", Some(404), "HTTP 404 not found"),
            (ErrorKind::Http, "HTTP 599", Some(599), "HTTP 599"),
            (
                ErrorKind::Parse,
                "malformed feed: `</desc>` where `</description>` was expected at byte 81",
                None,
                "the feed is broken at byte 81",
            ),
            (
                ErrorKind::Parse,
                "the address serves a web page, not a feed",
                None,
                "a web page, not a feed",
            ),
            (
                ErrorKind::Io,
                "cannot read: /tmp/tb/missing.xml: No such file or directory (os error 2)",
                None,
                "no such file",
            ),
            (
                ErrorKind::Timeout,
                "no complete answer within 60 s",
                None,
                "timed out",
            ),
        ];
        for (kind, message, status, short) in cases {
            assert_eq!(short_error(kind, Some(message), status), short, "{message}");
        }
        // Never longer than a status line can give it.
        let long = "x".repeat(500);
        assert!(
            short_error(ErrorKind::Other, Some(&long), None)
                .chars()
                .count()
                <= 48
        );
    }
}
