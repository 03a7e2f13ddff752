//! What can sit over the three panes: the help, the statistics view, a
//! one-line prompt (search, subscribe, a feed's title and tags), the
//! question before unsubscribing, and the steps of subscribing (pick one of
//! a page's feeds, preview it, say yes), the downloaded enclosures, and a
//! feed's own settings (see `feed_settings`). Each
//! is plain state; the keys that
//! reach an open overlay are handled here, and `ui` draws it.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::feed_settings::{FeedSettingsView, Setting};
use super::{App, ArticleList, Effect, Focus};
use crate::fetch::DiscoveredFeed;
use crate::keys::Action;
use crate::model::{ArticleSource, DownloadRecord, FeedId, FeedStats, FetchRecord, QueryFeedId};
use crate::refresh::{Command, Subscription};
use crate::store::{NewSubscription, Removed, Result, Store};
use crate::subscribe::{FeedPreview, Probe};

pub enum Overlay {
    Help {
        scroll: usize,
    },
    Stats(StatsView),
    Prompt(Prompt),
    ConfirmUnsubscribe(Unsubscribe),
    /// A web page announced several feeds: which one?
    Pick {
        found: Vec<DiscoveredFeed>,
        cursor: usize,
    },
    /// A feed's title and newest items, before subscribing.
    Preview(FeedPreview),
    /// The enclosures downloaded, the latest first.
    Downloads(DownloadsView),
    /// A feed's own settings.
    FeedSettings(FeedSettingsView),
}

/// The list of downloads (`P`): Enter plays the selected file, offline;
/// `d` twice deletes it.
#[derive(Debug, Clone, PartialEq)]
pub struct DownloadsView {
    pub rows: Vec<DownloadRecord>,
    pub cursor: usize,
    /// `d` was pressed once on this download: a second `d` deletes it.
    pub deleting: Option<String>,
}

impl DownloadsView {
    pub fn load(store: &Store) -> Result<DownloadsView> {
        Ok(DownloadsView {
            rows: store.downloads()?,
            cursor: 0,
            deleting: None,
        })
    }

    /// Reads the list again, keeping the cursor on the same download.
    pub fn reload(&mut self, store: &Store) -> Result<()> {
        let selected = self.rows.get(self.cursor).map(|r| r.url.clone());
        self.rows = store.downloads()?;
        self.cursor = selected
            .and_then(|url| self.rows.iter().position(|r| r.url == url))
            .unwrap_or(0);
        Ok(())
    }
}

/// The question before unsubscribing: whether to keep the feed's starred
/// articles (under "Saved") is part of it when it has any. On a saved feed,
/// the question is whether to delete what was kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    pub feed: FeedId,
    pub name: String,
    pub starred: u64,
    /// The feed is saved already: the question is about its kept articles.
    pub saved: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    Search,
    Subscribe,
    EditTitle(FeedId),
    EditTags(FeedId),
    /// A query feed, new or to edit: `name: query`.
    QueryFeed(Option<QueryFeedId>),
    /// A value for one of a feed's settings.
    FeedSetting(FeedId, Setting),
}

impl PromptKind {
    pub fn label(self) -> &'static str {
        match self {
            PromptKind::Search => "Search: ",
            PromptKind::Subscribe => "Subscribe to (feed or web page URL): ",
            PromptKind::EditTitle(_) => "Title (empty: the feed's own): ",
            PromptKind::EditTags(_) => "Tags (comma separated): ",
            PromptKind::QueryFeed(_) => "Query feed (name: query): ",
            PromptKind::FeedSetting(_, setting) => setting.question().unwrap_or("Value: "),
        }
    }
}

/// A line of input; the cursor is a character index.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub input: String,
    pub cursor: usize,
}

impl Prompt {
    pub fn new(kind: PromptKind) -> Prompt {
        Prompt::with_text(kind, String::new())
    }

    pub fn with_text(kind: PromptKind, input: String) -> Prompt {
        let cursor = input.chars().count();
        Prompt {
            kind,
            input,
            cursor,
        }
    }

