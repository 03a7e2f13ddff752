//! `tidings sync`: one sync with the configured server, headless (for cron):
//! the changes made here pushed, the server's subscriptions, articles and
//! read/starred state pulled, the new articles' images cached; then a line
//! saying what it did, or why it failed (and the exit status says so too).

use std::io::Write;

use anyhow::bail;

use crate::config::{Config, Paths};
use crate::refresh::{Attempt, Command as WorkerCommand, Progress, Refresher, RunLock};
use crate::report::sync_line;
use crate::store::SyncRecord;

pub(super) async fn sync(paths: &Paths, config: Config, wait: bool) -> anyhow::Result<()> {
    let Some(sync) = &config.sync else {
        bail!(
            "no [sync] section in {}: see \"Sync\" in the README to set one up",
            paths.config_file.display()
        );
    };
    if let Some(warning) = crate::config::password_exposed(&paths.config_file, sync) {
        eprintln!("warning: {warning}");
    }
    let lock = super::refresh::take_run_lock(paths, wait, "sync").await?;
    let mut stdout = std::io::stdout().lock();
    let record = run(paths, config, lock, WorkerCommand::Sync, |p| {
        match p {
            Progress::Aborted(reason) => bail!("sync stopped: {reason}"),
            Progress::ImagesDone { stats, .. } if stats.found > 0 => writeln!(
                stdout,
                "{} images cached · {} failed · {} refused",
                stats.cached, stats.failed, stats.refused
            )?,
            _ => {}
        }
        Ok(())
    })
    .await?;
    let Some(record) = record else {
        bail!("the sync ended without a word (see the log)");
    };
    for warning in &record.warnings {
        writeln!(stdout, "warning: {warning}")?;
    }
    if record.error.is_some() {
        bail!("{}", sync_line(&record));
    }
    writeln!(stdout, "{}", sync_line(&record))?;
    Ok(())
}

/// After `tidings add`, with sync on: the new subscription goes to the
/// server at once (a push, nothing pulled). Never fails the command: when
/// the server cannot take it now, the next sync does.
pub(super) async fn push_subscription(paths: &Paths, config: Config) -> anyhow::Result<()> {
    if config.sync.is_none() {
        return Ok(());
    }
    let lock_path = RunLock::path_for(&paths.database);
    let Ok(Attempt::Held(lock)) = RunLock::try_take(&lock_path) else {
        println!("a refresh is running: the next sync subscribes the server to it too");
        return Ok(());
    };
    let record = run(paths, config, lock, WorkerCommand::SyncPush, |_| Ok(())).await?;
    match record {
        Some(r) if r.error.is_none() && r.warnings.is_empty() => {
            println!("subscribed on the sync server ({}) too", r.server)
        }
        Some(r) if r.error.is_none() => {
            println!(
                "the sync server did not subscribe: {}",
                r.warnings.join("; ")
            )
        }
        Some(r) => println!(
            "not on the sync server yet ({}); the next sync subscribes it there",
            r.error.unwrap_or_default()
        ),
        None => {}
    }
    Ok(())
}

/// Runs one sync `command` on a worker holding `lock`, showing each report
/// to `seen` (an error from it ends the command), until the worker ends;
/// the sync's record, when it sent one.
async fn run(
    paths: &Paths,
    config: Config,
    lock: RunLock,
    command: WorkerCommand,
    mut seen: impl FnMut(&Progress) -> anyhow::Result<()>,
) -> anyhow::Result<Option<SyncRecord>> {
    let (commands, mut progress, worker) =
        Refresher::configured(paths, config)?.holding(lock).spawn();
    commands.send(command).ok();
    drop(commands);
    let mut record = None;
    while let Some(p) = progress.recv().await {
        seen(&p)?;
        if let Progress::Synced(synced) = p {
            record = Some(*synced);
        }
    }
    worker.await.ok();
    Ok(record)
}
