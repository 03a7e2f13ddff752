//! What is drawn over the panes: the key help (from the key table, so it
//! shows the keys actually bound), the statistics view (errors in the error
//! style, warnings marked ⚠ in the warning style and counted in its title),
//! the prompt line, the unsubscribe question, and the list of downloads.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Row, Table};

use super::{fit, pane_frame, short_date, width_of};
use crate::app::{App, DownloadsView, Prompt, STATS_COLUMNS, StatsView, Unsubscribe};
use crate::fetch::DiscoveredFeed;
use crate::keys::BINDINGS;
use crate::report::ago;
use crate::subscribe::FeedPreview;

pub(super) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    )
}

pub fn help(frame: &mut Frame, app: &App, scroll: usize) {
    let theme = &app.theme;
    let rows: Vec<(String, &str)> = BINDINGS
        .iter()
        .filter(|b| !matches!(b.action, crate::keys::Action::OpenLink(2..=9)))
        .map(|b| {
            let keys = app.keymap.keys_for(b.action).join(" ");
            let keys = if matches!(b.action, crate::keys::Action::OpenLink(1)) {
                "1 … 9".to_string()
            } else {
                keys
            };
            let help = if matches!(b.action, crate::keys::Action::OpenLink(1)) {
                "open link N of the article"
            } else {
                b.help
            };
            (keys, help)
        })
        .collect();
    let key_width = rows
        .iter()
        .map(|(k, _)| width_of(k))
        .max()
        .unwrap_or(0)
        .min(24);
    let area = centered(frame.area(), 64, rows.len() as u16 + 6);
    frame.render_widget(Clear, area);
    let inner = pane_frame(
        frame.buffer_mut(),
        area,
        app,
        " Keys · j/k scroll · q or ? closes ",
        true,
        "",
    );
    let mut lines: Vec<Line> = rows
        .into_iter()
        .map(|(keys, help)| {
            let pad = key_width.saturating_sub(width_of(&keys));
            Line::from(vec![
                Span::styled(format!(" {keys}{} ", " ".repeat(pad)), theme.accent),
                Span::raw(help),
            ])
        })
        .collect();
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        " Mouse: click selects (again opens), the wheel scrolls.",
        theme.dim,
    )));
    lines.push(Line::from(Span::styled(
        " Keys are set under [keys] in the configuration file:",
        theme.dim,
    )));
    lines.push(Line::from(Span::styled(
        fit(
            &format!("   {}", app.config_file.display()),
            inner.width as usize,
        ),
        theme.dim,
    )));
    let scroll = scroll.min(lines.len().saturating_sub(inner.height as usize));
    frame.render_widget(Paragraph::new(lines).scroll((scroll as u16, 0)), inner);
}

/// The width of each column of the statistics table.
const STATS_WIDTHS: [Constraint; 10] = [
    Constraint::Min(18),
    Constraint::Length(12),
    Constraint::Length(12),
    Constraint::Length(6),
    Constraint::Length(6),
    Constraint::Length(8),
    Constraint::Length(5),
    Constraint::Length(8),
    Constraint::Length(10),
    Constraint::Fill(3),
];

/// The columns that fit `width`, in table order: the feed's name always
/// (never squeezed below 18 cells), then, as room allows, its status, the
/// last attempt, the failure streak, the error, the median latency, the last
/// success, the 304 share, articles a week and the newest article.
fn stats_columns_for(width: u16) -> Vec<usize> {
    const PRIORITY: [usize; 9] = [3, 1, 4, 9, 5, 2, 6, 7, 8];
    let room = |c: Constraint| match c {
        Constraint::Length(n) | Constraint::Min(n) => n + 1,
        _ => 20,
    };
    let mut used = room(STATS_WIDTHS[0]);
    let mut shown = vec![0];
    for column in PRIORITY {
        let needs = room(STATS_WIDTHS[column]);
        if used + needs <= width {
            used += needs;
            shown.push(column);
        }
    }
    shown.sort_unstable();
    shown
}