    fn byte_at(&self, chars: usize) -> usize {
        self.input
            .char_indices()
            .nth(chars)
            .map_or(self.input.len(), |(i, _)| i)
    }

    /// Line editing: characters, Backspace, Delete, arrows, Home/End, Ctrl-u
    /// (clear to the start) and Ctrl-w (delete a word).
    pub fn edit(&mut self, key: KeyEvent) {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let len = self.input.chars().count();
        match key.code {
            KeyCode::Char('u') if ctrl => {
                let at = self.byte_at(self.cursor);
                self.input.replace_range(..at, "");
                self.cursor = 0;
            }
            KeyCode::Char('w') if ctrl => {
                let chars: Vec<char> = self.input.chars().collect();
                let mut start = self.cursor;
                while start > 0 && chars[start - 1] == ' ' {
                    start -= 1;
                }
                while start > 0 && chars[start - 1] != ' ' {
                    start -= 1;
                }
                let (from, to) = (self.byte_at(start), self.byte_at(self.cursor));
                self.input.replace_range(from..to, "");
                self.cursor = start;
            }
            KeyCode::Char(c) if !ctrl && !c.is_control() => {
                let at = self.byte_at(self.cursor);
                self.input.insert(at, c);
                self.cursor += 1;
            }
            KeyCode::Backspace if self.cursor > 0 => {
                let at = self.byte_at(self.cursor - 1);
                self.input.remove(at);
                self.cursor -= 1;
            }
            KeyCode::Delete if self.cursor < len => {
                let at = self.byte_at(self.cursor);
                self.input.remove(at);
            }
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(len),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = len,
            _ => {}
        }
    }
}

/// The columns of the statistics table, in order; the view sorts by one.
pub const STATS_COLUMNS: &[&str] = &[
    "feed",
    "last attempt",
    "last success",
    "status",
    "streak",
    "median",
    "304s",
    "per week",
    "idle",
    "last error / warning",
];

/// Every feed's derived statistics, sorted by a column, and the fetch
/// history of the selected one.
pub struct StatsView {
    pub rows: Vec<FeedStats>,
    /// The HTTP status of each feed's last fetch, by row.
    pub cursor: usize,
    pub sort_column: usize,
    pub descending: bool,
    pub history: Vec<FetchRecord>,
    /// One line per proxy (`report::proxy_lines`); none without proxies.
    pub proxies: Vec<String>,
    pub now_ms: i64,
}

impl StatsView {
    pub fn load(store: &Store, now_ms: i64, feed: Option<FeedId>) -> Result<StatsView> {
        let rows = store.feed_stats(now_ms / 1000)?;
        let mut view = StatsView {
            rows,
            cursor: 0,
            sort_column: 0,
            descending: false,
            history: Vec::new(),
            proxies: crate::report::proxy_lines(&store.proxy_stats()?, now_ms / 1000),
            now_ms,
        };
        view.sort();
        if let Some(feed) = feed {
            view.cursor = view
                .rows
                .iter()
                .position(|r| r.feed_id == feed)
                .unwrap_or(0);
        }
        view.load_history(store)?;
        Ok(view)
    }

    fn load_history(&mut self, store: &Store) -> Result<()> {
        self.history = match self.rows.get(self.cursor) {
            Some(row) => store.fetch_history(row.feed_id, 50)?,
            None => Vec::new(),
        };
        Ok(())
    }

    pub fn move_by(&mut self, store: &Store, delta: isize) -> Result<()> {
        let last = self.rows.len().saturating_sub(1) as isize;
        self.cursor = (self.cursor as isize + delta).clamp(0, last.max(0)) as usize;
        self.load_history(store)
    }

    pub fn sort_by_offset(&mut self, delta: isize) {
        let n = STATS_COLUMNS.len() as isize;
        self.sort_column = ((self.sort_column as isize + delta).rem_euclid(n)) as usize;
        // Numbers read best largest first; names from A.
        self.descending = self.sort_column != 0;
        self.sort();
    }

    pub fn reverse(&mut self) {
        self.descending = !self.descending;
        self.sort();
    }

