//! The commands that look into the cache: `search`, `stats` (fetch
//! statistics) and `images` (the image cache's figures, and pruning it).

use std::io::Write;

use super::{ImagesAction, StatsFormat};
use crate::config::{Config, Paths};
use crate::report::{self, megabytes, thousands};
use crate::store::Store;
use crate::text::truncate;

pub(super) fn images(
    store: &mut Store,
    paths: &Paths,
    config: &Config,
    action: ImagesAction,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match action {
        ImagesAction::Stats { format } => {
            let totals = store.image_totals()?;
            let failures = store.image_failures()?;
            let count = |status| {
                totals
                    .by_status
                    .iter()
                    .find(|(s, _)| *s == status)
                    .map_or(0, |(_, n)| *n)
            };
            use crate::model::ImageStatus::*;
            if let StatsFormat::Json = format {
                let report = serde_json::json!({
                    "directory": paths.image_dir(),
                    "cached": count(Cached),
                    "failed": count(Failed),
                    "refused": count(Refused),
                    "pending": count(Pending),
                    "evicted": count(Evicted),
                    "stored_bytes": totals.stored_bytes,
                    "source_bytes": totals.source_bytes,
                    "cache_limit_mb": config.images.cache_limit_mb,
                    "failures_by_reason": report::by_reason(&failures),
                });
                serde_json::to_writer_pretty(&mut out, &report)?;
                writeln!(out)?;
                return Ok(());
            }
            writeln!(out, "{}", paths.image_dir().display())?;
            writeln!(
                out,
                "{} cached ({} on disk, {} as downloaded; limit {} MB)",
                thousands(count(Cached)),
                megabytes(totals.stored_bytes),
                megabytes(totals.source_bytes),
                config.images.cache_limit_mb
            )?;
            writeln!(
                out,
                "{} failed (retried later) · {} refused · {} not downloaded yet · {} evicted",
                thousands(count(Failed)),
                thousands(count(Refused)),
                thousands(count(Pending)),
                thousands(count(Evicted))
            )?;
            if !failures.is_empty() {
                let reasons: Vec<String> = failures
                    .iter()
                    .map(|(reason, n)| format!("{}: {}", truncate(reason, 60), thousands(*n)))
                    .collect();
                writeln!(out, "failures by reason: {}", reasons.join(" · "))?;
            }
        }
        ImagesAction::Prune { limit_mb } => {
            let limit = limit_mb
                .unwrap_or(config.images.cache_limit_mb)
                .saturating_mul(1_000_000);
            let (files, bytes) = crate::refresh::evict(store, &paths.image_dir(), limit)?;
            writeln!(
                out,
                "removed {} images ({})",
                thousands(files as u64),
                megabytes(bytes)
            )?;
            let (files, bytes) = crate::refresh::sweep_unrecorded(store, &paths.image_dir())?;
            if files > 0 {
                writeln!(
                    out,
                    "removed {} {} no image uses ({}), left by an interrupted refresh",
                    thousands(files as u64),
                    if files == 1 { "file" } else { "files" },
                    megabytes(bytes)
                )?;
            }
        }
    }
    Ok(())
}

