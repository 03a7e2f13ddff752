//! Where the panes go: [`layout`] is a pure function of the terminal size,
//! the [`Focus`] and the status panel's height, shared by `App::update`
//! (pane heights for paging, the article width for wrapping) and `ui` (where
//! to draw). Three columns on a wide terminal, the feed list beside the
//! article list stacked over the article on a narrower one, one pane at a
//! time on a very narrow one.

use ratatui::layout::Rect;

/// The pane that has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Feeds,
    Articles,
    Article,
}

/// Where each pane is on screen; `None` when the layout hides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Panes {
    pub feeds: Option<Rect>,
    pub articles: Option<Rect>,
    pub article: Option<Rect>,
    pub status: Rect,
}

/// Rows of the status panel at the bottom, and when expanded (`!`).
pub const STATUS_HEIGHT: u16 = 2;
pub const STATUS_EXPANDED_HEIGHT: u16 = 10;

/// The panes for a terminal of `area`, the focus, and a status panel of
/// `status_height` rows (never more than half the screen).
pub fn layout(area: Rect, focus: Focus, status_height: u16) -> Panes {
    let status_height = status_height
        .min(area.height / 2)
        .max(STATUS_HEIGHT.min(area.height));
    let status = Rect::new(
        area.x,
        area.bottom() - status_height,
        area.width,
        status_height,
    );
    let main = Rect::new(area.x, area.y, area.width, area.height - status_height);
    let (w, x, y, h) = (main.width, main.x, main.y, main.height);
    if w < 60 {
        // One pane at a time.
        let mut panes = Panes {
            feeds: None,
            articles: None,
            article: None,
            status,
        };
        match focus {
            Focus::Feeds => panes.feeds = Some(main),
            Focus::Articles => panes.articles = Some(main),
            Focus::Article => panes.article = Some(main),
        }
        return panes;
    }
    if w >= 150 {
        let feeds_w = (w / 5).clamp(24, 40);
        let articles_w = ((w - feeds_w) * 2 / 5).clamp(40, 90);
        return Panes {
            feeds: Some(Rect::new(x, y, feeds_w, h)),
            articles: Some(Rect::new(x + feeds_w, y, articles_w, h)),
            article: Some(Rect::new(
                x + feeds_w + articles_w,
                y,
                w - feeds_w - articles_w,
                h,
            )),
            status,
        };
    }
    let feeds_w = (w * 3 / 10).clamp(20, 32);
    let right = Rect::new(x + feeds_w, y, w - feeds_w, h);
    let feeds = Some(Rect::new(x, y, feeds_w, h));
    if focus == Focus::Article && w < 100 {
        // Reading on a small screen: the article takes the whole right side.
        return Panes {
            feeds,
            articles: None,
            article: Some(right),
            status,
        };
    }
    let list_h = (h * 2 / 5).max(3).min(h);
    Panes {
        feeds,
        articles: Some(Rect::new(right.x, y, right.width, list_h)),
        article: Some(Rect::new(right.x, y + list_h, right.width, h - list_h))
            .filter(|r| r.height >= 3),
        status,
    }
}
