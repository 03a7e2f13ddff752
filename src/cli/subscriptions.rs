//! The subscription commands: `add` (probe the address, subscribe, and have
//! the refresh worker save the answer as the first fetch), `import` (OPML or a
//! newsboat urls file), `export` (OPML, or everything as JSON), `list` and
//! `remove`.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};

use super::{ExportFormat, resolve_feed};
use crate::config::{Config, Paths};
use crate::fetch::{Fetcher, Response};
use crate::model::FeedListRow;
use crate::refresh::{Command as WorkerCommand, Progress, Refresher, Subscription};
use crate::store::{NewSubscription, Removed, Store};
use crate::subscribe::{Probe, probe, probe_input, subscription_url};
use crate::subscriptions::{self, ExportFeed};
use crate::text::{sanitize_text, truncate};

/// What `tidings add` was told besides the address.
pub(super) struct AddOptions {
    pub tags: Vec<String>,
    pub title: Option<String>,
    pub no_fetch: bool,
    pub full_text: bool,
    pub no_dedup: bool,
}

pub(super) async fn add(
    store: &mut Store,
    paths: &Paths,
    config: Config,
    input: &str,
    options: AddOptions,
) -> anyhow::Result<()> {
    let AddOptions {
        tags,
        title,
        no_fetch,
        full_text,
        no_dedup,
    } = options;
    let (url, feed_title, answer) = if no_fetch {
        (subscription_url(input)?, None, None)
    } else {
        let fetcher = Fetcher::new(&config.refresh)?;
        let answer = first_answer(&fetcher, input).await;
        // What a proxy carried for the first look counts in its statistics.
        store.save_proxy_uses(&fetcher.take_proxy_log())?;
        answer?
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
    if full_text || no_dedup {
        store.update_feed_settings(id, |s| {
            if full_text {
                s.full_text = Some(true);
            }
            if no_dedup {
                s.dedup = false;
            }
        })?;
    }
    if !new {
        let also = if full_text {
            "; its new articles get their full text"
        } else {
            ""
        };
        println!("already subscribed to {url} (feed {id}){also}");
        return Ok(());
    }
    let later = if answer.is_none() {
        "; the next refresh fetches it"
    } else {
        ""
    };
    println!("subscribed to {url} (feed {id}){later}");
    let for_sync = config.sync.is_some().then(|| config.clone());
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
    if let Some(config) = for_sync {
        super::sync::push_subscription(paths, config).await?;
    }
    Ok(())
}

/// What `tidings add` learns of an address before subscribing: the feed's
/// address (a page's one feed), its title and its answer. A feed that is
/// down is subscribed to unfetched when the user says so on a terminal.
async fn first_answer(
    fetcher: &Fetcher,
    input: &str,
) -> anyhow::Result<(String, Option<String>, Option<Response>)> {
    let (url, found) = match probe_input(fetcher, input).await {
        Ok(probed) => probed,
        Err(e) if is_down(&e) => {
            let url = subscription_url(input)?;
            if !subscribe_anyway(&url, &e)? {
                bail!(
                    "{e:#}\n(`tidings add --no-fetch {url}` subscribes without fetching; \
                     the next refresh fetches it)"
                );
            }
            return Ok((url, None, None));
        }
        Err(e) => return Err(e),
    };
    let first = match found {
        Probe::Feed(feed) => (feed.url, feed.title, Some(*feed.answer)),
        Probe::Page(found) => match found.as_slice() {
            [] => bail!("{url} is a web page that announces no feed"),
            [one] => {
                println!("found feed {}", one.url);
                match probe(fetcher, &one.url).await? {
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
    };
    Ok(first)
}

/// Has a worker save a new subscription's first answer as its first fetch.
/// Returns the fetch's error message if it failed.
pub(super) async fn save_answer(
    paths: &Paths,
    config: Config,
    subscription: Subscription,
) -> anyhow::Result<Option<String>> {
    let (commands, mut progress, worker) = Refresher::configured(paths, config)?.spawn();
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
            Progress::FeedDone(done) => {
                if let Some(warning) = done.record.warning {
                    eprintln!("warning: {warning}");
                }
            }
            Progress::Aborted(reason) => bail!("refresh failed: {reason}"),
            _ => {}
        }
    }
    worker.await?;
    Ok(failure)
}

pub(super) fn import(store: &mut Store, file: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let text = crate::parse::to_utf8(&bytes, None);
    let list = subscriptions::parse_import(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    // One transaction: all of the list or, if anything fails, none of it.
    let added = store
        .add_feeds(&list.subscriptions)?
        .iter()
        .filter(|(_, new)| *new)
        .count();
    for (name, query) in &list.queries {
        store.save_query_feed(name, query)?;
    }
    for skipped in &list.skipped {
        eprintln!(
            "skipped {}: {}",
            truncate(&skipped.entry, 80),
            skipped.reason
        );
    }
    let queries = match list.queries.len() {
        0 => String::new(),
        1 => " and 1 query feed".to_string(),
        n => format!(" and {n} query feeds"),
    };
    println!(
        "imported {} feeds{queries} from {} ({} already subscribed, {} skipped)",
        added,
        file.display(),
        list.subscriptions.len() - added,
        list.skipped.len()
    );
    Ok(())
}

pub(super) fn export(
    store: &Store,
    format: ExportFormat,
    output: Option<&Path>,
) -> anyhow::Result<()> {
    let mut out: Box<dyn Write> = match output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut feeds = store.feeds()?;
    match format {
        ExportFormat::Opml => subscriptions::write_opml(&mut out, &feeds)?,
        ExportFormat::Json => {
            // Everything: the saved feeds' kept articles too, marked `"saved": true`.
            feeds.extend(store.saved_feeds()?);
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

pub(super) fn list(store: &Store) -> anyhow::Result<()> {
    let (saved, rows): (Vec<FeedListRow>, Vec<FeedListRow>) =
        store.feed_list()?.into_iter().partition(|r| r.feed.saved);
    let mut out = std::io::stdout().lock();
    list_rows(&mut out, &rows)?;
    if !saved.is_empty() {
        let kept: u64 = saved.iter().map(|r| r.total).sum();
        writeln!(
            out,
            "Saved: {kept} {} kept from {} unsubscribed {} (read them under Saved in the reader)",
            if kept == 1 { "article" } else { "articles" },
            saved.len(),
            if saved.len() == 1 { "feed" } else { "feeds" },
        )?;
    }
    Ok(())
}

fn list_rows(out: &mut impl Write, rows: &[FeedListRow]) -> anyhow::Result<()> {
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
    for row in rows {
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

pub(super) fn fetch_status(row: &FeedListRow) -> String {
    if row.feed.gone {
        return "gone (410)".into();
    }
    if row.feed.synced {
        return "from the sync server".into();
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

pub(super) fn remove(store: &mut Store, name: &str, drop_starred: bool) -> anyhow::Result<()> {
    if store.find_feed(name)?.is_empty()
        && let [saved] = store.find_saved_feed(name)?.as_slice()
    {
        let kept = store.starred_count(saved.id)?;
        let articles = if kept == 1 { "article" } else { "articles" };
        if !drop_starred {
            bail!(
                "{} is no longer subscribed; its {kept} starred {articles} are kept under Saved \
                 (`tidings remove --drop-starred {}` deletes them)",
                saved.display_name(),
                saved.id
            );
        }
        store.remove_feed(saved.id, false)?;
        println!(
            "deleted the {kept} saved {articles} of {}",
            saved.display_name()
        );
        return Ok(());
    }
    let feed = resolve_feed(store, name)?;
    match store.remove_feed(feed.id, !drop_starred)? {
        Removed::Saved { kept } => println!(
            "removed {} ({}); kept its {kept} starred {} under Saved \
             (`tidings remove --drop-starred {}` deletes them)",
            feed.display_name(),
            feed.url,
            if kept == 1 { "article" } else { "articles" },
            feed.id
        ),
        Removed::Deleted | Removed::Nothing => {
            println!("removed {} ({})", feed.display_name(), feed.url)
        }
    }
    Ok(())
}

/// Whether a probe failed because the host is down (no answer, or a server
/// error), not because of what it answered.
fn is_down(error: &anyhow::Error) -> bool {
    error.chain().any(|c| {
        c.is::<crate::fetch::FetchError>()
            || c.downcast_ref::<crate::subscribe::Unanswered>()
                .is_some_and(|u| u.status >= 500)
    })
}

/// Asks, on a terminal, whether to subscribe to a feed that cannot be
/// reached now; elsewhere (cron, scripts) the answer is no.
fn subscribe_anyway(url: &str, error: &anyhow::Error) -> anyhow::Result<bool> {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        return Ok(false);
    }
    print!("{error:#}\nSubscribe to {url} anyway, to be fetched by a later refresh? [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}
