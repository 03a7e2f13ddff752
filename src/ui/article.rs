//! The article pane: a header (title, feed, author, date, link) above the
//! body that `render` set for this width, scrolled to where the reader is.
//! Each image's line says what the cache holds for it (size, or why it is
//! missing). With no article open it says how to open one.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Clear;
use std::borrow::Cow;

use super::{fit, long_date, paint_lines, pane_frame};
use crate::app::{App, DisplayRow, MAX_ENCLOSURE_LINES, OpenArticle};
use crate::layout::Focus;
use crate::model::{DownloadStatus, ImageStatus};

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.theme;
    let focused = app.focus == Focus::Article;
    let Some(open) = &app.open else {
        let inner = pane_frame(frame.buffer_mut(), area, app, " Article ", focused, "");
        let hint = if app.articles.total > 0 {
            "Enter opens the selected article · ? shows every key"
        } else {
            "R refreshes every feed · a subscribes · ? shows every key"
        };
        paint_lines(frame.buffer_mut(), inner, &[Line::styled(hint, theme.dim)]);
        return;
    };
    let article = &open.article;
    let total = open.rows.len() + open.header_lines();
    let height = area.height.saturating_sub(2) as usize;
    let shown_end = (open.scroll + height).min(total);
    let position = if total <= height {
        String::new()
    } else {
        format!(" {}% ", shown_end * 100 / total.max(1))
    };
    let inner = pane_frame(
        frame.buffer_mut(),
        area,
        app,
        " Article ",
        focused,
        &position,
    );
    // A column of air on each side of the text.
    let inner = Rect {
        x: inner.x + 1,
        width: inner.width.saturating_sub(2),
        ..inner
    };

    let width = inner.width as usize;
    let title = article
        .title
        .as_deref()
        .filter(|t| !t.is_empty())
        .unwrap_or("(untitled)");
    let mut meta = vec![open.feed_title.clone()];
    if let Some(author) = article.author.as_deref().filter(|a| !a.is_empty()) {
        meta.push(author.to_string());
    }
    let date = article
        .published
        .or(article.updated)
        .unwrap_or(article.first_seen);
    meta.push(long_date(date, app.utc_offset_secs));
    match (article.season, article.episode) {
        (Some(season), Some(episode)) => meta.push(format!("season {season}, episode {episode}")),
        (None, Some(episode)) => meta.push(format!("episode {episode}")),
        (Some(season), None) => meta.push(format!("season {season}")),
        (None, None) => {}
    }
    let mut flags = String::new();
    if article.starred {
        flags.push_str(" ★");
    }
    let mut header = vec![
        Line::from(vec![
            Span::styled(fit(title, width.saturating_sub(2)), theme.accent),
            Span::styled(flags, theme.accent),
        ]),
        Line::from(Span::styled(fit(&meta.join(" · "), width), theme.dim)),
        Line::from(Span::styled(
            fit(article.link.as_deref().unwrap_or(""), width),
            theme.dim.add_modifier(Modifier::UNDERLINED),
        )),
    ];
    header.extend(full_text_line(app, open, width));
    if !open.article.also_in.is_empty() {
        let also = format!("Also in: {}", open.article.also_in.join(", "));
        header.push(Line::from(Span::styled(fit(&also, width), theme.dim)));
    }
    header.extend(enclosure_lines(app, open, width));
    header.push(Line::from(Span::styled("─".repeat(width), theme.border)));
    header.push(Line::default());
    let placeholders: std::collections::HashMap<usize, usize> = open
        .rendered
        .images
        .iter()
        .enumerate()
        .map(|(n, shown)| (shown.line, n))
        .collect();
    // A picture's block shows its placeholder on its first row until the
    // picture is drawn over it. The body's lines are drawn where they are.
    let body = open.rows.iter().map(|row| match *row {
        DisplayRow::Line(i) => match placeholders.get(&i) {
            Some(&n) => Cow::Owned(image_placeholder(app, open, n, width)),
            None => Cow::Borrowed(&open.rendered.lines[i]),
        },
        DisplayRow::Image { n, row: 0, .. } => Cow::Owned(image_placeholder(app, open, n, width)),
        DisplayRow::Image { .. } => Cow::Owned(Line::default()),
    });
    let lines: Vec<Cow<Line>> = header
        .into_iter()
        .map(Cow::Owned)
        .chain(body)
        .skip(open.scroll)
        .take(inner.height as usize)
        .collect();
    paint_lines(frame.buffer_mut(), inner, lines.iter().map(|line| &**line));
    draw_pictures(frame, inner, app, open);
}