pub fn stats(frame: &mut Frame, app: &App, view: &StatsView) {
    let theme = &app.theme;
    let area = frame.area();
    frame.render_widget(Clear, area);
    let [table_area, history_area] =
        Layout::vertical([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(area);
    let arrow = if view.descending { "↓" } else { "↑" };
    let warned = view
        .rows
        .iter()
        .filter(|r| r.last_warning.is_some())
        .count();
    let warned = if warned > 0 {
        format!(" · {warned} read with a warning")
    } else {
        String::new()
    };
    let mut title = format!(
        " Statistics · {} feeds{warned} · sorted by {} {arrow} · h/l column, Enter reverses, q closes ",
        view.rows.len(),
        STATS_COLUMNS[view.sort_column]
    );
    if width_of(&title) + 2 > table_area.width as usize {
        title = format!(
            " Statistics · {} feeds · by {} {arrow} · q closes ",
            view.rows.len(),
            STATS_COLUMNS[view.sort_column]
        );
    }
    let inner = pane_frame(frame.buffer_mut(), table_area, app, &title, true, "");
    let now = view.now_ms / 1000;
    let when = |ms: Option<i64>| {
        ms.map(|ms| ago(ms / 1000, now))
            .unwrap_or_else(|| "never".into())
    };
    let shown = stats_columns_for(inner.width);
    let header = Row::new(
        STATS_COLUMNS
            .iter()
            .enumerate()
            .filter(|(i, _)| shown.contains(i))
            .map(|(i, name)| {
                if i == view.sort_column {
                    Span::styled(format!("{name}{arrow}"), theme.accent)
                } else {
                    Span::styled(name.to_string(), theme.dim.add_modifier(Modifier::BOLD))
                }
            }),
    );
    let height = inner.height.saturating_sub(1) as usize;
    let first = view.cursor.saturating_sub(height.saturating_sub(1));
    let rows = view
        .rows
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, r)| {
            let status = match (r.gone, r.last_status, &r.last_error) {
                (true, _, _) => "gone".to_string(),
                (_, Some(code), _) => code.to_string(),
                (_, None, Some(_)) => "failed".into(),
                (_, None, None) if r.fetches > 0 => "ok".into(),
                _ => "-".into(),
            };
            let cells = vec![
                r.title.clone(),
                when(r.last_attempt_ms),
                when(r.last_success_ms),
                status,
                r.failure_streak.to_string(),
                r.median_latency_ms
                    .map(|m| format!("{m} ms"))
                    .unwrap_or_else(|| "-".into()),
                r.not_modified_share
                    .map(|s| format!("{:.0}%", s * 100.0))
                    .unwrap_or_else(|| "-".into()),
                format!("{:.1}", r.articles_per_week),
                r.last_new_article
                    .map(|t| ago(t, now))
                    .unwrap_or_else(|| "-".into()),
                match (&r.last_error, &r.last_warning) {
                    (Some(error), _) => error.clone(),
                    (None, Some(warning)) => format!("⚠ {warning}"),
                    (None, None) => String::new(),
                },
            ];
            let row = Row::new(
                cells
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| shown.contains(i))
                    .map(|(_, cell)| cell),
            );
            let row = if r.last_error.is_some() || r.gone {
                row.style(theme.error)
            } else if r.last_warning.is_some() {
                row.style(theme.warning)
            } else {
                row
            };
            if i == view.cursor {
                row.style(theme.selection)
            } else {
                row
            }
        });
    // With the error column shown, the names and the errors share the room left.
    let widths: Vec<Constraint> = shown
        .iter()
        .map(|&i| match i {
            0 if shown.contains(&9) => Constraint::Fill(2),
            _ => STATS_WIDTHS[i],
        })
        .collect();
    frame.render_widget(Table::new(rows, widths).header(header), inner);

    let history_area = if view.proxies.is_empty() {
        history_area
    } else {
        // Each proxy's line whole, wrapped when the screen is narrow.
        let lines: Vec<Line> = view.proxies.iter().map(|l| Line::raw(l.clone())).collect();
        let proxies = Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: false });
        // As tall as its wrapped lines and borders need.
        let rows = proxies.line_count(history_area.width.saturating_sub(2)) as u16 + 2;
        let [proxies_area, history_area] =
            Layout::vertical([Constraint::Length(rows), Constraint::Fill(1)]).areas(history_area);
        let inner = pane_frame(
            frame.buffer_mut(),
            proxies_area,
            app,
            " Proxies ",
            false,
            "",
        );
        frame.render_widget(proxies, inner);
        history_area
    };
    let name = view
        .rows
        .get(view.cursor)
        .map(|r| r.title.as_str())
        .unwrap_or("");
    let title = format!(" Recent fetches of {} ", fit(name, 50));
    let inner = pane_frame(frame.buffer_mut(), history_area, app, &title, false, "");
    let header = Row::new(
        [
            "when",
            "status",
            "bytes",
            "headers",
            "body",
            "parse",
            "store",
            "total",
            "new",
            "error / warning",
        ]
        .map(|h| Span::styled(h, theme.dim.add_modifier(Modifier::BOLD))),
    );
    let rows = view
        .history
        .iter()
        .take(inner.height.saturating_sub(1) as usize)
        .map(|f| {
            let status = match (f.http_status, f.not_modified) {
                (_, true) => "304".to_string(),
                (Some(s), _) => s.to_string(),
                (None, _) => "-".into(),
            };
            let error = match (&f.error_kind, &f.error_message, &f.warning) {
                (Some(kind), Some(message), _) => format!("{}: {message}", kind.as_str()),
                (Some(kind), None, _) => kind.as_str().to_string(),
                (None, _, Some(warning)) => format!("⚠ {warning}"),
                (None, _, None) => String::new(),
            };
            let error = match (&f.proxy, error.is_empty()) {
                (Some(proxy), true) => format!("via {proxy}"),
                (Some(proxy), false) => format!("{error} (via {proxy})"),
                (None, _) => error,
            };
            let row = Row::new(vec![
                short_date(f.started_at_ms / 1000, view.now_ms, app.utc_offset_secs),
                status,
                f.bytes_wire.to_string(),
                format!("{} ms", f.ms_headers),
                format!("{} ms", f.ms_body),
                format!("{} ms", f.ms_parse),
                format!("{} ms", f.ms_store),
                format!("{} ms", f.ms_total),
                f.new_articles.to_string(),
                error,
            ]);
            if f.error_kind.is_some() {
                row.style(theme.error)
            } else if f.warning.is_some() {
                row.style(theme.warning)
            } else {
                row
            }
        });
    let widths = [
        Constraint::Length(7),
        Constraint::Length(6),
        Constraint::Length(9),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(4),
        Constraint::Fill(1),
    ];
    frame.render_widget(Table::new(rows, widths).header(header), inner);
}