/// A date as `2026-12-05` (UTC).
fn day(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

pub(super) fn search(store: &Store, query: &str, limit: u64) -> anyhow::Result<()> {
    let hits = store.search(query, limit)?;
    let mut out = std::io::stdout().lock();
    if hits.is_empty() {
        writeln!(out, "nothing found for {query:?}")?;
    }
    for hit in hits {
        let a = &hit.article;
        let date = day(a.date);
        writeln!(
            out,
            "{date}  {} — {}",
            truncate(&hit.feed_title, 30),
            a.title.as_deref().unwrap_or("(untitled)")
        )?;
        if let Some(link) = &a.link {
            writeln!(out, "            {link}")?;
        }
    }
    Ok(())
}

/// `tidings filter test`: what a query catches in the cache now, before it
/// becomes a filter or a query feed: how many articles, how many unread,
/// and the newest of them; a query that is wrong, where.
pub(super) fn filter_test(store: &Store, text: &str, limit: u64) -> anyhow::Result<()> {
    let query = crate::query::parse(text).map_err(|e| anyhow::anyhow!("{}", e.pointed(text)))?;
    let now = chrono::Utc::now().timestamp();
    let counts = store.query_counts(&query, now)?;
    let all = store.article_total()?;
    let mut out = std::io::stdout().lock();
    let every = if counts.total == all && all > 0 {
        " (every article in the cache)"
    } else {
        ""
    };
    writeln!(
        out,
        "{} of {} articles match{every}, {} of them unread",
        thousands(counts.total),
        thousands(all),
        thousands(counts.unread)
    )?;
    for hit in store.query_hits(&query, now, limit)? {
        let a = &hit.article;
        let date = day(a.date);
        writeln!(
            out,
            "{date} {} {} — {}",
            if a.read { ' ' } else { '•' },
            truncate(&hit.feed_title, 30),
            a.title.as_deref().unwrap_or("(untitled)")
        )?;
    }
    Ok(())
}

pub(super) fn stats(store: &Store, format: StatsFormat) -> anyhow::Result<()> {
    let now = chrono::Utc::now().timestamp();
    let feeds = store.feed_stats(now)?;
    let last_run = store.last_run(5)?;
    let pages = store.page_totals()?;
    let mut out = std::io::stdout().lock();
    match format {
        StatsFormat::Json => {
            let failures = store.image_failures()?;
            let mut report = report::json(&feeds, last_run.as_ref(), &failures);
            report["full_text"] = serde_json::json!({
                "pages_read": pages.read,
                "pages_failed": pages.failures.iter().map(|(_, n)| n).sum::<u64>(),
                "failures_by_reason": report::by_reason(&pages.failures),
            });
            report["proxies"] = report::proxies_json(&store.proxy_stats()?);
            let syncs = store.sync_totals()?;
            if syncs.syncs > 0 {
                report["sync"] = serde_json::json!({
                    "syncs": syncs.syncs,
                    "failed": syncs.failed,
                    "failures_by_kind": report::by_reason(&syncs.failures),
                    "articles_pulled": syncs.articles_pulled,
                    "changes_pushed": syncs.changes_pushed,
                    "changes_waiting": store.sync_changes_waiting()?,
                    "last_success": syncs.last_ok_at.and_then(report::rfc3339),
                    "recent": store.recent_syncs(5)?,
                });
            }
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        StatsFormat::Text => {
            let cache = store.image_totals()?;
            report::write_text(&mut out, &feeds, last_run.as_ref(), &cache, now)?;
            if pages.read > 0 || !pages.failures.is_empty() {
                let failed: u64 = pages.failures.iter().map(|(_, n)| n).sum();
                let reasons = report::by_reason_text(&pages.failures);
                writeln!(
                    out,
                    "full text: {} pages read, {failed} failed{reasons}",
                    pages.read
                )?;
            }
            let proxies = store.proxy_stats()?;
            if !proxies.is_empty() {
                writeln!(out, "proxies (requests for feeds, images and pages):")?;
                for line in report::proxy_lines(&proxies, now) {
                    writeln!(out, "  {line}")?;
                }
            }
            write_sync_text(&mut out, store, now)?;
        }
    }
    Ok(())
}

/// The sync part of `tidings stats`: the last sync, the totals, the failures
/// by kind, and what waits to be pushed. Nothing when it never synced.
fn write_sync_text(out: &mut impl Write, store: &Store, now: i64) -> anyhow::Result<()> {
    let totals = store.sync_totals()?;
    let Some(last) = store.recent_syncs(1)?.pop() else {
        return Ok(());
    };
    writeln!(out)?;
    writeln!(
        out,
        "last sync {}: {}",
        report::ago(last.started_at, now),
        report::sync_line(&last)
    )?;
    writeln!(
        out,
        "  stages: login {} ms · push {} ms · feeds {} ms · articles {} ms · state {} ms · images {} ms",
        last.ms_login, last.ms_push, last.ms_feeds, last.ms_articles, last.ms_state, last.ms_images
    )?;
    let failures = report::by_reason_text(&totals.failures);
    writeln!(
        out,
        "syncs: {} · {} failed{failures} · {} articles pulled · {} changes pushed · {} waiting",
        report::thousands(totals.syncs),
        report::thousands(totals.failed),
        report::thousands(totals.articles_pulled),
        report::thousands(totals.changes_pushed),
        report::thousands(store.sync_changes_waiting()?),
    )?;
    Ok(())
}
