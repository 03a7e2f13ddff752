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

mod actions;
mod ahead;
mod feed_settings;
mod fulltext;
mod lists;
mod opening;
mod overlay;
mod pictures;
mod progress;
mod queries;
mod syncing;
#[cfg(test)]
pub(crate) mod testing;

use std::collections::HashMap;
use std::rc::Rc;

use crossterm::event::{KeyEvent, MouseEvent};
use ratatui::layout::Rect;

pub use feed_settings::{FeedDefaults, FeedSettingsView, SETTINGS, Setting};
pub use lists::{ArticleList, FeedEntry, FeedList};
use opening::{Numbered, TypedNumber};
pub use overlay::{
    DownloadsView, Overlay, Prompt, PromptKind, STATS_COLUMNS, StatsView, Unsubscribe,
};
pub use pictures::{DisplayRow, PictureKey, Pictures};

use crate::config::{Config, SortOrder, UiConfig};
use crate::keys::Keymap;
pub use crate::layout::Focus;
use crate::layout::{self, Panes, STATUS_EXPANDED_HEIGHT, STATUS_HEIGHT};
use crate::model::{
    Article, ArticleId, ArticleImage, ArticleSource, DownloadRecord, FeedId, FetchRecord, RunStats,
};
use crate::refresh::{Command, Progress, RefreshStats};
use crate::render::{ArticleStyles, Rendered, render_article};
use crate::store::Store;
use crate::subscribe::Probe;
use crate::theme::Theme;

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
    /// Requests proxies carried outside the worker (looking at an address
    /// given to `a`), for their statistics.
    ProxiesCarried(Vec<crate::fetch::proxy::ProxyUse>),
    /// Something the loop did for the App failed (a browser that would not start).
    Failed(String),
    /// A picture is ready to draw (or could not be made).
    PicturePrepared(PictureKey, Prepared),
    /// A download of an enclosure moved on: bytes written, and of how many.
    DownloadProgress {
        url: String,
        done: u64,
        total: Option<u64>,
    },
    /// A download ended (complete, cut off, or failed), as it is recorded.
    DownloadEnded(DownloadRecord),
    /// A long article, rendered on another thread.
    Rendered {
        key: RenderKey,
        rendered: Rendered,
    },
}

/// Which text of an article was set, and for what width: its feed's text,
/// or its page's (full text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RenderKey {
    pub article: ArticleId,
    pub width: u16,
    pub page: bool,
}

/// A picture encoded for the terminal, if it could be.
pub struct Prepared(pub Option<ratatui_image::protocol::Protocol>);

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Prepared(picture)"
        } else {
            "Prepared(none)"
        })
    }
}

/// What the event loop does for the App: the App itself touches no network,
/// spawns no process and writes nothing to the terminal.
#[derive(Debug)]
pub enum Effect {
    Worker(Command),
    OpenUrl(String),
    /// Play (or open) an enclosure's address with the configured player.
    Play(String),
    /// Play a downloaded file with the configured player.
    PlayFile(std::path::PathBuf),
    /// Download an enclosure in the background, reporting with
    /// [`Msg::DownloadProgress`] and [`Msg::DownloadEnded`].
    Download(DownloadJob),
    Copy(String),
    /// Look at what the user typed: a feed, or a page announcing feeds?
    Probe(String),
    /// Open a cached image in the system's viewer.
    OpenFile(std::path::PathBuf),
    /// Decode an image and encode it for the terminal at a block's size
    /// (answered by `Msg::PicturePrepared`).
    PreparePicture {
        key: PictureKey,
        path: std::path::PathBuf,
    },
    /// Render a long article off the UI thread (answered by `Msg::Rendered`).
    Render {
        key: RenderKey,
        html: String,
        styles: ArticleStyles,
    },
    Quit,
}

/// The article being read, rendered for the pane's width.
pub struct OpenArticle {
    pub article: Article,
    pub feed_title: String,
    pub rendered: Rc<Rendered>,
    pub scroll: usize,
    /// The images it shows, as the cache knows them, in document order.
    pub images: Vec<ArticleImage>,
    /// Its body as shown: text lines, and blocks of rows for pictures.
    pub rows: Vec<DisplayRow>,
    /// Each `<img src>` whose image was cached from another address (see
    /// [`crate::images::chosen_for_sources`]); found when first needed.
    pub chosen: std::cell::OnceCell<Vec<(String, String)>>,
    /// What was downloaded of each enclosure, in the enclosures' order.
    pub downloads: Vec<Option<DownloadRecord>>,
}

