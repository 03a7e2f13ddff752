//! The status panel, two lines at the bottom. The first: a notice if one is
//! fresh, else the refresh in progress (`refreshing 37/120 · 2 failed · 41 new
//! · 1.8 MB · 3.2 s`), else the last run's summary, marked when nothing could
//! be reached (offline). The second: the selected feed's last fetch.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{fit, width_of};
use crate::app::App;
use crate::cli::{megabytes, summary_line, thousands};
use crate::stats_report::ago;

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
    } else if app.refresh.running() {
        let r = &app.refresh;
        let secs = (app.now_ms - app.refresh_started_ms).max(0) as f64 / 1000.0;
        let text = format!(
            "refreshing {}/{} · {} failed · {} new · {} · {secs:.1} s",
            r.done,
            r.total,
            r.failed,
            thousands(r.new_articles),
            megabytes(r.bytes_wire),
        );
        Line::from(Span::styled(fit(&text, width), theme.accent))
    } else if let Some(run) = &app.last_run {
        let when = ago(run.started_at_ms / 1000, now_secs);
        let mut spans = Vec::new();
        if app.offline {
            spans.push(Span::styled(
                "offline: no feed could be reached · ",
                theme.error,
            ));
        }
        spans.push(Span::styled(
            format!("last refresh {when}: {}", summary_line(run)),
            theme.dim,
        ));
        let line = Line::from(spans);
        if line.width() > width {
            let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
            Line::from(Span::styled(fit(&text, width), theme.dim))
        } else {
            line
        }
    } else {
        Line::from(Span::styled(
            "never refreshed: R fetches every feed",
            theme.dim,
        ))
    };

    let help = "? help";
    let fetch = match (&app.selected_fetch, app.feeds.selected_feed()) {
        (Some(record), Some(row)) => {
            let name = row.feed.display_name();
            let when = ago(record.started_at_ms / 1000, now_secs);
            let outcome = match (&record.error_kind, record.http_status) {
                (Some(kind), status) => {
                    let why = match (&record.error_message, status) {
                        (Some(message), _) => message.clone(),
                        (None, Some(status)) => format!("{} (HTTP {status})", kind.as_str()),
                        (None, None) => kind.as_str().to_string(),
                    };
                    format!("failed {when}: {why}")
                }
                (None, _) if record.not_modified => {
                    format!("304 not modified {when} · {} ms", record.ms_headers)
                }
                (None, status) => format!(
                    "{} {when} · {} ms · {} · {} new of {}",
                    status.map(|s| s.to_string()).unwrap_or_else(|| "ok".into()),
                    record.ms_headers + record.ms_body,
                    kilobytes(record.bytes_wire),
                    record.new_articles,
                    record.total_articles,
                ),
            };
            let style = if record.error_kind.is_some() {
                theme.error
            } else {
                theme.dim
            };
            Some((format!("{name}: {outcome}"), style))
        }
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
    let lines = vec![first, Line::from(second)];
    frame.render_widget(Paragraph::new(lines), area);
}

fn kilobytes(bytes: u64) -> String {
    if bytes >= 1_000_000 {
        megabytes(bytes)
    } else {
        format!("{:.1} KB", bytes as f64 / 1000.0)
    }
}