pub fn prompt(frame: &mut Frame, status: Rect, app: &App, prompt: &Prompt) {
    let area = Rect::new(status.x, status.y, status.width, 1);
    frame.render_widget(Clear, area);
    let label = prompt.kind.label();
    let line = Line::from(vec![
        Span::styled(label, app.theme.accent),
        Span::raw(prompt.input.clone()),
    ]);
    frame.render_widget(Paragraph::new(line), area);
    let before: String = prompt.input.chars().take(prompt.cursor).collect();
    let x = area.x + (width_of(label) + width_of(&before)) as u16;
    frame.set_cursor_position((x.min(area.right().saturating_sub(1)), area.y));
}

pub fn confirm(frame: &mut Frame, app: &App, question: &Unsubscribe) {
    let area = centered(frame.area(), 64, 5);
    let title = if question.saved {
        " Saved articles "
    } else {
        " Unsubscribe "
    };
    frame.render_widget(Clear, area);
    let inner = pane_frame(frame.buffer_mut(), area, app, title, true, "");
    let n = question.starred;
    let articles = if n == 1 { "article" } else { "articles" };
    let name = fit(&question.name, 36);
    let (ask, keys) = if question.saved {
        (
            format!("Delete the {n} saved {articles} of {name}?"),
            "y / Enter: delete them · any other key: keep them".to_string(),
        )
    } else if n > 0 {
        (
            format!("Unsubscribe from {name}? Its {n} starred {articles}:"),
            "y / Enter: keep under Saved · a: delete all · other: no".to_string(),
        )
    } else {
        (
            format!("Unsubscribe from {name}?"),
            "Its cached articles go too.  y / Enter: yes · any other key: no".to_string(),
        )
    };
    let lines = vec![
        Line::from(ask),
        Line::from(Span::styled(keys, app.theme.dim)),
    ];
    frame.render_widget(Paragraph::new(lines), inner);
}

