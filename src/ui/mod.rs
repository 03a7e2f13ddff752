//! Drawing: [`draw`] paints the whole screen from an `&App` and changes
//! nothing, one pane a file. Where the panes go (`layout`) and their styles
//! (`theme`) live below both `app` and `ui`, since `App::update` needs them
//! too (pane heights for paging, the article width for wrapping).

mod article;
mod articles;
mod feeds;
mod overlay;
mod settings;
mod status;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;

use crate::app::{App, Overlay};
use crate::layout::layout;

/// Draws a pane's frame and returns the area inside it: rounded borders,
/// the title on the top one and `note` at the bottom right, both in the
/// title's style. The focused pane is told by its title, shown in reverse,
/// not by its borders: recolouring two panes' side borders on every change
/// of focus (opening an article, closing it) took three of the ten
/// kilobytes such a key wrote, each border cell costing a cursor move.
///
/// Drawn cell by cell as ratatui's rounded `Block` draws it, without the
/// block's restyling of every cell inside the pane first, which took a
/// seventh of the time of a frame.
fn pane_frame(
    buf: &mut Buffer,
    area: Rect,
    app: &App,
    title: &str,
    focused: bool,
    note: &str,
) -> Rect {
    let area = area.intersection(buf.area);
    let border = app.theme.border;
    let title_style = border.patch(title_style(app, focused));
    if area.width < 2 || area.height < 2 {
        return Rect::new(area.x, area.y, 0, 0);
    }
    let (left, right, top, bottom) = (area.left(), area.right() - 1, area.top(), area.bottom() - 1);
    let mut put = |x: u16, y: u16, symbol: &str| {
        buf[(x, y)].set_symbol(symbol).set_style(border);
    };
    for x in left + 1..right {
        put(x, top, "─");
        put(x, bottom, "─");
    }
    for y in top + 1..bottom {
        put(left, y, "│");
        put(right, y, "│");
    }
    put(left, top, "╭");
    put(right, top, "╮");
    put(left, bottom, "╰");
    put(right, bottom, "╯");
    let room = (right - left - 1) as usize;
    buf.set_stringn(left + 1, top, title, room, title_style);
    if !note.is_empty() {
        let width = width_of(note).min(room) as u16;
        buf.set_stringn(right - width, bottom, note, room, title_style);
    }
    Rect::new(left + 1, top + 1, area.width - 2, area.height - 2)
}

/// A pane's title: the focused one's in reverse.
fn title_style(app: &App, focused: bool) -> Style {
    if focused {
        app.theme.accent.add_modifier(Modifier::REVERSED)
    } else {
        app.theme.dim.add_modifier(Modifier::BOLD)
    }
}

/// Draws `lines` from the top of `area`, a row each, cut at its width: what
/// a `Paragraph` without wrapping draws (a line ends where a character does
/// not fit), without restyling the area and composing each line first (a
/// third of a frame's time for the lists and the article).
fn paint_lines<'a, 'b: 'a>(
    buf: &mut Buffer,
    area: Rect,
    lines: impl IntoIterator<Item = &'a Line<'b>>,
) {
    let area = area.intersection(buf.area);
    for (line, y) in lines.into_iter().zip(area.top()..area.bottom()) {
        let mut x = area.x;
        for span in &line.spans {
            let style = line.style.patch(span.style);
            match paint_str(buf, x, y, &span.content, area.right(), style) {
                Some(end) => x = end,
                None => break,
            }
        }
    }
}

/// Writes `text` from column `x` of row `y` up to column `right`; says where
/// it ended, or `None` where it did not fit. Printable ASCII (most titles,
/// most of an article) is written a byte a cell; anything else a grapheme at
/// a time as ratatui writes it (control characters dropped, a wide one
/// hiding the cell after it).
fn paint_str(
    buf: &mut Buffer,
    x: u16,
    y: u16,
    text: &str,
    right: u16,
    style: Style,
) -> Option<u16> {
    use ratatui::buffer::CellWidth;
    use unicode_segmentation::UnicodeSegmentation;
    let room = right.saturating_sub(x) as usize;
    if text.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        let n = text.len().min(room);
        let start = buf.index_of(x, y);
        for (cell, byte) in buf.content[start..start + n].iter_mut().zip(text.bytes()) {
            cell.set_char(byte as char).set_style(style);
        }
        return (n == text.len()).then_some(x + n as u16);
    }
    let mut x = x;
    for grapheme in text.graphemes(true) {
        if grapheme.contains(char::is_control) {
            continue;
        }
        let width = grapheme.cell_width();
        if width == 0 {
            continue;
        }
        if x + width > right {
            return None;
        }
        buf[(x, y)].set_symbol(grapheme).set_style(style);
        for hidden in x + 1..x + width {
            buf[(hidden, y)].reset();
        }
        x += width;
    }
    Some(x)
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
        Some(Overlay::Prompt(prompt)) => {
            // A feed setting's value is typed below its settings.
            if let Some(view) = &app.editing_settings {
                settings::feed_settings(frame, app, view);
            }
            overlay::prompt(frame, panes.status, app, prompt)
        }
        Some(Overlay::ConfirmUnsubscribe(question)) => overlay::confirm(frame, app, question),
        Some(Overlay::Pick { found, cursor }) => overlay::pick(frame, app, found, *cursor),
        Some(Overlay::Preview(preview)) => overlay::preview(frame, app, preview),
        Some(Overlay::Downloads(view)) => overlay::downloads(frame, app, view),
        Some(Overlay::FeedSettings(view)) => settings::feed_settings(frame, app, view),
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
mod overlay_tests;
#[cfg(test)]
mod tests;
