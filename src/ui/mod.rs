//! Drawing: [`draw`] paints the whole screen from an `&App` and changes
//! nothing. [`layout`] is a pure function of the terminal size and the focus,
//! shared with `App::update` (which needs the pane heights for paging and
//! the article width for wrapping): three columns on a wide terminal, the
//! feed list beside the article list stacked over the article on a narrower
//! one, one pane at a time on a very narrow one. [`Theme`] turns the config's
//! colours into styles, and only modifiers when `NO_COLOR` is set.

mod article;
mod articles;
mod feeds;
mod overlay;
mod status;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::widgets::{Block, BorderType, Borders};

use crate::app::{App, Focus, Overlay};
use crate::config::ThemeConfig;
use crate::render::ArticleStyles;

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

/// Styles by role, from the config's colours.
#[derive(Debug, Clone)]
pub struct Theme {
    pub accent: Style,
    pub selection: Style,
    pub unread: Style,
    pub dim: Style,
    pub error: Style,
    pub border: Style,
    pub border_focused: Style,
    pub article: ArticleStyles,
}

impl Theme {
    pub fn new(colours: &ThemeConfig, no_color: bool) -> Theme {
        if no_color {
            return Theme {
                accent: Style::new().add_modifier(Modifier::BOLD),
                selection: Style::new().add_modifier(Modifier::REVERSED),
                unread: Style::new().add_modifier(Modifier::BOLD),
                dim: Style::new().add_modifier(Modifier::DIM),
                error: Style::new().add_modifier(Modifier::BOLD),
                border: Style::new().add_modifier(Modifier::DIM),
                border_focused: Style::new().add_modifier(Modifier::BOLD),
                article: ArticleStyles::plain(),
            };
        }
        let fg = |c: crate::config::Colour| Style::new().fg(c.0);
        let mut article = ArticleStyles::colored();
        article.heading = article.heading.fg(colours.heading.0);
        article.link = article.link.fg(colours.link.0);
        article.code = article.code.fg(colours.code.0);
        article.quote = article.quote.fg(colours.quote.0);
        Theme {
            accent: fg(colours.accent).add_modifier(Modifier::BOLD),
            selection: Style::new().bg(colours.selection.0),
            unread: fg(colours.unread).add_modifier(Modifier::BOLD),
            dim: fg(colours.dim),
            error: fg(colours.error),
            border: fg(colours.dim),
            border_focused: fg(colours.accent),
            article,
        }
    }
}

/// A pane's frame, brighter when it has the focus.
fn pane_block<'a>(app: &App, title: String, focused: bool) -> Block<'a> {
    let theme = &app.theme;
    Block::new()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(if focused {
            theme.border_focused
        } else {
            theme.border
        })
        .title(title)
        .title_style(if focused {
            theme.accent
        } else {
            theme.dim.add_modifier(Modifier::BOLD)
        })
}

pub fn draw(frame: &mut Frame, app: &App) {
    let panes = layout(frame.area(), app.focus, app.status_height());
    if let Some(area) = panes.feeds {
        feeds::draw(frame, area, app);
    }
    if let Some(area) = panes.articles {
        articles::draw(frame, area, app);
    }
    if let Some(area) = panes.article {
        article::draw(frame, area, app);
    }
    status::draw(frame, panes.status, app);
    match &app.overlay {
        Some(Overlay::Help { scroll }) => overlay::help(frame, app, *scroll),
        Some(Overlay::Stats(view)) => overlay::stats(frame, app, view),
        Some(Overlay::Prompt(prompt)) => overlay::prompt(frame, panes.status, app, prompt),
        Some(Overlay::ConfirmUnsubscribe(_, name)) => overlay::confirm(frame, app, name),
        Some(Overlay::Pick { found, cursor }) => overlay::pick(frame, app, found, *cursor),
        Some(Overlay::Preview(preview)) => overlay::preview(frame, app, preview),
        None => {}
    }
}

/// `text` cut to `width` columns, with an ellipsis when cut.
pub fn fit(text: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let mut out = String::new();
    let mut used = 0;
    let total: usize = text.chars().map(|c| c.width().unwrap_or(0)).sum();
    if total <= width {
        return text.to_string();
    }
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    if width > 0 {
        out.push('…');
    }
    out
}

/// Width in columns.
pub fn width_of(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

/// A date as a list shows it: the time today, else day and month, else with the year.
pub fn short_date(secs: i64, now_ms: i64, offset_secs: i32) -> String {
    use chrono::{Datelike, FixedOffset, TimeZone};
    let zone = FixedOffset::east_opt(offset_secs).unwrap_or(FixedOffset::east_opt(0).unwrap());
    let (Some(then), Some(now)) = (
        zone.timestamp_opt(secs, 0).single(),
        zone.timestamp_millis_opt(now_ms).single(),
    ) else {
        return String::new();
    };
    if then.date_naive() == now.date_naive() {
        then.format("%H:%M").to_string()
    } else if then.year() == now.year() {
        then.format("%d %b").to_string()
    } else {
        then.format("%b %Y").to_string()
    }
}

/// A full date and time for the article header.
pub fn long_date(secs: i64, offset_secs: i32) -> String {
    use chrono::{FixedOffset, TimeZone};
    let zone = FixedOffset::east_opt(offset_secs).unwrap_or(FixedOffset::east_opt(0).unwrap());
    zone.timestamp_opt(secs, 0)
        .single()
        .map(|t| t.format("%a %d %b %Y %H:%M").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