/// An enclosure to download, with what its record keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct DownloadJob {
    pub url: String,
    pub article: ArticleId,
    pub title: Option<String>,
    pub feed_title: String,
    /// The feed's address: a public feed's enclosure may not lead to a
    /// private address.
    pub feed_url: String,
}

/// A download in progress, for the status panel.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveDownload {
    pub url: String,
    pub name: String,
    pub done: u64,
    pub total: Option<u64>,
}

impl OpenArticle {
    /// Lines above its body in the article pane.
    pub fn header_lines(&self) -> usize {
        header_lines(&self.article)
    }

    /// What the cache holds for the rendered image `n` (0-based): the image
    /// at the address it is shown with, else the one chosen for that address
    /// (a `srcset` or `<picture>` pick), else the one with its alt text.
    pub fn image_for(&self, n: usize) -> Option<&ArticleImage> {
        image_for(&self.article, &self.rendered, &self.images, &self.chosen, n)
    }
}

/// [`OpenArticle::image_for`], for an article not open yet (`chosen` is
/// filled on first need).
fn image_for<'a>(
    article: &Article,
    rendered: &Rendered,
    images: &'a [ArticleImage],
    chosen: &std::cell::OnceCell<Vec<(String, String)>>,
    n: usize,
) -> Option<&'a ArticleImage> {
    let shown = rendered.images.get(n)?;
    let base = article.link.as_deref().unwrap_or_default();
    let by_url = |url: &str| images.iter().find(|i| i.url == url);
    let src = crate::text::resolve_url(&shown.src, base);
    if let Some(image) = src.as_deref().and_then(by_url) {
        return Some(image);
    }
    let chosen = chosen.get_or_init(|| {
        let html = (article.content.as_deref())
            .or(article.summary.as_deref())
            .unwrap_or_default();
        crate::images::chosen_for_sources(html, base)
    });
    src.and_then(|src| chosen.iter().find(|(shown, _)| *shown == src))
        .and_then(|(_, url)| by_url(url))
        .or_else(|| {
            (!shown.alt.is_empty())
                .then(|| images.iter().find(|i| i.alt == shown.alt))
                .flatten()
        })
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
    /// Where cached images are.
    pub image_dir: std::path::PathBuf,
    /// The configuration file this reader read (or would read), for the help.
    pub config_file: std::path::PathBuf,
    /// How pictures are drawn (none: one-line placeholders only).
    pub pictures: Option<Pictures>,
    /// Pictures shown (`I` toggles), else placeholders.
    pub show_images: bool,
    /// `i`, or `p` or `D` in an article with several enclosures: the next
    /// key says which to open, play or download.
    choosing: Option<Numbered>,
    /// Where enclosures are downloaded.
    pub downloads_dir: std::path::PathBuf,
    /// Downloads in progress, oldest first.
    pub downloading: Vec<ActiveDownload>,
    /// The digits of a link's, image's or enclosure's number typed so far.
    typed: Option<TypedNumber>,
    /// Set by every message that changed what is on screen.
    pub needs_redraw: bool,
    /// New articles arrived that the lists have not re-read yet.
    lists_stale: bool,
    lists_read_ms: i64,
    /// The status panel shows recent fetches and failures (`!`).
    pub status_expanded: bool,
    /// The latest fetches of the running (or last) refresh, newest first.
    pub recent: std::collections::VecDeque<crate::refresh::FeedDone>,
    /// The last bulk "mark read", for `u`.
    undo: Option<Vec<ArticleId>>,
    pub size: Rect,
    /// Milliseconds since the epoch, set by the loop (fixed in tests).
    pub now_ms: i64,
    last_auto_refresh_ms: i64,
    data_version: i64,
    renders: HashMap<RenderKey, Rc<Rendered>>,
    /// The status line's relative times when last drawn (see `on_tick`).
    times_shown: [Option<String>; 2],
    /// The article whose feed's text is shown instead of its page's (`F`).
    feed_text_of: Option<ArticleId>,
    /// The article whose page the reader asked to read (told when done).
    asked_page: Option<ArticleId>,
    /// The article under the cursor, read before Enter (see `ahead`).
    ahead: Option<ahead::ReadAhead>,
    /// Writes left until the frame is drawn (see `ahead`).
    later: Vec<ahead::LaterWrite>,
    /// Effects raised below `update` (a background render), returned with its own.
    pending: Vec<Effect>,
    /// Effects that wait for the frame of the message that raised them (an
    /// opened article's missing images: the worker that fetches them would
    /// take the CPU the frame needs).
    after_frame_effects: Vec<Effect>,
    /// New subscriptions whose first answer the worker is saving.
    subscribing: Vec<FeedId>,
    pub sync: syncing::SyncStatus,
    /// The config's values for what a feed may set for itself.
    pub feed_defaults: FeedDefaults,
    /// A feed's settings, while one of their values is typed.
    pub editing_settings: Option<FeedSettingsView>,
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
        let sync = syncing::SyncStatus::new(&store, config.sync.is_some(), now_ms)?;
        let mut app = App {
            store,
            keymap,
            theme: Theme::new(&config.theme, no_color),
            refresh_interval_ms: 0,
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
            image_dir: std::path::PathBuf::new(),
            config_file: std::path::PathBuf::from("config.toml"),
            pictures: None,
            show_images: config.images.show,
            choosing: None,
            downloads_dir: std::path::PathBuf::new(),
            downloading: Vec::new(),
            typed: None,
            needs_redraw: true,
            lists_stale: false,
            status_expanded: false,
            recent: std::collections::VecDeque::new(),
            lists_read_ms: i64::MIN / 2,
            undo: None,
            size,
            now_ms,
            last_auto_refresh_ms: now_ms,
            data_version,
            renders: HashMap::new(),
            times_shown: Default::default(),
            feed_text_of: None,
            asked_page: None,
            ahead: None,
            later: Vec::new(),
            pending: Vec::new(),
            after_frame_effects: Vec::new(),
            subscribing: Vec::new(),
            sync,
            feed_defaults: FeedDefaults::from_config(config),
            editing_settings: None,
            quit: false,
        };
        app.refresh_interval_ms = app.refresh_timer_ms()?;
        app.feeds.reload(&app.store)?;
        app.show_selected_source()?;
        app.scroll_lists();
        Ok(app)
    }

    /// The commands to send when the reader starts.
    pub fn on_start(&mut self, refresh_on_start: bool) -> Vec<Effect> {
        // With sync on, an empty reader is a new device: the server has its feeds.
        let something_to_fetch = self.feeds.feed_ids().next().is_some() || self.sync.on;
        if refresh_on_start && something_to_fetch {
            vec![Effect::Worker(Command::Refresh(None))]
        } else {
            Vec::new()
        }
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        let tick = matches!(msg, Msg::Tick);
        // A tick says for itself whether it changed anything.
        self.needs_redraw |= !tick;
        // Normally made already, after the last frame.
        self.write_later_writes();
        let result = self.try_update(msg);
        if !tick {
            self.ahead = None;
        }
        let mut effects = match result {
            Ok(effects) => effects,
            Err(e) => {
                tracing::error!("{e:#}");
                self.notify(format!("{e:#}"), true);
                Vec::new()
            }
        };
        effects.append(&mut self.pending);
        effects
    }

    fn try_update(&mut self, msg: Msg) -> anyhow::Result<Vec<Effect>> {
        match msg {
            Msg::Key(key) => self.on_key(key),
            Msg::Mouse(mouse) => self.on_mouse(mouse).map(|()| Vec::new()),
            Msg::Resize(width, height) => {
                self.size = Rect::new(0, 0, width, height);
                self.scroll_lists();
                self.rerender()?;
                Ok(Vec::new())
            }
            Msg::Progress(progress) => self.on_progress(progress).map(|()| Vec::new()),
            Msg::Tick => self.on_tick(),
            Msg::Probed(result) => self.on_probed(result),
            Msg::ProxiesCarried(carried) => {
                self.store.save_proxy_uses(&carried)?;
                Ok(Vec::new())
            }
            Msg::Rendered { key, rendered } => {
                self.on_rendered(key, rendered);
                Ok(Vec::new())
            }
            Msg::PicturePrepared(key, Prepared(picture)) => {
                if let (Some(pictures), Some(picture)) = (self.pictures.as_mut(), picture) {
                    pictures.store(key, picture);
                }
                Ok(Vec::new())
            }
            Msg::DownloadProgress { url, done, total } => {
                if let Some(active) = self.downloading.iter_mut().find(|d| d.url == url) {
                    active.done = done;
                    active.total = total;
                }
                Ok(Vec::new())
            }
            Msg::DownloadEnded(record) => {
                self.on_download_ended(record)?;
                Ok(Vec::new())
            }
            Msg::Failed(error) => {
                self.notify(error, true);
                Ok(Vec::new())
            }
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
        self.feeds.name(feed).to_string()
    }

    /// Where the panes are now.
    pub fn panes(&self) -> Panes {
        layout::layout(self.size, self.focus, self.status_height())
    }

    pub fn status_height(&self) -> u16 {
        if self.status_expanded {
            STATUS_EXPANDED_HEIGHT
        } else {
            STATUS_HEIGHT
        }
    }

    fn scroll_lists(&mut self) {
        let panes = self.panes();
        let inner = |r: Option<Rect>| r.map_or(1, |r| r.height.saturating_sub(2) as usize);
        self.feeds.scroll_to_cursor(inner(panes.feeds));
        self.articles.scroll_to_cursor(inner(panes.articles));
    }

    /// Rows a page key moves in the focused pane.
    fn page_height(&self) -> usize {
        let panes = self.panes();
        let pane = match self.focus {
            Focus::Feeds => panes.feeds,
            Focus::Articles => panes.articles,
            Focus::Article => panes.article,
        };
        pane.map_or(10, |r| r.height.saturating_sub(2).max(1) as usize)
    }

    fn article_height(&self) -> usize {
        layout::layout(self.size, Focus::Article, self.status_height())
            .article
            .map_or(10, |r| r.height.saturating_sub(2) as usize)
    }

    /// The width the article's text is set to: the pane, up to the configured maximum.
    pub fn text_width(&self) -> u16 {
        let pane = layout::layout(self.size, Focus::Article, self.status_height())
            .article
            .map_or(80, |r| r.width.saturating_sub(4));
        match self.ui.article_width {
            0 => pane,
            max => pane.min(max),
        }
        .max(20)
    }

    /// The article set for the pane's width: from the cache, else rendered
    /// now when the body is small (almost every article: well under a
    /// millisecond), else rendered on another thread while a note says so.
    /// The text is its page's (full text) when it has one, unless the
    /// reader asked for the feed's.
    fn rendered(&mut self, article: &Article) -> Rc<Rendered> {
        let (key, body) = self.text_to_show(article);
        if let Some(done) = self.renders.get(&key) {
            return done.clone();
        }
        if self.renders.len() > 64 {
            self.renders.clear();
        }
        let with_cover = with_cover_image(article, body);
        let html = with_cover.as_deref().unwrap_or(body);
        if html.len() > RENDER_NOW_BYTES {
            self.pending.push(Effect::Render {
                key,
                html: html.to_string(),
                styles: self.theme.article,
            });
            let note = format!("Setting this long article ({} KB)…", html.len() / 1000);
            return Rc::new(Rendered {
                lines: vec![ratatui::text::Line::styled(note, self.theme.article.note)],
                ..Rendered::default()
            });
        }
        let done = Rc::new(render_article(html, key.width, &self.theme.article));
        self.renders.insert(key, done.clone());
        done
    }

    /// Which of an article's texts is shown, and the key it is set under.
    fn text_to_show<'a>(&self, article: &'a Article) -> (RenderKey, &'a str) {
        let feed_text = article
            .content
            .as_deref()
            .or(article.summary.as_deref())
            .unwrap_or("");
        let page = article
            .page_content
            .as_deref()
            .filter(|_| self.feed_text_of != Some(article.id));
        let key = RenderKey {
            article: article.id,
            width: self.text_width(),
            page: page.is_some(),
        };
        (key, page.unwrap_or(feed_text))
    }

    /// Whether an article is shown with its page's text (full text).
    pub fn shows_page_text(&self, article: &Article) -> bool {
        self.text_to_show(article).0.page
    }

    /// Whether an article's text is set at once (not on another thread).
    fn sets_at_once(&self, article: &Article) -> bool {
        self.text_to_show(article).1.len() <= RENDER_NOW_BYTES
    }

    /// An article rendered on another thread is ready.
    fn on_rendered(&mut self, key: RenderKey, rendered: Rendered) {
        let rendered = Rc::new(rendered);
        self.renders.insert(key, rendered.clone());
        let current = self.open.as_ref().map(|o| self.text_to_show(&o.article).0);
        if current == Some(key)
            && let Some(open) = self.open.as_mut()
        {
            open.rendered = rendered;
            self.layout_article();
        }
    }

    fn rerender(&mut self) -> anyhow::Result<()> {
        if let Some(mut open) = self.open.take() {
            open.rendered = self.rendered(&open.article);
            self.open = Some(open);
            self.layout_article();
        }
        Ok(())
    }

    /// Lays out the open article's rows (text, and blocks for pictures when
    /// they are shown) and asks for the pictures not made yet.
    fn layout_article(&mut self) {
        let width = self.text_width();
        let Some(open) = self.open.as_mut() else {
            return;
        };
        let plain = || {
            (0..open.rendered.lines.len())
                .map(DisplayRow::Line)
                .collect()
        };
        open.rows = match self.pictures.as_mut() {
            Some(pictures) if self.show_images => {
                let images: Vec<Option<&ArticleImage>> = (0..open.rendered.images.len())
                    .map(|n| open.image_for(n))
                    .collect();
                let rows = pictures.layout(&open.rendered, &images, width);
                for row in &rows {
                    if let DisplayRow::Image { n, row: 0, key, .. } = row
                        && pictures.should_ask(*key)
                        && let Some(file) = images[*n].and_then(|i| i.file.as_ref())
                    {
                        self.pending.push(Effect::PreparePicture {
                            key: *key,
                            path: self.image_dir.join(file),
                        });
                    }
                }
                rows
            }
            _ => plain(),
        };
        let last = open.rows.len() + open.header_lines();
        open.scroll = open.scroll.min(last.saturating_sub(1));
    }
}