/// Which text is shown when the article has its page's (full text), or why
/// reading the page failed; nothing otherwise.
fn full_text_line(app: &App, open: &OpenArticle, width: usize) -> Option<Line<'static>> {
    let article = &open.article;
    let (text, style) = match (&article.page_content, &article.page_error) {
        (Some(_), _) if app.shows_page_text(article) => (
            "Full text, read from the article's page · F: the feed's text".to_string(),
            app.theme.accent,
        ),
        (Some(_), _) => (
            "The feed's text · F: the full text read from the article's page".to_string(),
            app.theme.dim,
        ),
        (None, Some(error)) => (
            format!("No full text: {error} · F tries again"),
            app.theme.error,
        ),
        (None, None) => return None,
    };
    Some(Line::from(Span::styled(fit(&text, width), style)))
}

/// A line per enclosure (up to [`MAX_ENCLOSURE_LINES`], then how many more):
/// its number, kind, file name, size and duration when the feed gave them,
/// and on the first line the key that plays it.
fn enclosure_lines(app: &App, open: &OpenArticle, width: usize) -> Vec<Line<'static>> {
    let theme = &app.theme;
    let enclosures = &open.article.enclosures;
    let mut lines: Vec<Line> = enclosures
        .iter()
        .take(MAX_ENCLOSURE_LINES)
        .enumerate()
        .map(|(i, enclosure)| {
            let kind = enclosure.kind();
            let mut facts = vec![
                format!("{} {}", symbol_of(kind), kind.name()),
                enclosure.file_name(),
            ];
            if let Some(bytes) = enclosure.length.filter(|&b| b > 0) {
                facts.push(size(bytes));
            }
            if let Some(secs) = enclosure.duration_secs.filter(|&s| s > 0) {
                facts.push(duration(secs));
            }
            let record = open.downloads.get(i).and_then(Option::as_ref);
            if let Some(active) = app.downloading.iter().find(|d| d.url == enclosure.url) {
                facts.push(match active.total.filter(|&t| t > 0) {
                    Some(total) => format!("downloading {}%", active.done * 100 / total),
                    None => format!("downloading {}", size(active.done)),
                });
            } else if let Some(record) = record {
                facts.push(match record.status {
                    DownloadStatus::Complete => "downloaded".into(),
                    DownloadStatus::Partial => {
                        format!("partly downloaded ({})", size(record.bytes))
                    }
                    DownloadStatus::Failed => "download failed".into(),
                });
            }
            let hint = match (i, enclosures.len()) {
                (0, 1) => "  p plays · D downloads",
                (0, _) => "  p or D, then its number",
                _ => "",
            };
            let number = format!("[{}] ", i + 1);
            let facts_width = super::width_of(&facts.join(" · "));
            // The facts come first: the hint goes where they would not fit beside it.
            let hint = if number.len() + facts_width + hint.chars().count() > width {
                ""
            } else {
                hint
            };
            let text_width = width.saturating_sub(number.len() + hint.chars().count());
            Line::from(vec![
                Span::styled(number, theme.dim),
                Span::styled(fit(&facts.join(" · "), text_width), theme.accent),
                Span::styled(hint, theme.dim),
            ])
        })
        .collect();
    if enclosures.len() > MAX_ENCLOSURE_LINES {
        let more = enclosures.len() - MAX_ENCLOSURE_LINES;
        lines.push(Line::from(Span::styled(
            fit(&format!("… and {more} more (export lists them all)"), width),
            theme.dim,
        )));
    }
    lines
}

