//! The article list pane: one line per article (star or unread mark, date,
//! feed when the list spans feeds, title, author), unread ones in bold. Only
//! the rows on screen are drawn, from the window the list holds.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use super::{fit, paint_lines, pane_frame, short_date, width_of};
use crate::app::App;
use crate::layout::Focus;
use crate::model::ArticleSource;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.theme;
    let list = &app.articles;
    let name = match (&list.search, list.source) {
        (Some(query), _) => format!("Search “{}”", fit(query, 30)),
        (None, ArticleSource::Unread) => "All unread".to_string(),
        (None, ArticleSource::Starred) => "Starred".to_string(),
        (None, ArticleSource::Feed(feed)) => fit(&app.feed_name(feed), 40),
        (None, ArticleSource::Query(query)) => fit(app.feeds.query_name(query), 40),
        (None, ArticleSource::Tag(tag)) => fit(app.feeds.tag_name(tag), 40),
    };
    let filter = if list.unread_only && list.search.is_none() {
        " · unread only"
    } else {
        ""
    };
    let noun = if list.total == 1 {
        "article"
    } else {
        "articles"
    };
    let title = format!(
        " {name} · {} {noun}{filter} ",
        crate::report::thousands(list.total)
    );
    let focused = app.focus == Focus::Articles;
    let inner = pane_frame(frame.buffer_mut(), area, app, &title, focused, "");
    if list.total == 0 {
        let hint = match (list.source, list.search.is_some()) {
            (_, true) => "Nothing matches.",
            (ArticleSource::Unread, _) => "No unread articles.",
            (ArticleSource::Starred, _) => "Nothing starred yet: s stars an article.",
            (ArticleSource::Feed(_), _) if list.unread_only => "No unread articles (U shows all).",
            (ArticleSource::Feed(_), _) => "No articles yet: r refreshes this feed.",
            (ArticleSource::Query(_), _) if list.unread_only => {
                "Nothing unread matches this query (U shows all; e edits it)."
            }
            (ArticleSource::Query(_), _) => "Nothing matches this query yet (e edits it).",
            (ArticleSource::Tag(_), _) if list.unread_only => "No unread articles (U shows all).",
            (ArticleSource::Tag(_), _) => "No articles under this tag yet.",
        };
        paint_lines(frame.buffer_mut(), inner, &[Line::styled(hint, theme.dim)]);
        return;
    }
    let show_feed = list.search.is_some() || !matches!(list.source, ArticleSource::Feed(_));
    let width = inner.width as usize;
    let feed_width = if show_feed {
        (width / 5).clamp(8, 20)
    } else {
        0
    };
    let lines: Vec<Line> = (list.offset..list.total)
        .take(inner.height as usize)
        .filter_map(|index| list.row(index).map(|a| (index, a)))
        .map(|(index, article)| {
            let mark = if article.starred {
                Span::styled("★", theme.accent)
            } else if !article.read {
                Span::styled("•", theme.unread)
            } else {
                Span::raw(" ")
            };
            let date = short_date(article.date, app.now_ms, app.utc_offset_secs);
            let mut spans = vec![
                mark,
                Span::raw(" "),
                Span::styled(format!("{date:<6} "), theme.dim),
            ];
            let mut used = 9;
            if show_feed {
                let feed = fit(&app.feed_name(article.feed_id), feed_width);
                let pad = feed_width.saturating_sub(width_of(&feed));
                spans.push(Span::styled(
                    format!("{feed}{} ", " ".repeat(pad)),
                    theme.dim,
                ));
                used += feed_width + 1;
            }
            let title_style = if article.read {
                ratatui::style::Style::new()
            } else {
                theme.unread
            };
            let author = article.author.as_deref().unwrap_or("");
            let room = width.saturating_sub(used);
            let title = article
                .title
                .as_deref()
                .filter(|t| !t.is_empty())
                .unwrap_or("(untitled)");
            let author_room = if author.is_empty() || room < 50 {
                0
            } else {
                (room / 4).min(24)
            };
            let title = fit(
                title,
                room.saturating_sub(author_room + usize::from(author_room > 0)),
            );
            let title_width = width_of(&title);
            spans.push(Span::styled(title, title_style));
            if author_room > 0 {
                let author = fit(author, author_room);
                let pad = room.saturating_sub(title_width + width_of(&author));
                spans.push(Span::raw(" ".repeat(pad)));
                spans.push(Span::styled(author, theme.dim));
            }
            let mut line = Line::from(spans);
            if index == list.cursor {
                let selection = if focused {
                    theme.selection
                } else {
                    theme.selection.add_modifier(Modifier::DIM)
                };
                line = line.patch_style(selection);
                line.spans.push(Span::styled(
                    " ".repeat(width.saturating_sub(line.width())),
                    selection,
                ));
            }
            line
        })
        .collect();
    paint_lines(frame.buffer_mut(), inner, &lines);
}
