//! The reader's state and the one function that changes it: [`App::update`]
//! takes a [`Msg`] (a key, the mouse, a resize, a worker's progress, a tick)
//! and returns the [`Effect`]s the event loop must carry out (worker commands,
//! opening a link, copying). Drawing lives in `ui`, the loop in `tui`.
//!
//! The App owns its own store connection: it reads what is on screen and makes
//! the small writes a reader makes (read, starred, titles and tags). Articles
//! never arrive over the channel: a `FeedDone` only says that a feed changed,
//! and the lists re-read themselves with the cursor kept on its article. Text
//! layout (the rendered article, list heights) is computed here, never in
//! `draw`.

mod lists;
mod overlay;
#[cfg(test)]
pub(crate) mod testing;

use std::collections::HashMap;
use std::rc::Rc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

pub use lists::{ArticleList, FeedEntry, FeedList};
pub use overlay::{Overlay, Prompt, PromptKind, STATS_COLUMNS, StatsView};

use crate::config::{Config, MarkRead, SortOrder, UiConfig};
use crate::fetch::Response;
use crate::keys::{Action, Keymap};
use crate::model::{Article, ArticleId, ArticleSource, FeedId, FetchRecord, RunStats};
use crate::refresh::{Command, Progress, RefreshStats};
use crate::render::{ArticleStyles, Rendered, render_article};
use crate::store::{NewSubscription, Store};
use crate::subscribe::{FeedPreview, Probe};
use crate::ui::{self, Theme};

/// Everything that can happen to the reader.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    Progress(Progress),
    /// Time passes: auto refresh, another process's writes, the clock shown.
    Tick,
    /// What an address given to `a` turned out to be.
    Probed(Result<Probe, String>),
    /// A new subscription's first fetch was saved (or failed, with why).
    Subscribed(FeedId, Option<String>),
    /// Something the loop did for the App failed (a browser that would not start).
    Failed(String),
}

/// What the event loop does for the App: the App itself touches no network,
/// spawns no process and writes nothing to the terminal.
#[derive(Debug)]
pub enum Effect {
    Worker(Command),
    OpenUrl(String),
    Copy(String),
    /// Look at what the user typed: a feed, or a page announcing feeds?
    Probe(String),
    /// Save a new subscription's first answer (the probe's).
    SaveAnswer {
        feed: FeedId,
        answer: Box<Response>,
    },
    Quit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Feeds,
    Articles,
    Article,
}

/// The article being read, rendered for the pane's width.
pub struct OpenArticle {
    pub article: Article,
    pub feed_title: String,
    pub rendered: Rc<Rendered>,
    pub scroll: usize,
}

/// A line at the bottom that says what just happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
    pub at_ms: i64,
}

pub struct App {
    pub store: Store,
    pub keymap: Keymap,
    pub theme: Theme,
    pub ui: UiConfig,
    refresh_interval_ms: i64,
    pub feeds: FeedList,
    pub articles: ArticleList,
    pub open: Option<OpenArticle>,
    pub focus: Focus,
    pub overlay: Option<Overlay>,
    pub refresh: RefreshStats,
    pub refresh_started_ms: i64,
    pub last_run: Option<RunStats>,
    /// The last run reached no feed at all.
    pub offline: bool,
    pub notice: Option<Notice>,
    /// The last fetch of the feed selected in the feed list.
    pub selected_fetch: Option<FetchRecord>,
    /// The local time zone, as an offset from UTC (0 in tests).
    pub utc_offset_secs: i32,
    /// Set by every message that changed what is on screen.
    pub needs_redraw: bool,
    /// New articles arrived that the lists have not re-read yet.
    lists_stale: bool,
    lists_read_ms: i64,
    /// The last bulk "mark read", for `u`.
    undo: Option<Vec<ArticleId>>,
    pub size: Rect,
    /// Milliseconds since the epoch, set by the loop (fixed in tests).
    pub now_ms: i64,
    last_auto_refresh_ms: i64,
    data_version: i64,
    renders: HashMap<(ArticleId, u16), Rc<Rendered>>,
    pub quit: bool,
}