fn symbol_of(kind: crate::model::EnclosureKind) -> &'static str {
    use crate::model::EnclosureKind;
    match kind {
        EnclosureKind::Audio => "♪",
        EnclosureKind::Video => "▶",
        EnclosureKind::Image => "▣",
        EnclosureKind::Other => "⎘",
    }
}

/// A file's size as a person reads it: `48.2 MB`, `730 KB`, `1.2 GB`.
fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000_000 => format!("{:.1} GB", b as f64 / 1e9),
        b if b >= 1_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        b if b >= 1_000 => format!("{} KB", b / 1_000),
        b => format!("{b} bytes"),
    }
}

/// A running time: `42:05`, or `1:02:03` from an hour on.
fn duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// Draws each picture whose whole block is on screen and ready.
fn draw_pictures(frame: &mut Frame, inner: Rect, app: &App, open: &OpenArticle) {
    let Some(pictures) = &app.pictures else {
        return;
    };
    let first_row = open.scroll as i64 - open.header_lines() as i64;
    for (index, row) in open.rows.iter().enumerate() {
        let DisplayRow::Image { row: 0, key, .. } = row else {
            continue;
        };
        let top = index as i64 - first_row;
        if top < 0 || top + key.rows as i64 > inner.height as i64 {
            continue;
        }
        let Some(picture) = pictures.get(key) else {
            continue;
        };
        // The whole width of its rows: the placeholder under it goes.
        let rows = Rect::new(inner.x, inner.y + top as u16, inner.width, key.rows);
        frame.render_widget(Clear, rows);
        let area = Rect {
            width: key.cols.min(inner.width),
            ..rows
        };
        frame.render_widget(ratatui_image::Image::new(picture), area);
    }
}

/// An image's line: `[image 3: alt · 900×566 · 53 KB]`, or why it is not
/// there (`· failed: HTTP 404`, `· not cached yet`, `· refused: …`).
fn image_placeholder(app: &App, open: &OpenArticle, n: usize, width: usize) -> Line<'static> {
    let shown = &open.rendered.images[n];
    let style = app.theme.article.image;
    let what = match open.image_for(n) {
        None => String::new(),
        Some(image) => match image.status {
            ImageStatus::Cached => {
                let mut parts = Vec::new();
                if let (Some(w), Some(h)) = (image.width, image.height)
                    && w > 0
                {
                    parts.push(format!("{w}×{h}"));
                }
                if let Some(bytes) = image.source_bytes {
                    parts.push(whole_kilobytes(bytes));
                }
                parts.iter().map(|p| format!(" · {p}")).collect()
            }
            ImageStatus::Failed => match (image.http_status, &image.error) {
                (Some(status), _) if status >= 400 => format!(" · failed: {status}"),
                (_, Some(error)) => format!(" · failed: {error}"),
                _ => " · failed".to_string(),
            },
            ImageStatus::Refused => format!(" · refused: {}", image.error.as_deref().unwrap_or("")),
            ImageStatus::Pending | ImageStatus::Evicted => " · not cached yet".to_string(),
        },
    };
    let alt = if shown.alt.is_empty() {
        String::new()
    } else {
        format!(": {}", shown.alt)
    };
    let text = format!("[image {}{alt}{what}]", n + 1);
    Line::from(Span::styled(fit(&text, width), style))
}

/// An image's size as its placeholder gives it: `53 KB`, `1.2 MB`.
fn whole_kilobytes(bytes: u64) -> String {
    if bytes >= 1_000_000 {
        format!("{:.1} MB", bytes as f64 / 1_000_000.0)
    } else {
        format!("{} KB", (bytes + 500) / 1000)
    }
}