pub fn pick(frame: &mut Frame, app: &App, found: &[DiscoveredFeed], cursor: usize) {
    let theme = &app.theme;
    let area = centered(frame.area(), 76, found.len() as u16 + 2);
    frame.render_widget(Clear, area);
    let inner = pane_frame(
        frame.buffer_mut(),
        area,
        app,
        " This page announces several feeds · Enter picks, Esc cancels ",
        true,
        "",
    );
    let width = inner.width as usize;
    let lines: Vec<Line> = found
        .iter()
        .enumerate()
        .map(|(i, feed)| {
            let name = feed.title.as_deref().unwrap_or(&feed.mime_type);
            let text = fit(&format!("{name} · {}", feed.url), width);
            let line = Line::from(text);
            if i == cursor {
                line.style(theme.selection)
            } else {
                line
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

pub fn preview(frame: &mut Frame, app: &App, preview: &FeedPreview) {
    let theme = &app.theme;
    let area = centered(frame.area(), 80, preview.newest.len() as u16 + 5);
    frame.render_widget(Clear, area);
    let inner = pane_frame(
        frame.buffer_mut(),
        area,
        app,
        " Subscribe? · Enter or y: yes · Esc or n: no ",
        true,
        "",
    );
    let width = inner.width as usize;
    let title = preview.title.as_deref().unwrap_or("(untitled feed)");
    let mut lines = vec![
        Line::from(Span::styled(fit(title, width), theme.accent)),
        Line::from(Span::styled(fit(&preview.url, width), theme.dim)),
        Line::from(Span::styled(
            format!("{} articles; the newest:", preview.articles),
            theme.dim,
        )),
    ];
    for (item, date) in &preview.newest {
        let date = date
            .map(|d| short_date(d, app.now_ms, app.utc_offset_secs))
            .unwrap_or_default();
        let item = if item.is_empty() { "(untitled)" } else { item };
        lines.push(Line::from(vec![
            Span::styled(format!(" {date:<9}"), theme.dim),
            Span::raw(fit(item, width.saturating_sub(10))),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The downloads, the latest first: status, size, title · feed, and the file
/// (or why there is none); Enter plays the selected one.
pub fn downloads(frame: &mut Frame, app: &App, view: &DownloadsView) {
    let theme = &app.theme;
    let height = (view.rows.len().max(1) as u16 + 2).min(frame.area().height.saturating_sub(4));
    let area = centered(frame.area(), 110, height);
    let title = format!(
        " Downloads · {} · Enter plays · d d deletes · Esc closes ",
        app.downloads_dir.display()
    );
    frame.render_widget(Clear, area);
    let inner = pane_frame(frame.buffer_mut(), area, app, &title, true, "");
    let width = inner.width as usize;
    if view.rows.is_empty() {
        let hint = "Nothing downloaded yet: D in an article with an enclosure downloads it.";
        frame.render_widget(
            Paragraph::new(Span::styled(fit(hint, width), theme.dim)),
            inner,
        );
        return;
    }
    let top = view
        .cursor
        .saturating_sub(inner.height.saturating_sub(1) as usize);
    let lines: Vec<Line> = view
        .rows
        .iter()
        .enumerate()
        .skip(top)
        .take(inner.height as usize)
        .map(|(i, d)| {
            let what = d.title.as_deref().unwrap_or(&d.url);
            let feed = d.feed_title.as_deref().unwrap_or_default();
            let place = match (d.status, &d.file) {
                (crate::model::DownloadStatus::Complete, Some(file)) => file.clone(),
                _ => d.error.clone().unwrap_or_default(),
            };
            let text = format!(
                "{:<8} {:>9}  {what} · {feed} · {place}",
                d.status.as_str(),
                crate::report::megabytes(d.bytes)
            );
            let style = match d.status {
                crate::model::DownloadStatus::Complete => ratatui::style::Style::new(),
                _ => theme.error,
            };
            let line = Line::from(Span::styled(fit(&text, width), style));
            if i == view.cursor {
                line.style(theme.selection)
            } else {
                line
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
