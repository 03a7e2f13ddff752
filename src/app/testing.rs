//! Test fixtures for the reader: an in-memory cache filled with feeds and
//! articles at fixed times, and an [`App`] over it at a fixed size and clock,
//! for the update tests and the screen snapshots.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;

use super::{App, Effect, Msg};
use crate::config::{Config, RetentionConfig};
use crate::model::{ErrorKind, FeedId, FetchRecord, ParsedArticle, ParsedFeed};
use crate::store::{FeedUpdate, NewSubscription, Store};

/// The app drawn into a test terminal of its size.
pub fn screen(app: &App) -> ratatui::Terminal<ratatui::backend::TestBackend> {
    let backend = ratatui::backend::TestBackend::new(app.size.width, app.size.height);
    let mut terminal = ratatui::Terminal::new(backend).unwrap();
    terminal.draw(|frame| crate::ui::draw(frame, app)).unwrap();
    terminal
}

/// What a test terminal shows, a line per row.
pub fn text_of(terminal: &ratatui::Terminal<ratatui::backend::TestBackend>) -> String {
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            out.push_str(buffer[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// The fixed "now" of every test: Sat 28 Nov 2026 12:00 UTC.
pub const NOW_MS: i64 = 1_795_867_200_000;
pub const NOW: i64 = NOW_MS / 1000;

pub struct Fixture {
    pub store: Store,
}

/// An article `minutes_ago` old with a small HTML body.
pub fn article(key: &str, title: &str, minutes_ago: i64) -> ParsedArticle {
    article_with_body(
        key,
        title,
        minutes_ago,
        &format!("<p>The body of <b>{title}</b>.</p>"),
    )
}

pub fn article_with_body(key: &str, title: &str, minutes_ago: i64, html: &str) -> ParsedArticle {
    let link = format!("https://example.org/{key}");
    crate::parse::finish_article(ParsedArticle {
        guid_key: format!("id:{key}"),
        guid: Some(key.into()),
        title: Some(title.into()),
        images: crate::images::find_in_html(html, &link),
        link: Some(link),
        author: Some("Ada".into()),
        published: Some(NOW - minutes_ago * 60),
        content: Some(html.into()),
        ..Default::default()
    })
}

impl Fixture {
    pub fn new() -> Fixture {
        Fixture {
            store: Store::open_in_memory().unwrap(),
        }
    }

    /// A feed fetched `minutes_ago` with these articles.
    pub fn feed(&mut self, title: &str, tags: &[&str], articles: Vec<ParsedArticle>) -> FeedId {
        let (id, _) = self
            .store
            .add_feed(&NewSubscription {
                url: format!(
                    "https://{}.example/feed",
                    title.to_lowercase().replace(' ', "-")
                ),
                tags: tags.iter().map(|t| t.to_string()).collect(),
                ..Default::default()
            })
            .unwrap();
        self.fetch(id, title, articles, 5);
        id
    }

    /// One more successful fetch of a feed.
    pub fn fetch(
        &mut self,
        id: FeedId,
        title: &str,
        articles: Vec<ParsedArticle>,
        minutes_ago: i64,
    ) {
        self.fetch_warned(id, title, articles, minutes_ago, None);
    }

    /// One more fetch of a feed that read it with a warning (recovered from
    /// a break, or nothing found).
    pub fn fetch_with_warning(
        &mut self,
        id: FeedId,
        title: &str,
        articles: Vec<ParsedArticle>,
        minutes_ago: i64,
        warning: &str,
    ) {
        self.fetch_warned(id, title, articles, minutes_ago, Some(warning));
    }

    fn fetch_warned(
        &mut self,
        id: FeedId,
        title: &str,
        articles: Vec<ParsedArticle>,
        minutes_ago: i64,
        warning: Option<&str>,
    ) {
        let update = FeedUpdate {
            parsed: Some(ParsedFeed {
                title: Some(title.into()),
                articles,
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut record = FetchRecord {
            started_at_ms: NOW_MS - minutes_ago * 60_000,
            http_status: Some(200),
            bytes_wire: 12_345,
            ms_headers: 80,
            ms_body: 40,
            ms_parse: 3,
            ms_total: 130,
            warning: warning.map(str::to_string),
            ..Default::default()
        };
        self.store
            .save_fetch(
                id,
                None,
                &update,
                &mut record,
                NOW - minutes_ago * 60,
                &RetentionConfig::default(),
            )
            .unwrap();
    }

    /// A failed fetch of a feed.
    pub fn fail(&mut self, id: FeedId, kind: ErrorKind, status: Option<u16>, message: &str) {
        let mut record = FetchRecord {
            started_at_ms: NOW_MS - 60_000,
            http_status: status,
            ms_total: 20_000,
            error_kind: Some(kind),
            error_message: Some(message.into()),
            ..Default::default()
        };
        self.store
            .save_fetch(
                id,
                None,
                &FeedUpdate::default(),
                &mut record,
                NOW - 60,
                &RetentionConfig::default(),
            )
            .unwrap();
    }

    /// A feed "Pictures" with one article showing `html`; the article and
    /// the images recorded for it.
    pub fn article_showing(
        &mut self,
        title: &str,
        html: &str,
    ) -> (crate::model::ArticleId, Vec<crate::model::ArticleImage>) {
        let feed = self.feed(
            "Pictures",
            &[],
            vec![article_with_body("p1", title, 30, html)],
        );
        let article = self.store.feed_articles(feed).unwrap()[0].id;
        (article, self.store.article_images(article).unwrap())
    }

    pub fn app(self, width: u16, height: u16) -> App {
        self.app_with(&Config::default(), width, height)
    }

    pub fn app_with(self, config: &Config, width: u16, height: u16) -> App {
        self.store.pin_store_times(2);
        App::new(self.store, config, NOW_MS, Rect::new(0, 0, width, height)).unwrap()
    }
}

/// Three feeds: two untagged ("Rust Blog" with 3 articles, "Quiet" with 1)
/// and one tagged "news" ("Daily" with 2).
pub fn three_feeds() -> (Fixture, [FeedId; 3]) {
    let mut f = Fixture::new();
    let rust = f.feed(
        "Rust Blog",
        &[],
        vec![
            article("r1", "Announcing Rust 1.95", 30),
            article("r2", "Inside Rust: the compiler", 90),
            article("r3", "This week in Rust", 600),
        ],
    );
    let quiet = f.feed("Quiet", &[], vec![article("q1", "A quiet note", 2000)]);
    let daily = f.feed(
        "Daily",
        &["news"],
        vec![
            article("d1", "Morning edition", 60),
            article("d2", "Evening edition", 10),
        ],
    );
    (f, [rust, quiet, daily])
}

/// What a download of image `id` came to: cached as `file` at `width` ×
/// `height` (53 KB), or failed with an HTTP status.
pub fn image_outcome(
    id: i64,
    status: crate::model::ImageStatus,
    file: Option<&str>,
    (width, height): (u32, u32),
    http_status: u16,
) -> crate::store::ImageOutcome {
    let failed = status == crate::model::ImageStatus::Failed;
    crate::store::ImageOutcome {
        id,
        status,
        file: file.map(str::to_string),
        http_status: Some(http_status),
        content_type: None,
        source_bytes: 53_000,
        stored_bytes: 53_000,
        width,
        height,
        stored_width: width,
        stored_height: height,
        fetch_ms: 40,
        convert_ms: 1,
        error: failed.then(|| format!("HTTP {http_status}")),
        etag: None,
        last_modified: None,
        not_modified: false,
    }
}

/// Sends keys written as text (`"jjl"`; `⏎` is Enter, `⎋` Escape; an
/// uppercase letter comes with Shift, as a terminal reports it), returning
/// every effect.
pub fn keys(app: &mut App, text: &str) -> Vec<Effect> {
    text.chars()
        .flat_map(|c| {
            let (code, modifiers) = match c {
                '⏎' => (KeyCode::Enter, KeyModifiers::NONE),
                '⎋' => (KeyCode::Esc, KeyModifiers::NONE),
                '⌫' => (KeyCode::Backspace, KeyModifiers::NONE),
                c if c.is_ascii_uppercase() => (KeyCode::Char(c), KeyModifiers::SHIFT),
                c => (KeyCode::Char(c), KeyModifiers::NONE),
            };
            // As the event loop does: the message, then what waits for its frame.
            let mut effects = app.update(Msg::Key(KeyEvent::new(code, modifiers)));
            effects.extend(app.after_frame());
            effects
        })
        .collect()
}