impl App {
    pub fn new(store: Store, config: &Config, now_ms: i64, size: Rect) -> anyhow::Result<App> {
        let keymap = Keymap::new(&config.keys).map_err(|e| anyhow::anyhow!(e))?;
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let ui = config.ui.clone();
        let articles = ArticleList::new(
            ArticleSource::Unread,
            ui.unread_only,
            ui.sort == SortOrder::NewestFirst,
        );
        let last_run = store.last_run(0)?.map(|(run, _)| run);
        let data_version = store.data_version()?;
        let mut app = App {
            store,
            keymap,
            theme: Theme::new(&config.theme, no_color),
            refresh_interval_ms: config.refresh.interval_minutes as i64 * 60_000,
            ui,
            feeds: FeedList::default(),
            articles,
            open: None,
            focus: Focus::Feeds,
            overlay: None,
            refresh: RefreshStats::default(),
            refresh_started_ms: 0,
            offline: last_run
                .as_ref()
                .is_some_and(|r| r.feeds > 0 && r.ok + r.not_modified == 0),
            last_run,
            notice: None,
            selected_fetch: None,
            utc_offset_secs: 0,
            needs_redraw: true,
            lists_stale: false,
            lists_read_ms: i64::MIN / 2,
            undo: None,
            size,
            now_ms,
            last_auto_refresh_ms: now_ms,
            data_version,
            renders: HashMap::new(),
            quit: false,
        };
        app.feeds.reload(&app.store)?;
        app.show_selected_source()?;
        app.relayout();
        Ok(app)
    }

    /// The commands to send when the reader starts.
    pub fn on_start(&mut self, refresh_on_start: bool) -> Vec<Effect> {
        let has_feeds = self.feeds.feed_ids().next().is_some();
        if refresh_on_start && has_feeds {
            vec![Effect::Worker(Command::Refresh(None))]
        } else {
            Vec::new()
        }
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        // A tick says for itself whether it changed anything.
        self.needs_redraw |= !matches!(msg, Msg::Tick);
        match self.try_update(msg) {
            Ok(effects) => effects,
            Err(e) => {
                tracing::error!("{e:#}");
                self.notify(format!("{e:#}"), true);
                Vec::new()
            }
        }
    }

    fn try_update(&mut self, msg: Msg) -> anyhow::Result<Vec<Effect>> {
        match msg {
            Msg::Key(key) => self.on_key(key),
            Msg::Mouse(mouse) => self.on_mouse(mouse).map(|()| Vec::new()),
            Msg::Resize(width, height) => {
                self.size = Rect::new(0, 0, width, height);
                self.relayout();
                self.rerender()?;
                Ok(Vec::new())
            }
            Msg::Progress(progress) => self.on_progress(progress).map(|()| Vec::new()),
            Msg::Tick => self.on_tick(),
            Msg::Probed(result) => self.on_probed(result),
            Msg::Subscribed(feed, failure) => {
                self.subscribed(feed, failure);
                Ok(Vec::new())
            }
            Msg::Failed(error) => {
                self.notify(error, true);
                Ok(Vec::new())
            }
        }
    }

    // ---- keys ----------------------------------------------------------------

