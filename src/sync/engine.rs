//! One sync with a [`Backend`], in the order that keeps both sides
//! consistent whenever it stops:
//!
//! 1. **push** what changed here: unsubscriptions (the queue), subscriptions
//!    (feeds the server does not have yet), new names and categories of
//!    feeds, then read and star changes in batches; each is marked done here only once the server has it, so a
//!    sync killed in the middle pushes the rest next time, nothing twice;
//! 2. **feeds**: the server's subscriptions and categories become the local
//!    list (added, linked by address, renamed, tagged, removed);
//! 3. **articles**: every article above the last id pulled, a page per
//!    transaction, newest first; the last id moves only once all are stored,
//!    so a sync that stops halfway pulls the same pages again (and stores
//!    nothing twice: articles are keyed by their server id);
//! 4. **state**: the server's unread and starred counts per feed are compared
//!    with what this device knows of them; only a feed whose counts differ
//!    (read or starred elsewhere) has its state pulled. A sync with nothing
//!    changed is three requests: subscriptions, counts, articles since.
//!
//! State from the server never overwrites a change made here and not yet
//! pushed (see `store/sync.rs`).

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use super::{Backend, FeedChange, Flag, RemoteArticle, RemoteId, Result, SyncRecord};
use crate::clock::Clock;
use crate::config::RetentionConfig;
use crate::images::ImagesToFind;
use crate::model::{FeedId, ParsedFeed};
use crate::parse::{absolute_urls, finish_article};
use crate::store::Store;

/// What a sync did: its record (for the caller to save once it has fetched
/// the new articles' images and pages) and the feeds that got new articles.
#[derive(Debug, Clone, Default)]
pub struct Synced {
    pub record: SyncRecord,
    pub feeds_with_new: HashSet<FeedId>,
}

/// How a sync treats what it pulls.
pub struct Pulling<'a> {
    /// Only push the changes made here (a subscription just made): nothing
    /// is pulled.
    pub push_only: bool,
    pub retention: &'a RetentionConfig,
    pub images: ImagesToFind,
    pub clock: &'a Clock,
}

/// Runs one sync against `backend`. Never fails: what went wrong is in the
/// record, and what was done before stays done.
pub async fn sync<B: Backend>(
    backend: &mut B,
    store: &mut Store,
    account: &str,
    server: &str,
    pulling: &Pulling<'_>,
) -> Synced {
    let started = Instant::now();
    let mut synced = Synced {
        record: SyncRecord {
            started_at: pulling.clock.now_secs(),
            backend: backend.name().to_string(),
            server: server.to_string(),
            ..SyncRecord::default()
        },
        ..Synced::default()
    };
    let mut remembered = None;
    let outcome = match store.use_sync_account(account) {
        Ok(changed) => {
            if changed {
                tracing::info!("sync: a new account ({server}); the server's ids start afresh");
            } else if let Ok(Some(memory)) = store.sync_memory() {
                backend.remember(&memory);
                remembered = Some(memory);
            }
            steps(backend, store, pulling, &mut synced).await
        }
        Err(e) => Err(e.into()),
    };
    // Written only when it changed (a new session, new category names).
    let memory = backend.memory();
    if remembered.as_ref() != Some(&memory)
        && let Err(e) = store.set_sync_memory(&memory)
    {
        tracing::warn!("sync: cannot keep the session: {e}");
    }
    let record = &mut synced.record;
    if let Err(e) = outcome {
        tracing::warn!("sync failed: {e}");
        record.error_kind = Some(e.kind().to_string());
        record.error = Some(e.to_string());
    }
    let traffic = backend.traffic();
    record.requests = traffic.requests;
    record.bytes = traffic.bytes;
    record.ms_login = traffic.ms_login;
    record.changes_left = store.sync_changes_waiting().unwrap_or(0);
    record.ms_total = started.elapsed().as_millis() as u64;
    synced
}

async fn steps<B: Backend>(
    backend: &mut B,
    store: &mut Store,
    pulling: &Pulling<'_>,
    synced: &mut Synced,
) -> Result<()> {
    let stage = Instant::now();
    push(backend, store, &mut synced.record).await?;
    synced.record.ms_push = elapsed(stage);
    if pulling.push_only {
        return Ok(());
    }

    let stage = Instant::now();
    let feeds = backend.feeds().await?;
    let changes = store.apply_remote_feeds(&feeds)?;
    synced.record.feeds_added = changes.added;
    synced.record.feeds_removed = changes.removed;
    synced.record.ms_feeds = elapsed(stage);
    let feed_urls: HashMap<RemoteId, &str> = feeds.iter().map(|f| (f.id, f.url.as_str())).collect();

    let stage = Instant::now();
    let since = store.last_pulled_article()?;
    let mut newest = since;
    let mut skip = 0;
    let mut page = backend.articles_since(since, 0).await?;
    loop {
        let len = page.len();
        newest = page.iter().map(|a| a.id).fold(newest, RemoteId::max);
        skip += len;
        if len < backend.page_size() || len == 0 {
            save(store, page, &feed_urls, pulling, synced)?;
            break;
        }
        // The next page is asked for while this one is stored: the server
        // works on it meanwhile, and a first sync takes the server's time
        // rather than the sum of both.
        let (next, saved) = futures_util::join!(backend.articles_since(since, skip), async {
            save(store, page, &feed_urls, pulling, synced)
        });
        saved?;
        page = next?;
    }
    if newest != since {
        store.set_last_pulled_article(newest)?;
    }
    synced.record.ms_articles = elapsed(stage);

    let stage = Instant::now();
    pull_states(backend, store, &feed_urls, pulling, synced).await?;
    synced.record.ms_state = elapsed(stage);
    Ok(())
}

