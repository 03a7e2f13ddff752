//! The command line: clap definitions and the headless commands (add, import,
//! export, refresh, list, remove, search, stats). Each command opens the store,
//! does its work through the same `Store` and `Refresher` the TUI uses, and
//! prints plain text meant for people (or JSON meant for scripts).
//!
//! Everything printed that came from a feed was sanitised when it was stored;
//! text here only adds layout.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{Config, Paths};
use crate::fetch::Fetcher;
use crate::model::{FeedId, FeedListRow};
use crate::refresh::{
    Command as WorkerCommand, ImagePlan, Progress, RefreshStats, Refresher, Subscription,
};
use crate::report::{self, megabytes, summary_line, thousands};
use crate::store::{NewSubscription, Store};
use crate::subscribe::{Probe, probe, probe_input, subscription_url};
use crate::subscriptions::{self, ExportFeed};
use crate::text::{sanitize_text, truncate};

#[derive(Debug, Parser)]
#[command(
    name = "tidings",
    version,
    about = "A fast, keyboard-first terminal feed reader",
    after_help = "Without a command, tidings opens the reader (press ? in it for the keys)."
)]
pub struct Cli {
    /// Keep the database, caches, config and log in DIR.
    #[arg(long, global = true, env = "TIDINGS_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Read the configuration from FILE instead of config.toml in the config directory.
    #[arg(long, global = true, env = "TIDINGS_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<CliCommand>,
}