    fn on_key(&mut self, key: KeyEvent) -> anyhow::Result<Vec<Effect>> {
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            self.quit = true;
            return Ok(vec![Effect::Quit]);
        }
        if self.overlay.is_some() {
            return self.on_overlay_key(key);
        }
        if key.code == KeyCode::Esc {
            self.back();
            return Ok(Vec::new());
        }
        match self.keymap.action(&key) {
            Some(action) => self.act(action),
            None => Ok(Vec::new()),
        }
    }

    /// What an action does in the current focus.
    pub fn act(&mut self, action: Action) -> anyhow::Result<Vec<Effect>> {
        let page = self.page_height() as i64;
        match action {
            Action::Down => self.move_by(1)?,
            Action::Up => self.move_by(-1)?,
            Action::PageDown => self.move_by(page)?,
            Action::PageUp => self.move_by(-page)?,
            Action::HalfPageDown => self.move_by(page / 2)?,
            Action::HalfPageUp => self.move_by(-page / 2)?,
            Action::Top => self.move_by(i64::MIN / 2)?,
            Action::Bottom => self.move_by(i64::MAX / 2)?,
            Action::NextPane => self.next_pane()?,
            Action::PrevPane => self.back(),
            Action::Open => self.open_selected()?,
            Action::PageOrNextUnread => {
                let at_end = self.open.as_ref().is_none_or(|o| {
                    o.scroll + self.page_height() >= o.rendered.lines.len() + ARTICLE_HEADER_LINES
                });
                if self.focus == Focus::Article && !at_end {
                    self.move_by(page)?;
                } else {
                    self.next_unread(true)?;
                }
            }
            Action::NextUnread => self.next_unread(true)?,
            Action::PrevUnread => self.next_unread(false)?,
            Action::ToggleRead => self.toggle_read()?,
            Action::ToggleStar => self.toggle_star()?,
            Action::MarkAllRead => self.mark_all_read()?,
            Action::Undo => self.undo()?,
            Action::ToggleUnreadOnly => {
                self.articles.unread_only = !self.articles.unread_only;
                self.show_selected_source()?;
                let what = if self.articles.unread_only {
                    "unread articles only"
                } else {
                    "all articles"
                };
                self.notify(format!("showing {what}"), false);
            }
            Action::RefreshAll => return Ok(vec![Effect::Worker(Command::Refresh(None))]),
            Action::RefreshFeed => {
                return Ok(match self.current_feed() {
                    Some(feed) => vec![Effect::Worker(Command::Refresh(Some(vec![feed])))],
                    None => vec![Effect::Worker(Command::Refresh(None))],
                });
            }
            Action::Search => self.overlay = Some(Overlay::Prompt(Prompt::new(PromptKind::Search))),
            Action::Subscribe => {
                self.overlay = Some(Overlay::Prompt(Prompt::new(PromptKind::Subscribe)))
            }
            Action::EditFeed => {
                if let Some(row) = self.feeds.selected_feed() {
                    let title = row.feed.title.clone().unwrap_or_default();
                    let kind = PromptKind::EditTitle(row.feed.id);
                    self.overlay = Some(Overlay::Prompt(Prompt::with_text(kind, title)));
                } else {
                    self.notify("select a feed in the feed list to edit it".into(), true);
                }
            }
            Action::Unsubscribe => {
                if let Some(row) = self.feeds.selected_feed() {
                    self.overlay = Some(Overlay::ConfirmUnsubscribe(
                        row.feed.id,
                        row.feed.display_name().to_string(),
                    ));
                } else {
                    self.notify("select a feed in the feed list to unsubscribe".into(), true);
                }
            }
            Action::OpenInBrowser => {
                return Ok(self
                    .current_link()
                    .map(Effect::OpenUrl)
                    .into_iter()
                    .collect());
            }
            Action::OpenLink(n) => {
                let link = self
                    .open
                    .as_ref()
                    .and_then(|o| o.rendered.links.get(n as usize - 1));
                match link {
                    Some(url) => return Ok(vec![Effect::OpenUrl(url.clone())]),
                    None => self.notify(format!("no link [{n}] in this article"), true),
                }
            }
            Action::CopyLink => match self.current_link() {
                Some(url) => {
                    self.notify(format!("copied {url}"), false);
                    return Ok(vec![Effect::Copy(url)]);
                }
                None => self.notify("this article has no link".into(), true),
            },
            Action::Statistics => {
                self.overlay = Some(Overlay::Stats(StatsView::load(
                    &self.store,
                    self.now_ms,
                    self.current_feed(),
                )?))
            }
            Action::Help => self.overlay = Some(Overlay::Help { scroll: 0 }),
            Action::Quit => {
                if self.focus == Focus::Article {
                    self.back();
                } else {
                    self.quit = true;
                    return Ok(vec![Effect::Quit]);
                }
            }
        }
        Ok(Vec::new())
    }

    fn move_by(&mut self, delta: i64) -> anyhow::Result<()> {
        match self.focus {
            Focus::Feeds => {
                let before = self.feeds.cursor;
                self.feeds.move_by(delta.clamp(-100_000, 100_000) as isize);
                if self.feeds.cursor != before {
                    self.show_selected_source()?;
                }
            }
            Focus::Articles => self.articles.move_by(&self.store, delta)?,
            Focus::Article => {
                let height = self.article_height();
                if let Some(open) = &mut self.open {
                    let last =
                        (open.rendered.lines.len() + ARTICLE_HEADER_LINES).saturating_sub(height);
                    open.scroll = (open.scroll as i64 + delta).clamp(0, last as i64) as usize;
                }
            }
        }
        self.scroll_lists();
        Ok(())
    }

    fn next_pane(&mut self) -> anyhow::Result<()> {
        match self.focus {
            Focus::Feeds => self.focus = Focus::Articles,
            Focus::Articles if self.open.is_some() => self.focus = Focus::Article,
            Focus::Articles => self.open_selected()?,
            Focus::Article => {}
        }
        self.relayout();
        Ok(())
    }

    /// One step back: article → list → feeds.
    fn back(&mut self) {
        match self.focus {
            Focus::Article => {
                self.leave_article();
                self.focus = Focus::Articles;
            }
            Focus::Articles => self.focus = Focus::Feeds,
            Focus::Feeds => {}
        }
        self.relayout();
    }

    fn open_selected(&mut self) -> anyhow::Result<()> {
        match self.focus {
            Focus::Feeds => {
                if self.articles.total > 0 {
                    self.focus = Focus::Articles;
                }
            }
            Focus::Articles | Focus::Article => {
                if let Some(summary) = self.articles.selected().cloned() {
                    self.open_article(summary.id)?;
                }
            }
        }
        self.relayout();
        Ok(())
    }

    fn open_article(&mut self, id: ArticleId) -> anyhow::Result<()> {
        self.leave_article();
        let Some(mut article) = self.store.article(id)? else {
            self.notify("that article is no longer in the cache".into(), true);
            return Ok(());
        };
        if self.ui.mark_read == MarkRead::OnOpen && !article.read {
            self.set_read(id, article.feed_id, true)?;
            article.read = true;
        }
        let feed_title = self.feed_name(article.feed_id);
        self.focus = Focus::Article;
        self.relayout();
        let rendered = self.rendered(&article);
        self.open = Some(OpenArticle {
            article,
            feed_title,
            rendered,
            scroll: 0,
        });
        Ok(())
    }

    /// Closing an article marks it read under the on-leave policy.
    fn leave_article(&mut self) {
        if let Some(open) = self.open.take()
            && self.ui.mark_read == MarkRead::OnLeave
            && !open.article.read
            && let Err(e) = self.set_read(open.article.id, open.article.feed_id, true)
        {
            self.notify(e.to_string(), true);
        }
    }

    /// Sets an article's read state. The list keeps its rows until it is next
    /// re-read (an article read in an unread-only list stays under the
    /// cursor), and the counts follow without re-reading the feeds.
    fn set_read(&mut self, id: ArticleId, feed: FeedId, read: bool) -> anyhow::Result<()> {
        if self.store.set_read(id, read)? {
            self.feeds.adjust_unread(feed, if read { -1 } else { 1 });
        }
        if let Some(row) = self.articles.selected_mut().filter(|a| a.id == id) {
            row.read = read;
        }
        Ok(())
    }

    fn toggle_read(&mut self) -> anyhow::Result<()> {
        let target = match (&self.open, self.focus) {
            (Some(open), Focus::Article) => {
                Some((open.article.id, open.article.feed_id, open.article.read))
            }
            _ => self.articles.selected().map(|a| (a.id, a.feed_id, a.read)),
        };
        if let Some((id, feed, read)) = target {
            self.set_read(id, feed, !read)?;
            if let Some(open) = self.open.as_mut().filter(|o| o.article.id == id) {
                open.article.read = !read;
            }
        }
        Ok(())
    }

    fn toggle_star(&mut self) -> anyhow::Result<()> {
        let target = match (&self.open, self.focus) {
            (Some(open), Focus::Article) => Some((open.article.id, open.article.starred)),
            _ => self.articles.selected().map(|a| (a.id, a.starred)),
        };
        if let Some((id, starred)) = target {
            self.store.set_starred(id, !starred)?;
            if let Some(row) = self.articles.selected_mut().filter(|a| a.id == id) {
                row.starred = !starred;
            }
            if let Some(open) = self.open.as_mut().filter(|o| o.article.id == id) {
                open.article.starred = !starred;
            }
            self.feeds.adjust_starred(if starred { -1 } else { 1 });
        }
        Ok(())
    }

    fn mark_all_read(&mut self) -> anyhow::Result<()> {
        let source = match self.focus {
            Focus::Feeds => self.feeds.selected().and_then(FeedEntry::source),
            _ if self.articles.search.is_some() => None,
            _ => Some(self.articles.source),
        };
        let Some(source) = source else { return Ok(()) };
        let ids = self.store.mark_all_read(source)?;
        self.notify(
            format!("marked {} articles read (u undoes)", ids.len()),
            false,
        );
        self.undo = Some(ids);
        self.reload_lists()
    }

    fn undo(&mut self) -> anyhow::Result<()> {
        match self.undo.take() {
            Some(ids) => {
                self.store.set_read_many(&ids, false)?;
                self.notify(format!("{} articles unread again", ids.len()), false);
                self.reload_lists()?;
            }
            None => self.notify("nothing to undo".into(), false),
        }
        Ok(())
    }

    /// The next (or previous) unread article: further down this list, else in
    /// the next feed that has unread articles. Opens it when an article is
    /// being read; otherwise moves the cursor to it.
    fn next_unread(&mut self, forward: bool) -> anyhow::Result<()> {
        let reading = self.focus == Focus::Article;
        if let Some(index) = self.articles.find_unread(&self.store, forward)? {
            self.articles.move_to(&self.store, index)?;
        } else {
            let here = self.feeds.cursor;
            let mut candidates: Vec<(usize, FeedId, u64)> = self.feeds.feed_ids().collect();
            if !forward {
                candidates.reverse();
            }
            let next = candidates
                .iter()
                .find(|(i, _, unread)| *unread > 0 && if forward { *i > here } else { *i < here })
                .or_else(|| {
                    candidates
                        .iter()
                        .find(|(i, _, unread)| *unread > 0 && *i != here)
                });
            let Some(&(index, _, _)) = next else {
                self.notify("no unread articles left".into(), false);
                return Ok(());
            };
            self.feeds.cursor = index;
            self.show_selected_source()?;
            let first = if forward {
                0
            } else {
                self.articles.total.saturating_sub(1)
            };
            self.articles.move_to(&self.store, first)?;
            if self.articles.selected().is_some_and(|a| a.read)
                && let Some(index) = self.articles.find_unread(&self.store, forward)?
            {
                self.articles.move_to(&self.store, index)?;
            }
        }
        if reading {
            self.open_selected()?;
        } else if self.focus == Focus::Feeds {
            self.focus = Focus::Articles;
        }
        self.scroll_lists();
        Ok(())
    }

    // ---- overlays ------------------------------------------------------------

    fn on_overlay_key(&mut self, key: KeyEvent) -> anyhow::Result<Vec<Effect>> {
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
            Overlay::ConfirmUnsubscribe(feed, name) => {
                if matches!(
                    key.code,
                    KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter
                ) {
                    self.store.remove_feed(feed)?;
                    self.open = None;
                    self.focus = Focus::Feeds;
                    self.feeds.reload(&self.store)?;
                    self.show_selected_source()?;
                    self.notify(format!("unsubscribed from {name}"), false);
                } else {
                    self.notify("kept the subscription".into(), false);
                }
            }
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
                KeyCode::Esc => {}
                KeyCode::Enter => return self.submit(prompt),
                _ => {
                    prompt.edit(key);
                    self.overlay = Some(Overlay::Prompt(prompt));
                }
            },
        }
        Ok(Vec::new())
    }

    fn submit(&mut self, prompt: Prompt) -> anyhow::Result<Vec<Effect>> {
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
                self.relayout();
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

    // ---- mouse ---------------------------------------------------------------

    fn on_mouse(&mut self, mouse: MouseEvent) -> anyhow::Result<()> {
        if self.overlay.is_some() || !self.ui.mouse {
            return Ok(());
        }
        let panes = ui::layout(self.size, self.focus);
        let at = Position::new(mouse.column, mouse.row);
        let pane = [
            (panes.feeds, Focus::Feeds),
            (panes.articles, Focus::Articles),
            (panes.article, Focus::Article),
        ]
        .into_iter()
        .find_map(|(rect, focus)| rect.filter(|r| r.contains(at)).map(|r| (r, focus)));
        let Some((rect, pane)) = pane else {
            return Ok(());
        };
        match mouse.kind {
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let delta = if mouse.kind == MouseEventKind::ScrollDown {
                    3
                } else {
                    -3
                };
                let focus = self.focus;
                self.focus = pane;
                self.move_by(delta)?;
                self.focus = focus;
            }
            MouseEventKind::Down(MouseButton::Left) => {
                // Rows start below the pane's top border.
                let row = mouse.row.saturating_sub(rect.y + 1) as usize;
                match pane {
                    Focus::Feeds => {
                        let index = self.feeds.offset + row;
                        if self
                            .feeds
                            .entries
                            .get(index)
                            .and_then(FeedEntry::source)
                            .is_some()
                        {
                            self.focus = Focus::Feeds;
                            if index != self.feeds.cursor {
                                self.feeds.cursor = index;
                                self.show_selected_source()?;
                            }
                        }
                    }
                    Focus::Articles => {
                        let index = self.articles.offset + row as u64;
                        if index < self.articles.total {
                            let again =
                                self.focus == Focus::Articles && index == self.articles.cursor;
                            self.focus = Focus::Articles;
                            self.articles.move_to(&self.store, index)?;
                            if again {
                                self.open_selected()?;
                            }
                        }
                    }
                    Focus::Article => self.focus = Focus::Article,
                }
                self.relayout();
            }
            _ => {}
        }
        Ok(())
    }

    // ---- the worker and time -------------------------------------------------

    fn on_progress(&mut self, progress: Progress) -> anyhow::Result<()> {
        if matches!(progress, Progress::Started { .. }) {
            self.refresh = RefreshStats::default();
            self.refresh_started_ms = self.now_ms;
        }
        self.refresh.apply(&progress);
        match progress {
            Progress::Started { .. } => {}
            Progress::FeedDone(done) => {
                // The feed's mark (failed or not) follows at once, from the message.
                self.feeds.set_last_fetch(done.feed_id, &done.record);
                if self
                    .feeds
                    .selected_feed()
                    .is_some_and(|r| r.feed.id == done.feed_id)
                {
                    self.selected_fetch = Some(done.record.clone());
                }
                if done.record.new_articles > 0 || done.record.updated_articles > 0 {
                    // Re-read the lists at most every RELOAD_MS while feeds pour in
                    // (a tick catches up), so a big refresh never makes keys wait.
                    self.lists_stale = true;
                    if self.now_ms - self.lists_read_ms >= RELOAD_MS {
                        self.reload_lists()?;
                    }
                }
            }
            Progress::Finished(run) => {
                self.offline = run.feeds > 0 && run.ok + run.not_modified == 0;
                self.last_run = Some(run);
                self.reload_lists()?;
            }
            Progress::Aborted(reason) => self.notify(format!("refresh stopped: {reason}"), true),
        }
        self.data_version = self.store.data_version()?;
        Ok(())
    }

    fn on_tick(&mut self) -> anyhow::Result<Vec<Effect>> {
        // Another process (a cron `tidings refresh`) wrote to the cache.
        let version = self.store.data_version()?;
        if self.lists_stale {
            self.reload_lists()?;
            self.needs_redraw = true;
        }
        if version != self.data_version {
            self.data_version = version;
            if !self.refresh.running() {
                self.last_run = self.store.last_run(0)?.map(|(run, _)| run);
            }
            self.reload_lists()?;
            self.needs_redraw = true;
        }
        if self
            .notice
            .as_ref()
            .is_some_and(|n| self.now_ms - n.at_ms > NOTICE_MS)
        {
            self.notice = None;
            self.needs_redraw = true;
        }
        // The elapsed time of a refresh moves.
        self.needs_redraw |= self.refresh.running();
        let due = self.refresh_interval_ms > 0
            && self.now_ms - self.last_auto_refresh_ms >= self.refresh_interval_ms;
        if due && !self.refresh.running() {
            self.last_auto_refresh_ms = self.now_ms;
            return Ok(vec![Effect::Worker(Command::RefreshDue)]);
        }
        Ok(Vec::new())
    }

    fn on_probed(&mut self, result: Result<Probe, String>) -> anyhow::Result<Vec<Effect>> {
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
    fn subscribe(&mut self, preview: FeedPreview) -> anyhow::Result<Vec<Effect>> {
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
        let name = preview.title.as_deref().unwrap_or(&preview.url);
        self.notify(format!("subscribed to {name}"), false);
        Ok(vec![Effect::SaveAnswer {
            feed,
            answer: preview.answer,
        }])
    }

    /// A new subscription's first fetch has been saved.
    fn subscribed(&mut self, feed: FeedId, failure: Option<String>) {
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
            self.notify(format!("{} · {n} articles", self.feed_name(feed)), false);
        }
    }

    // ---- helpers ---------------------------------------------------------------

    pub fn notify(&mut self, text: String, error: bool) {
        self.notice = Some(Notice {
            text,
            error,
            at_ms: self.now_ms,
        });
    }

    fn reload_lists(&mut self) -> anyhow::Result<()> {
        self.lists_stale = false;
        self.lists_read_ms = self.now_ms;
        self.feeds.reload(&self.store)?;
        self.articles.reload(&self.store)?;
        self.load_selected_fetch()?;
        self.scroll_lists();
        Ok(())
    }

    fn load_selected_fetch(&mut self) -> anyhow::Result<()> {
        self.selected_fetch = match self.feeds.selected_feed() {
            Some(row) => self.store.fetch_history(row.feed.id, 1)?.pop(),
            None => None,
        };
        Ok(())
    }

    /// Points the article list at the feed list's selection.
    fn show_selected_source(&mut self) -> anyhow::Result<()> {
        let Some(source) = self.feeds.selected().and_then(FeedEntry::source) else {
            return Ok(());
        };
        let mut list = ArticleList::new(
            source,
            self.articles.unread_only,
            self.ui.sort == SortOrder::NewestFirst,
        );
        list.reload(&self.store)?;
        self.articles = list;
        self.load_selected_fetch()?;
        self.scroll_lists();
        Ok(())
    }

    fn current_feed(&self) -> Option<FeedId> {
        match self.focus {
            Focus::Feeds => self.feeds.selected_feed().map(|r| r.feed.id),
            Focus::Articles => self
                .articles
                .selected()
                .map(|a| a.feed_id)
                .or_else(|| self.feeds.selected_feed().map(|r| r.feed.id)),
            Focus::Article => self.open.as_ref().map(|o| o.article.feed_id),
        }
    }

    fn current_link(&self) -> Option<String> {
        let link = match (&self.open, self.focus) {
            (Some(open), Focus::Article) => open.article.link.clone(),
            _ => self.articles.selected().and_then(|a| a.link.clone()),
        };
        link.filter(|l| l.starts_with("http://") || l.starts_with("https://"))
    }

    pub fn feed_name(&self, feed: FeedId) -> String {
        self.feeds
            .entries
            .iter()
            .find_map(|e| match e {
                FeedEntry::Feed(r) if r.feed.id == feed => Some(r.feed.display_name().to_string()),
                _ => None,
            })
            .unwrap_or_default()
    }

    fn relayout(&mut self) {
        self.scroll_lists();
    }

    fn scroll_lists(&mut self) {
        let panes = ui::layout(self.size, self.focus);
        let inner = |r: Option<Rect>| r.map_or(1, |r| r.height.saturating_sub(2) as usize);
        self.feeds.scroll_to_cursor(inner(panes.feeds));
        self.articles.scroll_to_cursor(inner(panes.articles));
    }

    /// Rows a page key moves in the focused pane.
    fn page_height(&self) -> usize {
        let panes = ui::layout(self.size, self.focus);
        let pane = match self.focus {
            Focus::Feeds => panes.feeds,
            Focus::Articles => panes.articles,
            Focus::Article => panes.article,
        };
        pane.map_or(10, |r| r.height.saturating_sub(2).max(1) as usize)
    }

    fn article_height(&self) -> usize {
        ui::layout(self.size, Focus::Article)
            .article
            .map_or(10, |r| r.height.saturating_sub(2) as usize)
    }

    /// The width the article's text is set to: the pane, up to the configured maximum.
    pub fn text_width(&self) -> u16 {
        let pane = ui::layout(self.size, Focus::Article)
            .article
            .map_or(80, |r| r.width.saturating_sub(4));
        match self.ui.article_width {
            0 => pane,
            max => pane.min(max),
        }
        .max(20)
    }

    fn rendered(&mut self, article: &Article) -> Rc<Rendered> {
        let width = self.text_width();
        if self.renders.len() > 64 {
            self.renders.clear();
        }
        let styles: &ArticleStyles = &self.theme.article;
        self.renders
            .entry((article.id, width))
            .or_insert_with(|| {
                let html = article
                    .content
                    .as_deref()
                    .or(article.summary.as_deref())
                    .unwrap_or("");
                Rc::new(render_article(html, width, styles))
            })
            .clone()
    }

    fn rerender(&mut self) -> anyhow::Result<()> {
        if let Some(mut open) = self.open.take() {
            open.rendered = self.rendered(&open.article);
            self.open = Some(open);
        }
        Ok(())
    }
}

/// Lines above the body in the article pane: title, feed and date, link, rule.
pub const ARTICLE_HEADER_LINES: usize = 5;

/// Shortest time between two re-reads of the lists during a refresh.
const RELOAD_MS: i64 = 200;

/// How long a notice stays on the status line.
const NOTICE_MS: i64 = 8_000;

#[cfg(test)]
mod tests;