    fn sort(&mut self) {
        let selected = self.rows.get(self.cursor).map(|r| r.feed_id);
        let column = self.sort_column;
        self.rows.sort_by(|a, b| {
            use std::cmp::Ordering;
            let key = |r: &FeedStats| -> (f64, String) {
                match column {
                    1 => (r.last_attempt_ms.unwrap_or(0) as f64, String::new()),
                    2 => (r.last_success_ms.unwrap_or(0) as f64, String::new()),
                    3 => (r.last_status.unwrap_or(0) as f64, String::new()),
                    4 => (r.failure_streak as f64, String::new()),
                    5 => (r.median_latency_ms.unwrap_or(0) as f64, String::new()),
                    6 => (r.not_modified_share.unwrap_or(0.0), String::new()),
                    7 => (r.articles_per_week, String::new()),
                    8 => (-(r.last_new_article.unwrap_or(0) as f64), String::new()),
                    9 => {
                        let problem = r.last_error.as_ref().or(r.last_warning.as_ref());
                        (0.0, problem.cloned().unwrap_or_default())
                    }
                    _ => (0.0, r.title.to_lowercase()),
                }
            };
            let (ka, kb) = (key(a), key(b));
            let order =
                ka.0.partial_cmp(&kb.0)
                    .unwrap_or(Ordering::Equal)
                    .then_with(|| ka.1.cmp(&kb.1));
            if self.descending {
                order.reverse()
            } else {
                order
            }
        });
        if let Some(id) = selected {
            self.cursor = self.rows.iter().position(|r| r.feed_id == id).unwrap_or(0);
        }
    }
}

/// Keys while an overlay is open, and the steps of subscribing.
impl App {
    // ---- overlays ------------------------------------------------------------

    pub(super) fn on_overlay_key(&mut self, key: KeyEvent) -> anyhow::Result<Vec<Effect>> {
        let action = self.keymap.action(&key);
        let Some(overlay) = self.overlay.take() else {
            return Ok(Vec::new());
        };
        match overlay {
            Overlay::Help { scroll } => {
                let scroll = match action {
                    Some(Action::Down) => scroll + 1,
                    Some(Action::Up) => scroll.saturating_sub(1),
                    Some(Action::Help | Action::Quit) => return Ok(Vec::new()),
                    _ if key.code == KeyCode::Esc => return Ok(Vec::new()),
                    _ => scroll,
                };
                self.overlay = Some(Overlay::Help { scroll });
            }
            Overlay::Stats(mut view) => {
                match action {
                    Some(Action::Statistics | Action::Quit) => return Ok(Vec::new()),
                    _ if key.code == KeyCode::Esc => return Ok(Vec::new()),
                    Some(Action::Down) => view.move_by(&self.store, 1)?,
                    Some(Action::Up) => view.move_by(&self.store, -1)?,
                    Some(Action::PageDown) => view.move_by(&self.store, 10)?,
                    Some(Action::PageUp) => view.move_by(&self.store, -10)?,
                    Some(Action::NextPane) => view.sort_by_offset(1),
                    Some(Action::PrevPane) => view.sort_by_offset(-1),
                    Some(Action::Open) => view.reverse(),
                    _ => {}
                }
                self.overlay = Some(Overlay::Stats(view));
            }
            Overlay::Downloads(mut view) => {
                if action != Some(Action::Unsubscribe) {
                    view.deleting = None;
                }
                match action {
                    Some(Action::Downloads | Action::Quit) => return Ok(Vec::new()),
                    _ if key.code == KeyCode::Esc => return Ok(Vec::new()),
                    Some(Action::Down) => {
                        view.cursor = (view.cursor + 1).min(view.rows.len().saturating_sub(1))
                    }
                    Some(Action::Up) => view.cursor = view.cursor.saturating_sub(1),
                    Some(Action::Unsubscribe) => self.delete_download(&mut view)?,
                    Some(Action::Open) => {
                        let file = self.downloaded_file(view.rows.get(view.cursor));
                        self.overlay = Some(Overlay::Downloads(view));
                        return Ok(match file {
                            Some(path) => vec![Effect::PlayFile(path)],
                            None => {
                                self.notify(
                                    "that download is not complete, or its file is gone".into(),
                                    true,
                                );
                                Vec::new()
                            }
                        });
                    }
                    _ => {}
                }
                self.overlay = Some(Overlay::Downloads(view));
            }
            Overlay::FeedSettings(view) => return self.on_feed_settings_key(view, key),
            Overlay::ConfirmUnsubscribe(question) => self.answer_unsubscribe(question, key)?,
            Overlay::Pick { found, cursor } => match (key.code, action) {
                (KeyCode::Enter, _) => {
                    let url = found[cursor].url.clone();
                    self.notify(format!("looking at {url}…"), false);
                    return Ok(vec![Effect::Probe(url)]);
                }
                (KeyCode::Esc, _) | (_, Some(Action::Quit)) => {}
                (_, Some(Action::Down)) => {
                    let cursor = (cursor + 1).min(found.len() - 1);
                    self.overlay = Some(Overlay::Pick { found, cursor });
                }
                (_, Some(Action::Up)) => {
                    let cursor = cursor.saturating_sub(1);
                    self.overlay = Some(Overlay::Pick { found, cursor });
                }
                _ => self.overlay = Some(Overlay::Pick { found, cursor }),
            },
            Overlay::Preview(preview) => match key.code {
                KeyCode::Enter | KeyCode::Char('y') => return self.subscribe(preview),
                KeyCode::Esc | KeyCode::Char('n') | KeyCode::Char('q') => {
                    self.notify("not subscribed".into(), false)
                }
                _ => self.overlay = Some(Overlay::Preview(preview)),
            },
            Overlay::Prompt(mut prompt) => match key.code {
                // A feed setting's value not typed after all: back to the settings.
                KeyCode::Esc => {
                    if let Some(view) = self.editing_settings.take() {
                        self.overlay = Some(Overlay::FeedSettings(view));
                    }
                }
                KeyCode::Enter => return self.submit(prompt),
                _ => {
                    prompt.edit(key);
                    self.overlay = Some(Overlay::Prompt(prompt));
                }
            },
        }
        Ok(Vec::new())
    }

