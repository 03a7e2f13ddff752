//! `tidings refresh`: a refresh worker run headless, for people (a line per
//! feed, or a progress bar on a terminal) and for cron (`--quiet`: failures
//! and the summary only).

use std::io::{IsTerminal, Write};

use anyhow::{Context, bail};

use crate::config::{Config, Paths};
use crate::model::FeedId;
use crate::refresh::{
    Attempt, BULK_FIRST_REFRESH_FEEDS, Command as WorkerCommand, Progress, RefreshStats, Refresher,
    RunLock, busy_message,
};
use crate::report::{megabytes, resting_line, summary_line, thousands, until};
use crate::text::truncate;

/// Fetches every feed (or the `ids`) now: a line per feed (a progress bar on a
/// terminal, or nothing but failures with `quiet`), then the run's summary.
/// While another refresh of the same database runs, it says so and fails
/// before fetching anything, or with `wait` waits for that one to end.
pub(super) async fn refresh(
    paths: &Paths,
    config: Config,
    ids: Option<Vec<FeedId>>,
    quiet: bool,
    wait: bool,
    force: bool,
) -> anyhow::Result<()> {
    let lock = take_run_lock(paths, wait, "refresh").await?;
    let (commands, mut progress, worker) = Refresher::configured(paths, config)?
        .holding(lock)
        .with_bulk_first_refresh(BULK_FIRST_REFRESH_FEEDS)
        .spawn();
    let command = if force {
        WorkerCommand::RefreshForced(ids)
    } else {
        WorkerCommand::Refresh(ids)
    };
    commands.send(command).ok();
    drop(commands);
    let interactive = std::io::stderr().is_terminal();
    let mut stats = RefreshStats::default();
    let mut bar: Option<indicatif::ProgressBar> = None;
    let mut failures: Vec<String> = Vec::new();
    let mut stdout = std::io::stdout().lock();
    let started = std::time::Instant::now();
    let mut articles_stored = std::time::Duration::ZERO;
    let mut images_phase = false;
    while let Some(p) = progress.recv().await {
        if matches!(p, Progress::FeedDone(_)) {
            articles_stored = started.elapsed();
        }
        stats.apply(&p);
        match &p {
            Progress::Started {
                total,
                skipped,
                resting,
            } => {
                let (rested, next_due) = resting.unwrap_or((0, 0));
                if *skipped > rested {
                    writeln!(
                        stdout,
                        "{} feeds skipped (gone, or the server asked to wait)",
                        skipped - rested
                    )?;
                }
                if rested > 0 && *total > 0 && !quiet {
                    writeln!(
                        stdout,
                        "{rested} feeds resting as their servers asked; the next is due {} \
                         (--force fetches them)",
                        until(next_due, chrono::Utc::now().timestamp())
                    )?;
                }
                if interactive {
                    let b = indicatif::ProgressBar::new(*total as u64);
                    b.set_style(counting("feeds"));
                    bar = Some(b);
                }
            }
            Progress::FeedDone(done) => {
                let line = feed_line(done);
                if done.record.failed() {
                    failures.push(line.clone());
                }
                match &bar {
                    Some(b) => {
                        b.inc(1);
                        b.set_message(truncate(&done.title, 40));
                    }
                    None if !quiet => writeln!(stdout, "{line}")?,
                    None => {}
                }
            }
            Progress::Joined { feeds } => {
                if let Some(b) = &bar {
                    b.inc_length(*feeds as u64);
                }
            }
            Progress::Images { done, total, .. } => {
                // Once the feeds are in, the bar counts the images.
                let feeds_in = stats.done >= stats.total;
                if feeds_in && done < total && !images_phase {
                    images_phase = true;
                    match &bar {
                        Some(b) => b.set_style(counting("images")),
                        None if !quiet => writeln!(
                            stdout,
                            "articles stored; downloading images: {done} of {total} done"
                        )?,
                        None => {}
                    }
                }
                if let Some(b) = bar.as_ref().filter(|_| images_phase) {
                    b.set_length(*total as u64);
                    b.set_position(*done as u64);
                    b.set_message("");
                }
            }
            Progress::HostDown { host } => {
                let line = format!(
                    "{host} does not answer: its other feeds and images wait for a later run"
                );
                match &bar {
                    Some(b) => b.println(&line),
                    None if !quiet => writeln!(stdout, "{line}")?,
                    None => {}
                }
            }
            Progress::Synced(record) => {
                let line = crate::report::sync_line(record);
                if record.error.is_some() {
                    failures.push(line.clone());
                }
                match &bar {
                    Some(b) => b.println(&line),
                    None if !quiet || record.error.is_some() => writeln!(stdout, "{line}")?,
                    None => {}
                }
            }
            Progress::Syncing
            | Progress::ImagesDone { .. }
            | Progress::PageDone { .. }
            | Progress::Finished(_)
            | Progress::Aborted(_) => {}
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    worker.await.ok();
    if let Some(reason) = &stats.aborted {
        bail!("refresh stopped: {reason}");
    }
    if interactive || quiet {
        for line in &failures {
            writeln!(stdout, "{line}")?;
        }
    }
    let run = stats.finished.clone().unwrap_or_else(|| stats.totals());
    match stats.resting {
        Some((rested, next_due)) if run.feeds == 0 => writeln!(
            stdout,
            "{} · tidings refresh --force fetches anyway",
            resting_line(rested, next_due, chrono::Utc::now().timestamp())
        )?,
        _ => writeln!(stdout, "{}", summary_line(&run))?,
    }
    if stats.pages_read + stats.pages_failed > 0 {
        writeln!(
            stdout,
            "full text: {} pages read, {} failed",
            thousands(stats.pages_read),
            thousands(stats.pages_failed)
        )?;
    }
    let images = &stats.images;
    if images.cached + images.failed + images.refused > 0 {
        let deferred = match stats.images_deferred {
            0 => String::new(),
            n => format!(" ({} of them deferred)", thousands(n as u64)),
        };
        writeln!(
            stdout,
            "{} images cached · {} failed{deferred} · {} refused · {} · articles stored at {:.2} s, images done at {:.2} s",
            thousands(images.cached),
            thousands(images.failed),
            thousands(images.refused),
            megabytes(images.bytes_wire),
            articles_stored.as_secs_f64(),
            started.elapsed().as_secs_f64(),
        )?;
    }
    if !stats.hosts_down.is_empty() {
        writeln!(
            stdout,
            "{}: {} ({} feeds and {} images wait for a later run)",
            crate::fetch::HOST_UNREACHABLE,
            stats.hosts_down.join(", "),
            thousands(stats.feeds_deferred),
            thousands(stats.images_deferred as u64),
        )?;
    }
    Ok(())
}

/// The lock that keeps refreshes and syncs of one database from running
/// together: taken, or (when another holds it) an error that says so before
/// anything is fetched, or with `wait` a wait for it. `command` names the
/// command for the message (`refresh`, `sync`).
pub(super) async fn take_run_lock(
    paths: &Paths,
    wait: bool,
    command: &str,
) -> anyhow::Result<RunLock> {
    let lock_path = RunLock::path_for(&paths.database);
    Ok(
        match RunLock::try_take(&lock_path)
            .with_context(|| format!("cannot open {}", lock_path.display()))?
        {
            Attempt::Held(lock) => lock,
            Attempt::Busy(pid) if !wait => bail!(
                "{}; nothing was fetched (tidings {command} --wait waits for it)",
                busy_message(pid)
            ),
            Attempt::Busy(pid) => {
                eprintln!("{}: waiting for it to end", busy_message(pid));
                tokio::task::spawn_blocking(move || RunLock::take(&lock_path))
                    .await?
                    .context("cannot wait for the other refresh")?
            }
        },
    )
}

/// The progress bar's look while it counts `what` (feeds, then images).
fn counting(what: &str) -> indicatif::ProgressStyle {
    indicatif::ProgressStyle::with_template(&format!(
        "{{bar:30}} {{pos}}/{{len}} {what} {{wide_msg}}"
    ))
    .expect("valid template")
}

pub(super) fn feed_line(done: &crate::refresh::FeedDone) -> String {
    let r = &done.record;
    let title = truncate(&done.title, 60);
    if r.failed() {
        format!(
            "FAIL {title}: {}",
            r.error_message.as_deref().unwrap_or("failed")
        )
    } else if r.not_modified {
        format!("  ok {title}: not modified")
    } else {
        let warning = r
            .warning
            .as_deref()
            .map(|w| format!(" (warning: {w})"))
            .unwrap_or_default();
        format!(
            "  ok {title}: {} new, {} articles{warning}",
            r.new_articles, r.total_articles
        )
    }
}
