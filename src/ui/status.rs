//! The status panel, two lines at the bottom. The first: a notice if one is
//! fresh, else the refresh in progress (`refreshing 37/120 · 2 failed · 41 new
//! · 1.8 MB · 3.2 s · images 80/512`, which goes on counting images once the
//! feeds are in, and the hosts found down), else the last run's summary, marked when nothing could
//! be reached (offline), with the downloads in progress (`downloading
//! episode-12.mp3 45% of 48.2 MB`). The second: the selected feed's last fetch.
//! Expanded (`!`), it goes on with the last sync in full (with sync on), then
//! the latest fetches of the refresh, or the
//! feeds whose last fetch failed and why, then the feeds whose last fetch
//! read them with a warning (recovered from a break, or nothing found); a
//! warning is marked ⚠ in the warning style, a failure ✗ in the error style.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{fit, width_of};
use crate::app::App;
use crate::report::{ago, short_error};
use crate::report::{megabytes, summary_line, thousands};

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.theme;
    let width = area.width as usize;
    let now_secs = app.now_ms / 1000;
    let first = if let Some(notice) = &app.notice {
        let style = if notice.error {
            theme.error
        } else {
            theme.accent
        };
        Line::from(Span::styled(fit(&notice.text, width), style))
    } else if !app.downloading.is_empty() && !app.refresh.running() {
        Line::from(Span::styled(fit(&downloading(app), width), theme.accent))
    } else if app.refresh.running() {
        let r = &app.refresh;
        let secs = (app.now_ms - app.refresh_started_ms).max(0) as f64 / 1000.0;
        let mut text = format!(
            "refreshing {}/{} · {} failed · {} new · {} · {secs:.1} s",
            r.done,
            r.total,
            r.failed,
            thousands(r.new_articles),
            megabytes(r.bytes_wire),
        );
        if r.images_total > 0 {
            text.push_str(&format!(
                " · images {}/{}",
                thousands(r.images_done as u64),
                thousands(r.images_total as u64)
            ));
        }
        match r.hosts_down.len() {
            0 => {}
            1 => text.push_str(" · 1 host unreachable"),
            n => text.push_str(&format!(" · {n} hosts unreachable")),
        }
        if !app.downloading.is_empty() {
            text.push_str(" · ");
            text.push_str(&downloading(app));
        }
        Line::from(Span::styled(fit(&text, width), theme.accent))
    } else if app.sync.running {
        let server = app
            .sync
            .last
            .as_ref()
            .map_or("the server", |r| r.server.as_str());
        Line::from(Span::styled(
            fit(&format!("syncing with {server}…"), width),
            theme.accent,
        ))
    } else if let Some(run) = &app.last_run {
        let when = ago(run.started_at_ms / 1000, now_secs);
        let mut spans = sync_spans(app);
        if app.offline {
            spans.push(Span::styled(
                "offline: no feed could be reached · ",
                theme.error,
            ));
        }
        let images = if run.images.found > 0 {
            format!(" · {} images", thousands(run.images.cached))
        } else {
            String::new()
        };
        // With sync on, a run that fetched nothing here (every feed comes
        // from the server) has nothing to say.
        let text = if app.sync.last.is_some() && run.feeds == 0 {
            "nothing fetched here: the feeds come from the sync server".to_string()
        } else {
            format!("last refresh {when}: {}{images}", summary_line(run))
        };
        spans.push(Span::styled(text, theme.dim));
        let line = Line::from(spans);
        if line.width() > width {
            let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
            Line::from(Span::styled(fit(&text, width), theme.dim))
        } else {
            line
        }
    } else if app.sync.last.is_some() {
        let mut spans = sync_spans(app);
        spans.push(Span::styled("never refreshed here", theme.dim));
        Line::from(spans)
    } else {
        Line::from(Span::styled(
            "never refreshed: R fetches every feed",
            theme.dim,
        ))
    };

    let help = "? help";
    let fetch = match (&app.selected_fetch, app.feeds.selected_feed()) {
        (_, Some(row)) if row.feed.synced && app.sync.on => Some((
            format!("{}: from the sync server", row.feed.display_name()),
            theme.dim,
        )),
        (Some(record), Some(row)) => {
            let name = row.feed.display_name();
            let when = ago(record.started_at_ms / 1000, now_secs);
            let outcome = match (&record.error_kind, record.http_status) {
                (Some(kind), status) => {
                    // In a few words; the whole message is in the `!` panel.
                    let why = short_error(*kind, record.error_message.as_deref(), status);
                    format!("failed {when}: {why} · ! why")
                }
                (None, _) if record.not_modified => {
                    format!("304 not modified {when} · {} ms", record.ms_headers)
                }
                (None, status) => {
                    let images = &record.images;
                    let images = match (images.found, images.failed + images.refused) {
                        (0, _) => String::new(),
                        (found, 0) => format!(" · {} of {found} images", images.cached),
                        (found, missing) => {
                            format!(" · {} of {found} images ({missing} failed)", images.cached)
                        }
                    };
                    let warning = record
                        .warning
                        .as_deref()
                        .map(|w| format!(" · ⚠ {w}"))
                        .unwrap_or_default();
                    format!(
                        "{} {when} · {} ms · {} · {} new of {}{images}{warning}",
                        status.map(|s| s.to_string()).unwrap_or_else(|| "ok".into()),
                        record.ms_headers + record.ms_body,
                        kilobytes(record.bytes_wire),
                        record.new_articles,
                        record.total_articles,
                    )
                }
            };
            let style = if record.error_kind.is_some() {
                theme.error
            } else if record.warning.is_some() {
                theme.warning
            } else {
                theme.dim
            };
            Some((format!("{name}: {outcome}"), style))
        }
        (None, Some(row)) if row.feed.saved => Some((
            format!(
                "{}: kept from an unsubscribed feed, never fetched",
                row.feed.display_name()
            ),
            theme.dim,
        )),
        (None, Some(row)) => Some((
            format!("{}: not fetched yet", row.feed.display_name()),
            theme.dim,
        )),
        _ => None,
    };
    let mut second = Vec::new();
    let room = width.saturating_sub(help.len() + 1);
    if let Some((text, style)) = fetch {
        let text = fit(&text, room);
        let pad = room.saturating_sub(width_of(&text));
        second.push(Span::styled(text, style));
        second.push(Span::raw(" ".repeat(pad + 1)));
    } else {
        second.push(Span::raw(" ".repeat(room + 1)));
    }
    second.push(Span::styled(help, theme.dim));
    let mut lines = vec![first, Line::from(second)];
    let room = (area.height as usize).saturating_sub(lines.len() + 1);
    if room > 0 {
        lines.extend(expanded(app, width, room));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// The expanded panel (`!`): the latest fetches of this refresh, or else the
/// feeds whose last fetch failed, then those read with a warning.
fn expanded(app: &App, width: usize, room: usize) -> Vec<Line<'static>> {
    let theme = &app.theme;
    let now_secs = app.now_ms / 1000;
    let mut lines = Vec::new();
    // The last sync in full: what it did and cost, or why it failed.
    if let Some(last) = app.sync.last.as_ref().filter(|_| app.sync.on && room > 2) {
        let style = if last.error.is_some() {
            theme.error
        } else {
            theme.dim
        };
        let text = format!(
            "{} · {}",
            ago(last.started_at, now_secs),
            crate::report::sync_line(last)
        );
        lines.push(Line::from(Span::styled(fit(&text, width), style)));
        for warning in &last.warnings {
            lines.push(Line::from(Span::styled(
                fit(&format!("⚠ {warning}"), width),
                theme.warning,
            )));
        }
    }
    let room = room.saturating_sub(lines.len());
    if !app.recent.is_empty() {
        lines.push(Line::from(Span::styled(
            "─ latest fetches ".to_string() + &"─".repeat(width.saturating_sub(17)),
            theme.border,
        )));
        for done in app.recent.iter().take(room) {
            let r = &done.record;
            let (mark, text, style) = match &r.error_kind {
                Some(kind) => (
                    "✗",
                    format!(
                        "{} · {}",
                        done.title,
                        r.error_message.as_deref().unwrap_or(kind.as_str())
                    ),
                    theme.error,
                ),
                None if r.not_modified => (
                    "✓",
                    format!("{} · 304 not modified · {} ms", done.title, r.ms_headers),
                    theme.dim,
                ),
                None => {
                    let text = format!(
                        "{} · {} · {} ms · {} · {} new",
                        done.title,
                        r.http_status
                            .map(|s| s.to_string())
                            .unwrap_or_else(|| "ok".into()),
                        r.ms_headers + r.ms_body,
                        kilobytes(r.bytes_wire),
                        r.new_articles
                    );
                    match &r.warning {
                        Some(warning) => ("⚠", format!("{text} · {warning}"), theme.warning),
                        None => ("✓", text, theme.dim),
                    }
                }
            };
            lines.push(Line::from(vec![
                Span::styled(format!("{mark} "), style),
                Span::styled(fit(&text, width.saturating_sub(2)), style),
            ]));
        }
        return lines;
    }
    // A feed under two tags is listed twice in the feed list: once here.
    let mut seen = std::collections::HashSet::new();
    let last_fetches: Vec<_> = app
        .feeds
        .entries
        .iter()
        .filter_map(|e| match e {
            crate::app::FeedEntry::Feed(row) if seen.insert(row.feed.id) => row
                .last_fetch
                .as_ref()
                .map(|f| (row.feed.display_name(), f)),
            _ => None,
        })
        .collect();
    let failing: Vec<_> = last_fetches
        .iter()
        .filter(|(_, f)| f.error_kind.is_some())
        .map(|(name, f)| (*name, f, f.error_message.as_deref().unwrap_or_default()))
        .collect();
    let warned: Vec<_> = last_fetches
        .iter()
        .filter(|(_, f)| f.error_kind.is_none())
        .filter_map(|(name, f)| f.warning.as_deref().map(|w| (*name, f, w)))
        .collect();
    let mut title = format!("─ {} feeds failed their last fetch ", failing.len());
    if !warned.is_empty() {
        title.push_str(&format!("· {} read with a warning ", warned.len()));
    }
    let rule = "─".repeat(width.saturating_sub(width_of(&title)));
    lines.push(Line::from(Span::styled(title + &rule, theme.border)));
    let failing = failing.into_iter().map(|f| ("✗", theme.error, f));
    let warned = warned.into_iter().map(|w| ("⚠", theme.warning, w));
    for (mark, style, (name, fetch, why)) in failing.chain(warned).take(room) {
        let text = format!(
            "{mark} {name} · {} · {why}",
            ago(fetch.started_at_ms / 1000, now_secs)
        );
        lines.push(Line::from(Span::styled(fit(&text, width), style)));
    }
    lines
}