    /// y or Enter: yes (keeping starred articles when there are any); `a`:
    /// yes, and delete the starred articles too; anything else: no.
    fn answer_unsubscribe(&mut self, question: Unsubscribe, key: KeyEvent) -> anyhow::Result<()> {
        let Unsubscribe {
            feed,
            name,
            starred,
            saved,
        } = question;
        let articles = if starred == 1 { "article" } else { "articles" };
        let keep = match key.code {
            KeyCode::Char('y' | 'Y') | KeyCode::Enter => !saved,
            KeyCode::Char('a' | 'A') if starred > 0 && !saved => false,
            _ => {
                let kept = if saved {
                    format!("kept the saved {articles} of {name}")
                } else {
                    "kept the subscription".into()
                };
                self.notify(kept, false);
                return Ok(());
            }
        };
        let removed = self.store.remove_feed(feed, keep)?;
        self.open = None;
        self.focus = Focus::Feeds;
        self.feeds.reload(&self.store)?;
        self.show_selected_source()?;
        let said = match removed {
            Removed::Saved { kept } => {
                let articles = if kept == 1 {
                    "article is"
                } else {
                    "articles are"
                };
                format!("unsubscribed from {name}; its {kept} starred {articles} under Saved")
            }
            _ if saved => format!("deleted the saved {articles} of {name}"),
            _ if starred > 0 => {
                format!("unsubscribed from {name} and deleted its {starred} starred {articles}")
            }
            _ => format!("unsubscribed from {name}"),
        };
        self.notify(said, false);
        Ok(())
    }

