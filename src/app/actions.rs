//! What keys and the mouse do: the actions of `keys.rs` applied in the
//! current focus (moving, opening, reading, marking, starring, refreshing),
//! and clicks and the wheel mapped onto the panes. What an article points at
//! (links, images, enclosures by number; downloads) is `opening`'s.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Position;

use super::ahead::LaterWrite;
use super::{
    App, DownloadsView, Effect, FeedEntry, Focus, Numbered, OpenArticle, Overlay, Prompt,
    PromptKind, StatsView, Unsubscribe,
};
use crate::config::MarkRead;
use crate::keys::Action;
use crate::model::{ArticleId, FeedId, ImageStatus};
use crate::refresh::Command;

impl App {
    // ---- keys ----------------------------------------------------------------

    pub(super) fn on_key(&mut self, key: KeyEvent) -> anyhow::Result<Vec<Effect>> {
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            self.quit = true;
            return Ok(vec![Effect::Quit]);
        }
        if self.overlay.is_some() {
            return self.on_overlay_key(key);
        }
        if let Some(effects) = self.on_number_key(&key) {
            return Ok(effects);
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
                    o.scroll + self.page_height() >= o.rows.len() + o.header_lines()
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
            Action::FullText => self.full_text()?,
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
                    Some(feed) if self.feeds.is_saved(feed) => {
                        self.notify(
                            "a saved feed is not fetched: subscribe to it again (a) to follow it"
                                .into(),
                            false,
                        );
                        Vec::new()
                    }
                    Some(feed) => vec![Effect::Worker(Command::Refresh(Some(vec![feed])))],
                    None => vec![Effect::Worker(Command::Refresh(None))],
                });
            }
            Action::Search => self.overlay = Some(Overlay::Prompt(Prompt::new(PromptKind::Search))),
            Action::Subscribe => {
                self.overlay = Some(Overlay::Prompt(Prompt::new(PromptKind::Subscribe)))
            }
            Action::NewQueryFeed => {
                let kind = PromptKind::QueryFeed(None);
                self.overlay = Some(Overlay::Prompt(Prompt::new(kind)));
            }
            Action::EditFeed if self.selected_query_feed().is_some() => self.edit_query_feed()?,
            Action::Unsubscribe if self.selected_query_feed().is_some() => {
                self.remove_query_feed()?
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
                    let (feed, saved) = (row.feed.id, row.feed.saved);
                    let name = row.feed.display_name().to_string();
                    let starred = self.store.starred_count(feed)?;
                    self.overlay = Some(Overlay::ConfirmUnsubscribe(Unsubscribe {
                        feed,
                        name,
                        starred,
                        saved,
                    }));
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
            Action::OpenLink(n) => return Ok(self.number_typed(Numbered::Link, n as usize)),
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
            Action::FeedSettings => self.open_feed_settings()?,
            Action::Help => self.overlay = Some(Overlay::Help { scroll: 0 }),
            Action::ToggleImages => {
                self.show_images = !self.show_images;
                self.layout_article();
                let what = if self.pictures.is_none() {
                    "this terminal shows images as placeholders (images.protocol)"
                } else if self.show_images {
                    "images shown"
                } else {
                    "images as placeholders"
                };
                self.notify(what.into(), false);
            }
            Action::OpenImage => return Ok(self.ask_which(Numbered::Image)),
            Action::Play => return Ok(self.ask_which(Numbered::Play)),
            Action::Download => return Ok(self.ask_which(Numbered::Download)),
            Action::Downloads => {
                self.overlay = Some(Overlay::Downloads(DownloadsView::load(&self.store)?))
            }
            Action::ToggleStatus => {
                self.status_expanded = !self.status_expanded;
                self.scroll_lists();
            }
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

    pub(super) fn move_by(&mut self, delta: i64) -> anyhow::Result<()> {
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
                    let last = (open.rows.len() + open.header_lines()).saturating_sub(height);
                    open.scroll = (open.scroll as i64 + delta).clamp(0, last as i64) as usize;
                }
            }
        }
        self.scroll_lists();
        Ok(())
    }

    pub(super) fn next_pane(&mut self) -> anyhow::Result<()> {
        match self.focus {
            Focus::Feeds => self.focus = Focus::Articles,
            Focus::Articles if self.open.is_some() => self.focus = Focus::Article,
            Focus::Articles => self.open_selected()?,
            Focus::Article => {}
        }
        self.scroll_lists();
        Ok(())
    }

    /// One step back: article → list → feeds.
    pub(super) fn back(&mut self) {
        match self.focus {
            Focus::Article => {
                self.leave_article();
                self.focus = Focus::Articles;
            }
            Focus::Articles => self.focus = Focus::Feeds,
            Focus::Feeds => {}
        }
        self.scroll_lists();
    }

    pub(super) fn open_selected(&mut self) -> anyhow::Result<()> {
        match self.focus {
            // Enter on a tag's heading folds or unfolds it.
            Focus::Feeds if self.feeds.toggle_fold(&self.store)? => {}
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
        self.scroll_lists();
        Ok(())
    }

    pub(super) fn open_article(&mut self, id: ArticleId) -> anyhow::Result<()> {
        self.leave_article();
        if self.feed_text_of != Some(id) {
            self.feed_text_of = None;
        }
        let ahead = self.take_ahead(id);
        let (mut article, images, downloads) = match ahead {
            Some(ahead) => (ahead.article, ahead.images, ahead.downloads),
            None => {
                let Some(article) = self.store.article(id)? else {
                    self.notify("that article is no longer in the cache".into(), true);
                    return Ok(());
                };
                let images = self.store.article_images(id)?;
                let downloads = self.downloads_of(&article)?;
                (article, images, downloads)
            }
        };
        if self.ui.mark_read == MarkRead::OnOpen && !article.read {
            // Shown read at once; written once the frame is drawn.
            self.feeds.adjust_unread(article.feed_id, -1);
            if let Some(row) = self.articles.selected_mut().filter(|a| a.id == id) {
                row.read = true;
            }
            self.later.push(LaterWrite::Read(id));
            article.read = true;
            // Its story's copies in other feeds are read too: their counts
            // follow at the next tick.
            if !article.also_in.is_empty() {
                self.lists_stale = true;
            }
        }
        let feed_title = self.feed_name(article.feed_id);
        self.focus = Focus::Article;
        self.scroll_lists();
        let rendered = self.rendered(&article);
        if !images.is_empty() {
            self.later
                .push(LaterWrite::ImagesShown(id, self.now_ms / 1000));
        }
        // Images not in the cache (new, evicted, due for a retry) are asked for
        // now, and so are those of an article stored while images were not
        // cached (a cover image but no images recorded): the worker knows
        // whether the article's feed has its images cached.
        let missing = images
            .iter()
            .any(|i| matches!(i.status, ImageStatus::Pending | ImageStatus::Evicted))
            || (images.is_empty() && article.image.is_some());
        if missing {
            self.after_frame_effects
                .push(Effect::Worker(Command::CacheImages(id)));
        }
        self.open = Some(OpenArticle {
            article,
            feed_title,
            rendered,
            scroll: 0,
            images,
            rows: Vec::new(),
            chosen: Default::default(),
            downloads,
        });
        self.layout_article();
        Ok(())
    }

    /// Closing an article marks it read under the on-leave policy.
    pub(super) fn leave_article(&mut self) {
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
    pub(super) fn set_read(
        &mut self,
        id: ArticleId,
        feed: FeedId,
        read: bool,
    ) -> anyhow::Result<()> {
        if self.store.set_read(id, read)? {
            self.feeds.adjust_unread(feed, if read { -1 } else { 1 });
            if self
                .open
                .as_ref()
                .is_some_and(|o| o.article.id == id && !o.article.also_in.is_empty())
            {
                self.lists_stale = true;
            }
        }
        if let Some(row) = self.articles.selected_mut().filter(|a| a.id == id) {
            row.read = read;
        }
        Ok(())
    }

    pub(super) fn toggle_read(&mut self) -> anyhow::Result<()> {
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

    pub(super) fn toggle_star(&mut self) -> anyhow::Result<()> {
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

    pub(super) fn mark_all_read(&mut self) -> anyhow::Result<()> {
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

    pub(super) fn undo(&mut self) -> anyhow::Result<()> {
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
    pub(super) fn next_unread(&mut self, forward: bool) -> anyhow::Result<()> {
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

    // ---- mouse ---------------------------------------------------------------

    pub(super) fn on_mouse(&mut self, mouse: MouseEvent) -> anyhow::Result<()> {
        if self.overlay.is_some() || !self.ui.mouse {
            return Ok(());
        }
        let panes = self.panes();
        let at = Position::new(mouse.column, mouse.row);
        let pane = [
            (panes.feeds, Focus::Feeds),
            (panes.articles, Focus::Articles),
            (panes.article, Focus::Article),
        ]
        .into_iter()
        .find_map(|(rect, focus)| rect.filter(|r| r.contains(at)).map(|r| (r, focus)));
        let Some((rect, pane)) = pane else {
            // A click on the status panel expands or folds it.
            if panes.status.contains(at) && mouse.kind == MouseEventKind::Down(MouseButton::Left) {
                self.status_expanded = !self.status_expanded;
                self.scroll_lists();
            }
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
                self.scroll_lists();
            }
            _ => {}
        }
        Ok(())
    }
}
