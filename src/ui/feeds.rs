//! The feed list pane: *All unread* and *Starred*, the query feeds (marked
//! `⌕`, with their unread matches), then the feeds outside any tag, then each
//! tag's heading (▾ open, ▸ folded, with its feeds' unread count; selected,
//! it lists all their articles) with its feeds, then *Saved* with the feeds
//! unsubscribed from whose starred articles were kept; unread counts on the
//! right, a mark on feeds whose last fetch failed (`!`) or that are gone (`✗`).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::{fit, paint_lines, pane_frame, width_of};
use crate::app::{App, FeedEntry};
use crate::layout::Focus;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.theme;
    let unread_total = match app.feeds.entries.first() {
        Some(FeedEntry::Unread { count }) => *count,
        _ => 0,
    };
    let title = format!(
        " Feeds · {} unread ",
        crate::report::thousands(unread_total)
    );
    let focused = app.focus == Focus::Feeds;
    let inner = pane_frame(frame.buffer_mut(), area, app, &title, focused, "");
    let width = inner.width as usize;
    let lines: Vec<Line> = app
        .feeds
        .entries
        .iter()
        .enumerate()
        .skip(app.feeds.offset)
        .take(inner.height as usize)
        .map(|(i, entry)| {
            // A tag's heading is drawn as a feed is, its arrow for a mark and
            // all of it in the accent colour.
            let (mark, name, count, heading) = match entry {
                FeedEntry::Unread { count } => {
                    (Span::raw(" "), "All unread".to_string(), *count, false)
                }
                FeedEntry::Starred { count } => {
                    (Span::raw(" "), "Starred".to_string(), *count, false)
                }
                FeedEntry::Tag {
                    name,
                    unread,
                    folded,
                    ..
                } => {
                    let arrow = if *folded { "▸" } else { "▾" };
                    (
                        Span::styled(arrow, theme.accent),
                        name.clone(),
                        *unread,
                        true,
                    )
                }
                FeedEntry::Saved => {
                    let note = fit(" · unsubscribed", width.saturating_sub(7));
                    return Line::from(vec![
                        Span::styled(fit("▾ Saved", width), theme.accent),
                        Span::styled(note, theme.dim),
                    ]);
                }
                FeedEntry::Query { query, unread } => (
                    Span::styled("⌕", theme.accent),
                    query.name.clone(),
                    *unread,
                    false,
                ),
                FeedEntry::Feed(row) => {
                    let failed = row
                        .last_fetch
                        .as_ref()
                        .is_some_and(|f| f.error_kind.is_some());
                    let mark = if row.feed.gone {
                        Span::styled("✗", theme.error)
                    } else if failed {
                        Span::styled("!", theme.error)
                    } else {
                        Span::raw(" ")
                    };
                    (mark, row.feed.display_name().to_string(), row.unread, false)
                }
            };
            let count_text = if count > 0 {
                crate::report::thousands(count)
            } else {
                String::new()
            };
            let name_width = width.saturating_sub(width_of(&count_text) + 3);
            let name = fit(&name, name_width);
            let pad = width.saturating_sub(2 + width_of(&name) + width_of(&count_text));
            let style = match (heading, count > 0) {
                (true, _) => theme.accent,
                (false, true) => theme.unread,
                (false, false) => theme.dim,
            };
            let mut line = Line::from(vec![
                mark,
                Span::raw(" "),
                Span::styled(name, style),
                Span::raw(" ".repeat(pad)),
                Span::styled(count_text, style),
            ]);
            if i == app.feeds.cursor {
                line = line.patch_style(if focused {
                    theme.selection
                } else {
                    theme.selection.add_modifier(ratatui::style::Modifier::DIM)
                });
                line.spans.push(Span::styled(
                    " ".repeat(width.saturating_sub(line.width())),
                    theme.selection,
                ));
            }
            line
        })
        .collect();
    paint_lines(frame.buffer_mut(), inner, &lines);
}