    pub(super) fn submit(&mut self, prompt: Prompt) -> anyhow::Result<Vec<Effect>> {
        let text = prompt.input.trim().to_string();
        match prompt.kind {
            PromptKind::Search => {
                if text.is_empty() {
                    return Ok(Vec::new());
                }
                let hits = self.store.search(&text, 1000)?;
                let rows = hits.into_iter().map(|h| h.article).collect::<Vec<_>>();
                self.notify(format!("{} articles match “{text}”", rows.len()), false);
                self.articles = ArticleList::of_search(text, rows);
                self.focus = Focus::Articles;
                self.scroll_lists();
            }
            PromptKind::Subscribe => {
                if !text.is_empty() {
                    self.notify(format!("looking at {text}…"), false);
                    return Ok(vec![Effect::Probe(text)]);
                }
            }
            PromptKind::EditTitle(feed) => {
                self.store
                    .set_feed_title(feed, Some(text.as_str()).filter(|t| !t.is_empty()))?;
                let tags = self
                    .feeds
                    .selected_feed()
                    .map(|r| r.feed.tags.join(", "))
                    .unwrap_or_default();
                self.feeds.reload(&self.store)?;
                self.overlay = Some(Overlay::Prompt(Prompt::with_text(
                    PromptKind::EditTags(feed),
                    tags,
                )));
            }
            PromptKind::QueryFeed(id) => return self.save_query_feed(id, prompt),
            PromptKind::FeedSetting(_, setting) => self.submit_feed_setting(setting, prompt)?,
            PromptKind::EditTags(feed) => {
                let tags: Vec<String> = text
                    .split(',')
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty())
                    .collect();
                self.store.set_feed_tags(feed, &tags)?;
                self.feeds.reload(&self.store)?;
                self.feeds.select_feed(feed);
                self.notify("saved the feed's title and tags".into(), false);
            }
        }
        Ok(Vec::new())
    }

    pub(super) fn on_probed(
        &mut self,
        result: std::result::Result<Probe, String>,
    ) -> anyhow::Result<Vec<Effect>> {
        match result {
            Err(e) => self.notify(e, true),
            Ok(Probe::Feed(preview)) => {
                self.notice = None;
                self.overlay = Some(Overlay::Preview(preview));
            }
            Ok(Probe::Page(found)) => match found.len() {
                0 => self.notify("that page announces no feed".into(), true),
                1 => {
                    let url = found[0].url.clone();
                    self.notify(format!("found {url}…"), false);
                    return Ok(vec![Effect::Probe(url)]);
                }
                _ => {
                    self.notice = None;
                    self.overlay = Some(Overlay::Pick { found, cursor: 0 });
                }
            },
        }
        Ok(Vec::new())
    }

    /// The user said yes to a previewed feed: subscribe, and save the answer
    /// already in hand as its first fetch.
    pub(super) fn subscribe(&mut self, preview: FeedPreview) -> anyhow::Result<Vec<Effect>> {
        let (feed, new) = self.store.add_feed(&NewSubscription {
            url: preview.url.clone(),
            feed_title: preview.title.clone(),
            ..Default::default()
        })?;
        self.feeds.reload(&self.store)?;
        self.feeds.select_feed(feed);
        self.focus = Focus::Feeds;
        self.show_selected_source()?;
        if !new {
            self.notify(format!("already subscribed to {}", preview.url), false);
            return Ok(Vec::new());
        }
        let name = preview.title.unwrap_or(preview.url.clone());
        self.notify(format!("subscribed to {name}"), false);
        self.subscribing.push(feed);
        let mut effects = vec![Effect::Worker(Command::Subscribe(Box::new(Subscription {
            feed,
            url: preview.url,
            title: name,
            answer: *preview.answer,
        })))];
        // The server subscribes too, at once.
        if self.sync.on {
            effects.push(Effect::Worker(Command::SyncPush));
        }
        Ok(effects)
    }

    /// A new subscription's first fetch has been saved (or failed, with why).
    pub(super) fn subscribed(&mut self, feed: FeedId, failure: Option<String>) {
        if let Err(e) = self.reload_lists() {
            self.notify(e.to_string(), true);
            return;
        }
        if let Some(error) = failure {
            self.notify(
                format!("subscribed, but the first fetch failed: {error}"),
                true,
            );
        } else if self.articles.source == ArticleSource::Feed(feed) {
            let n = self.articles.total;
            let noun = if n == 1 { "article" } else { "articles" };
            self.notify(
                format!("subscribed to {}: {n} {noun}", self.feed_name(feed)),
                false,
            );
        }
    }
}