async fn push<B: Backend>(
    backend: &mut B,
    store: &mut Store,
    record: &mut SyncRecord,
) -> Result<()> {
    for (queued, feed) in store.queued_unsubscriptions()? {
        backend.unsubscribe(feed).await?;
        store.unqueue(queued)?;
        record.changes_pushed += 1;
    }
    for (feed, url) in store.feeds_to_subscribe()? {
        match backend.subscribe(&url).await? {
            super::Subscribed::Feed(id) => {
                if store.link_feed(feed, id)? {
                    record.changes_pushed += 1;
                    store.queue_feed_details(feed)?;
                } else {
                    record
                        .warnings
                        .push(format!("{url}: the server has it as another subscription"));
                }
            }
            super::Subscribed::Listed => record.changes_pushed += 1,
            super::Subscribed::Refused(why) => {
                store.refuse_feed(feed, &why)?;
                record.warnings.push(format!("{url}: {why}"));
            }
        }
    }
    for (queued, feed, change) in store.queued_feed_changes()? {
        let pushed = match &change {
            FeedChange::Rename(title) => backend.rename(feed, title).await,
            FeedChange::Category(category) => backend.set_category(feed, category.as_deref()).await,
        };
        match pushed {
            Ok(()) => {
                if let FeedChange::Category(category) = &change {
                    store.category_pushed(feed, category.as_deref())?;
                }
                record.changes_pushed += 1;
            }
            // The server down: the change waits, as every other.
            Err(e) if e.transient() => return Err(e),
            // Refused: it stays a change of this device, and says so once.
            Err(e) => record.warnings.push(format!(
                "the server did not take a feed's new name or category: {e}"
            )),
        }
        store.unqueue(queued)?;
    }
    let pending = store.pending_flags()?;
    for (ids, flag, on) in [
        (&pending.read, Flag::Read, true),
        (&pending.unread, Flag::Read, false),
        (&pending.starred, Flag::Starred, true),
        (&pending.unstarred, Flag::Starred, false),
    ] {
        if ids.is_empty() {
            continue;
        }
        backend.set_flag(ids, flag, on).await?;
        store.confirm_pushed(ids, flag, on)?;
        record.changes_pushed += ids.len() as u64;
    }
    Ok(())
}

/// Pulls the state of the feeds whose counts on the server differ from
/// what this device knows of them, and any unread or starred article of
/// theirs it lacks.
async fn pull_states<B: Backend>(
    backend: &mut B,
    store: &mut Store,
    feed_urls: &HashMap<RemoteId, &str>,
    pulling: &Pulling<'_>,
    synced: &mut Synced,
) -> Result<()> {
    let server = backend.counts().await?;
    let known = store.known_counts()?;
    for (remote, held) in known {
        let Some(counts) = server.get(&remote) else {
            continue;
        };
        if counts.unread == held.unread && counts.starred == held.starred {
            continue;
        }
        let state = backend.feed_state(remote).await?;
        let unread: HashSet<RemoteId> = state.unread.iter().copied().collect();
        let starred: HashSet<RemoteId> = state.starred.iter().copied().collect();
        let (changed, missing) = store.apply_remote_state(held.feed, &unread, &starred)?;
        synced.record.states_pulled += changed;
        let mut fetched = HashSet::new();
        if !missing.is_empty() {
            let articles = backend.articles(&missing).await?;
            fetched.extend(articles.iter().map(|a| a.id));
            save(store, articles, feed_urls, pulling, synced)?;
        }
        let lacking = |ids: &HashSet<RemoteId>| {
            missing
                .iter()
                .filter(|id| ids.contains(id) && !fetched.contains(id))
                .count() as u64
        };
        store.set_remote_beyond(held.feed, lacking(&unread), lacking(&starred))?;
    }
    Ok(())
}

/// Readies pulled articles as a feed's parse would (their images found, their
/// search text and fingerprint) and stores them.
fn save(
    store: &mut Store,
    articles: Vec<RemoteArticle>,
    feed_urls: &HashMap<RemoteId, &str>,
    pulling: &Pulling<'_>,
    synced: &mut Synced,
) -> Result<()> {
    if articles.is_empty() {
        return Ok(());
    }
    let mut by_feed: HashMap<RemoteId, Vec<RemoteArticle>> = HashMap::new();
    for a in articles {
        by_feed.entry(a.feed).or_default().push(a);
    }
    let mut ready = Vec::new();
    for (feed, mut articles) in by_feed {
        let feed_url = feed_urls.get(&feed).copied().unwrap_or("");
        let mut parsed = ParsedFeed {
            articles: articles
                .iter_mut()
                .map(|a| std::mem::take(&mut a.article))
                .collect(),
            ..ParsedFeed::default()
        };
        // Bodies may come as the feed sent them: relative addresses are made
        // absolute against the article's own address, as a parse does.
        for article in &mut parsed.articles {
            let base = article.link.clone().unwrap_or_else(|| feed_url.to_string());
            article.content = article.content.take().map(|c| absolute_urls(c, &base));
        }
        pulling.images.find(&mut parsed, feed_url);
        for (a, article) in articles.iter_mut().zip(parsed.articles) {
            a.article = finish_article(article);
        }
        ready.extend(articles);
    }
    let saved = store.save_pulled_articles(ready, pulling.clock.now_secs(), pulling.retention)?;
    synced.record.articles_pulled += saved.new;
    synced.record.states_pulled += saved.states_changed;
    synced.feeds_with_new.extend(saved.feeds_with_new);
    Ok(())
}

fn elapsed(since: Instant) -> u64 {
    since.elapsed().as_millis() as u64
}