/// The last sync in a few words, before the last refresh: when, and what
/// waits to be pushed; in the error style when it failed.
fn sync_spans(app: &App) -> Vec<Span<'static>> {
    let Some(last) = app.sync.last.as_ref().filter(|_| app.sync.on) else {
        return Vec::new();
    };
    let when = ago(last.started_at, app.now_ms / 1000);
    let waiting = match app.sync.waiting {
        0 => String::new(),
        n => format!(", {n} to push"),
    };
    match &last.error_kind {
        Some(kind) => vec![Span::styled(
            format!("sync failed {when} ({kind}{waiting}) · "),
            app.theme.error,
        )],
        None => vec![Span::styled(
            format!("synced {when}{waiting} · "),
            app.theme.dim,
        )],
    }
}

/// The downloads in progress: the oldest with its share, and how many more.
fn downloading(app: &App) -> String {
    let Some(first) = app.downloading.first() else {
        return String::new();
    };
    let mut text = match first.total.filter(|&t| t > 0) {
        Some(total) => format!(
            "downloading {} {}% of {}",
            first.name,
            first.done * 100 / total,
            megabytes(total)
        ),
        None => format!("downloading {} {}", first.name, megabytes(first.done)),
    };
    if app.downloading.len() > 1 {
        text.push_str(&format!(" (+{} more)", app.downloading.len() - 1));
    }
    text
}

fn kilobytes(bytes: u64) -> String {
    if bytes >= 1_000_000 {
        megabytes(bytes)
    } else {
        format!("{:.1} KB", bytes as f64 / 1000.0)
    }
}