/// The body with the article's cover image (a thumbnail, an image
/// enclosure, `itunes:image`, a JSON Feed `image`) put first, when it has
/// one the body does not show: drawn, numbered and cached like the body's
/// images. `None` when there is nothing to add (no cover, or the body names
/// the cover's file, and then shows it where it belongs).
fn with_cover_image(article: &Article, body: &str) -> Option<String> {
    let cover = article.image.as_deref()?;
    let file = cover
        .split(['?', '#'])
        .next()
        .and_then(|path| path.rsplit('/').next())
        .filter(|name| !name.is_empty())?;
    if body.contains(cover) || body.contains(file) {
        return None;
    }
    let escaped = cover
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    Some(format!(r#"<p><img src="{escaped}" alt="cover"></p>{body}"#))
}

/// Lines above the body in the article pane without enclosures: title, feed
/// and date, link, rule, and a blank line.
pub const ARTICLE_HEADER_LINES: usize = 5;

/// Most enclosures the header lists one by one; past them a line says how
/// many more there are.
pub const MAX_ENCLOSURE_LINES: usize = 5;

/// Lines above the body of `article`: [`ARTICLE_HEADER_LINES`], a line per
/// enclosure, one about its full text when it has one or it failed, and one
/// naming the other feeds that carry its story.
pub fn header_lines(article: &Article) -> usize {
    let n = article.enclosures.len();
    let full_text = usize::from(article.page_content.is_some() || article.page_error.is_some());
    ARTICLE_HEADER_LINES
        + full_text
        + usize::from(!article.also_in.is_empty())
        + if n > MAX_ENCLOSURE_LINES {
            MAX_ENCLOSURE_LINES + 1
        } else {
            n
        }
}

/// Bodies up to this size are set at once on the UI thread (a 5 KB article
/// takes ~0.3 ms; 64 KB a few ms); longer ones on another thread.
const RENDER_NOW_BYTES: usize = 64 * 1024;

/// Fetches the expanded status panel can list.
const RECENT_FETCHES: usize = 50;

/// Shortest time between two re-reads of the lists during a refresh.
const RELOAD_MS: i64 = 200;

/// How long a notice stays on the status line.
const NOTICE_MS: i64 = 8_000;

#[cfg(test)]
mod query_tests;
#[cfg(test)]
mod settings_tests;
#[cfg(test)]
mod sync_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod unsubscribe_tests;