#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Subscribe to a feed, a web page that announces one, or a local file.
    Add {
        /// http(s) address, file:// address or path of a feed file.
        url: String,
        /// Tag the feed (repeat for several).
        #[arg(long = "tag", short = 't')]
        tags: Vec<String>,
        /// Your own name for the feed.
        #[arg(long)]
        title: Option<String>,
        /// Subscribe without fetching the address first (offline).
        #[arg(long)]
        no_fetch: bool,
    },
    /// Import subscriptions from OPML or a newsboat urls file.
    Import { file: PathBuf },
    /// Export subscriptions as OPML, or everything as JSON.
    Export {
        #[arg(long, value_enum, default_value_t = ExportFormat::Opml)]
        format: ExportFormat,
        /// Write to FILE instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Fetch all (or the named) feeds now.
    Refresh {
        /// Feeds by id, address or title.
        feeds: Vec<String>,
        /// Print only the summary and failures.
        #[arg(long, short)]
        quiet: bool,
    },
    /// List feeds with unread/total counts and the last fetch.
    List,
    /// Unsubscribe from a feed (its articles go too).
    Remove { feed: String },
    /// Full-text search over titles and bodies, best matches first.
    Search {
        #[arg(required = true)]
        query: Vec<String>,
        #[arg(long, default_value_t = 20)]
        limit: u64,
    },
    /// Fetch statistics: the last refresh and every feed.
    Stats {
        #[arg(long, value_enum, default_value_t = StatsFormat::Text)]
        format: StatsFormat,
    },
    /// The image cache: its size and contents, or make it fit its limit.
    Images {
        #[command(subcommand)]
        action: ImagesAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImagesAction {
    /// How many images are cached, failed, refused or pending, and the cache's size.
    Stats,
    /// Delete the least recently shown images until the cache fits
    /// `images.cache_limit_mb` (or --limit-mb); images of starred articles stay.
    /// Files no image uses, over an hour old, go too.
    Prune {
        #[arg(long)]
        limit_mb: Option<u64>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Opml,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StatsFormat {
    Text,
    Json,
}

/// Runs one headless command on the opened store.
pub async fn run(
    command: CliCommand,
    mut store: Store,
    paths: &Paths,
    config: Config,
) -> anyhow::Result<()> {
    match command {
        CliCommand::Add {
            url,
            tags,
            title,
            no_fetch,
        } => add(&mut store, paths, config, &url, tags, title, no_fetch).await,
        CliCommand::Import { file } => import(&mut store, &file),
        CliCommand::Export { format, output } => export(&store, format, output.as_deref()),
        CliCommand::Refresh { feeds, quiet } => {
            let ids = resolve_feeds(&store, &feeds)?;
            refresh(store, paths, config, ids, quiet).await
        }
        CliCommand::List => list(&store),
        CliCommand::Remove { feed } => remove(&mut store, &feed),
        CliCommand::Search { query, limit } => search(&store, &query.join(" "), limit),
        CliCommand::Stats { format } => stats(&store, format),
        CliCommand::Images { action } => images(&mut store, paths, &config, action),
    }
}

// ---- add -------------------------------------------------------------------------

async fn add(
    store: &mut Store,
    paths: &Paths,
    config: Config,
    input: &str,
    tags: Vec<String>,
    title: Option<String>,
    no_fetch: bool,
) -> anyhow::Result<()> {
    let (url, feed_title, answer) = if no_fetch {
        (subscription_url(input)?, None, None)
    } else {
        let fetcher = Fetcher::new(&config.refresh)?;
        let (url, found) = probe_input(&fetcher, input).await?;
        match found {
            Probe::Feed(feed) => (feed.url, feed.title, Some(*feed.answer)),
            Probe::Page(found) => match found.as_slice() {
                [] => bail!("{url} is a web page that announces no feed"),
                [one] => {
                    println!("found feed {}", one.url);
                    match probe(&fetcher, &one.url).await? {
                        Probe::Feed(feed) => (feed.url, feed.title, Some(*feed.answer)),
                        Probe::Page(_) => bail!("{} is a web page, not a feed", one.url),
                    }
                }
                several => {
                    println!(
                        "{url} announces {} feeds; add the one you want:",
                        several.len()
                    );
                    for f in several {
                        println!(
                            "  tidings add {}    {}",
                            f.url,
                            f.title.as_deref().unwrap_or(&f.mime_type)
                        );
                    }
                    bail!("several feeds found, none added");
                }
            },
        }
    };
    let tags = tags
        .iter()
        .map(|t| sanitize_text(t.trim()))
        .filter(|t| !t.is_empty())
        .collect();
    let (id, new) = store.add_feed(&NewSubscription {
        url: url.clone(),
        title,
        feed_title,
        tags,
    })?;
    if !new {
        println!("already subscribed to {url} (feed {id})");
        return Ok(());
    }
    println!("subscribed to {url} (feed {id})");
    if let Some(answer) = answer {
        let subscription = Subscription {
            feed: id,
            title: url.clone(),
            url,
            answer,
        };
        if let Some(error) = save_answer(paths, config, subscription).await? {
            eprintln!("fetch failed: {error}");
        }
        if let Some(row) = store.feed_list()?.into_iter().find(|r| r.feed.id == id) {
            println!("{}: {} articles", row.feed.display_name(), row.total);
        }
    }
    Ok(())
}

/// Has a worker save a new subscription's first answer as its first fetch.
/// Returns the fetch's error message if it failed.
async fn save_answer(
    paths: &Paths,
    config: Config,
    subscription: Subscription,
) -> anyhow::Result<Option<String>> {
    let (commands, mut progress, worker) = worker(paths, config)?;
    commands
        .send(WorkerCommand::Subscribe(Box::new(subscription)))
        .ok();
    drop(commands);
    let mut failure = None;
    while let Some(p) = progress.recv().await {
        match p {
            Progress::FeedDone(done) if done.record.failed() => {
                failure = Some(done.record.error_message.unwrap_or_default());
            }
            Progress::Aborted(reason) => bail!("refresh failed: {reason}"),
            _ => {}
        }
    }
    worker.await?;
    Ok(failure)
}

/// A refresh worker on its own connection to the store, caching images as
/// the configuration says.
fn worker(paths: &Paths, config: Config) -> anyhow::Result<crate::refresh::Worker> {
    let store = Store::open(&paths.database)
        .with_context(|| format!("cannot open {}", paths.database.display()))?;
    let images = ImagePlan::from_config(paths, &config);
    Ok(Refresher::new(store, config)?.with_images(images).spawn())
}

// ---- import / export --------------------------------------------------------------

fn import(store: &mut Store, file: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let text = crate::parse::to_utf8(&bytes, None);
    let list = subscriptions::parse_import(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let mut added = 0;
    for sub in &list.subscriptions {
        if store.add_feed(sub)?.1 {
            added += 1;
        }
    }
    for skipped in &list.skipped {
        eprintln!(
            "skipped {}: {}",
            truncate(&skipped.entry, 80),
            skipped.reason
        );
    }
    println!(
        "imported {} feeds from {} ({} already subscribed, {} skipped)",
        added,
        file.display(),
        list.subscriptions.len() - added,
        list.skipped.len()
    );
    Ok(())
}

fn export(store: &Store, format: ExportFormat, output: Option<&Path>) -> anyhow::Result<()> {
    let mut out: Box<dyn Write> = match output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let feeds = store.feeds()?;
    match format {
        ExportFormat::Opml => subscriptions::write_opml(&mut out, &feeds)?,
        ExportFormat::Json => {
            // One feed at a time: the export of a large cache never sits in memory whole.
            out.write_all(b"{\"feeds\": [")?;
            for (i, feed) in feeds.iter().enumerate() {
                let articles = store.feed_articles(feed.id)?;
                if i > 0 {
                    out.write_all(b",")?;
                }
                out.write_all(b"\n")?;
                serde_json::to_writer(&mut out, &ExportFeed::new(feed, &articles))?;
            }
            out.write_all(b"\n]}\n")?;
        }
    }
    out.flush()?;
    Ok(())
}

// ---- refresh ---------------------------------------------------------------------

fn resolve_feeds(store: &Store, names: &[String]) -> anyhow::Result<Option<Vec<FeedId>>> {
    if names.is_empty() {
        return Ok(None);
    }
    names
        .iter()
        .map(|n| resolve_feed(store, n).map(|f| f.id))
        .collect::<anyhow::Result<Vec<_>>>()
        .map(Some)
}

fn resolve_feed(store: &Store, name: &str) -> anyhow::Result<crate::model::Feed> {
    let mut found = store.find_feed(name)?;
    match found.len() {
        0 => bail!("no feed matches {name:?} (see tidings list)"),
        1 => Ok(found.remove(0)),
        n => {
            let names: Vec<String> = found
                .iter()
                .take(5)
                .map(|f| format!("  {}  {}", f.id, f.display_name()))
                .collect();
            bail!(
                "{n} feeds match {name:?}; name one by its id:\n{}",
                names.join("\n")
            )
        }
    }
}

/// Fetches every feed (or the `ids`) now: a line per feed (a progress bar on a
/// terminal, or nothing but failures with `quiet`), then the run's summary.
async fn refresh(
    store: Store,
    paths: &Paths,
    config: Config,
    ids: Option<Vec<FeedId>>,
    quiet: bool,
) -> anyhow::Result<()> {
    let images = ImagePlan::from_config(paths, &config);
    let (commands, mut progress, worker) =
        Refresher::new(store, config)?.with_images(images).spawn();
    commands.send(WorkerCommand::Refresh(ids)).ok();
    drop(commands);
    let interactive = std::io::stderr().is_terminal();
    let mut stats = RefreshStats::default();
    let mut bar: Option<indicatif::ProgressBar> = None;
    let mut failures: Vec<String> = Vec::new();
    let mut stdout = std::io::stdout().lock();
    let started = std::time::Instant::now();
    let mut articles_stored = std::time::Duration::ZERO;
    while let Some(p) = progress.recv().await {
        if matches!(p, Progress::FeedDone(_)) {
            articles_stored = started.elapsed();
        }
        stats.apply(&p);
        match &p {
            Progress::Started { total, skipped } => {
                if *skipped > 0 {
                    writeln!(
                        stdout,
                        "{skipped} feeds skipped (gone, or the server asked to wait)"
                    )?;
                }
                if interactive {
                    let b = indicatif::ProgressBar::new(*total as u64);
                    b.set_style(
                        indicatif::ProgressStyle::with_template(
                            "{bar:30} {pos}/{len} feeds {wide_msg}",
                        )
                        .expect("valid template"),
                    );
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
            Progress::ImagesDone { .. } | Progress::Finished(_) | Progress::Aborted(_) => {}
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
    writeln!(stdout, "{}", summary_line(&run))?;
    let images = &stats.images;
    if images.cached + images.failed + images.refused > 0 {
        writeln!(
            stdout,
            "{} images cached · {} failed · {} refused · {} · articles stored at {:.2} s, images done at {:.2} s",
            thousands(images.cached),
            thousands(images.failed),
            thousands(images.refused),
            megabytes(images.bytes_wire),
            articles_stored.as_secs_f64(),
            started.elapsed().as_secs_f64(),
        )?;
    }
    Ok(())
}

// ---- images ----------------------------------------------------------------------

fn images(
    store: &mut Store,
    paths: &Paths,
    config: &Config,
    action: ImagesAction,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match action {
        ImagesAction::Stats => {
            let totals = store.image_totals()?;
            let count = |status| {
                totals
                    .by_status
                    .iter()
                    .find(|(s, _)| *s == status)
                    .map_or(0, |(_, n)| *n)
            };
            use crate::model::ImageStatus::*;
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

fn feed_line(done: &crate::refresh::FeedDone) -> String {
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
        format!(
            "  ok {title}: {} new, {} articles",
            r.new_articles, r.total_articles
        )
    }
}

// ---- list / remove / search / stats ----------------------------------------------------

fn list(store: &Store) -> anyhow::Result<()> {
    let rows = store.feed_list()?;
    let mut out = std::io::stdout().lock();
    if rows.is_empty() {
        writeln!(
            out,
            "No feeds yet. Subscribe with `tidings add URL` or `tidings import FILE`."
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "{:>4}  {:>11}  {:<24}  FEED",
        "ID", "UNREAD/ALL", "LAST FETCH"
    )?;
    for row in &rows {
        writeln!(
            out,
            "{:>4}  {:>11}  {:<24}  {}{}",
            row.feed.id,
            format!("{}/{}", row.unread, row.total),
            fetch_status(row),
            truncate(row.feed.display_name(), 60),
            if row.feed.tags.is_empty() {
                String::new()
            } else {
                format!("  [{}]", row.feed.tags.join(", "))
            }
        )?;
    }
    Ok(())
}

fn fetch_status(row: &FeedListRow) -> String {
    if row.feed.gone {
        return "gone (410)".into();
    }
    match &row.last_fetch {
        None => "never".into(),
        Some(f) => match (f.error_kind, f.http_status) {
            (Some(kind), Some(status)) => format!("{kind} ({status})"),
            (Some(kind), None) => kind.to_string(),
            (None, _) if f.not_modified => "ok (304)".into(),
            (None, Some(status)) => format!("ok ({status})"),
            (None, None) => "ok (file)".into(),
        },
    }
}

fn remove(store: &mut Store, name: &str) -> anyhow::Result<()> {
    let feed = resolve_feed(store, name)?;
    store.remove_feed(feed.id)?;
    println!("removed {} ({})", feed.display_name(), feed.url);
    Ok(())
}

fn search(store: &Store, query: &str, limit: u64) -> anyhow::Result<()> {
    let hits = store.search(query, limit)?;
    let mut out = std::io::stdout().lock();
    if hits.is_empty() {
        writeln!(out, "nothing found for {query:?}")?;
    }
    for hit in hits {
        let a = &hit.article;
        let date = chrono::DateTime::from_timestamp(a.date, 0)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
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

fn stats(store: &Store, format: StatsFormat) -> anyhow::Result<()> {
    let now = chrono::Utc::now().timestamp();
    let feeds = store.feed_stats(now)?;
    let last_run = store.last_run(5)?;
    let mut out = std::io::stdout().lock();
    match format {
        StatsFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report::json(&feeds, last_run.as_ref()))?;
            writeln!(out)?;
        }
        StatsFormat::Text => {
            let cache = store.image_totals()?;
            report::write_text(&mut out, &feeds, last_run.as_ref(), &cache, now)?
        }
    }
    Ok(())
}
