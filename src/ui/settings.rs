//! A feed's own settings (`,`): one row per setting with the feed's value or
//! the default it follows, what the selected row means, and the keys.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::overlay::centered;
use super::{fit, pane_frame, width_of};
use crate::app::{App, FeedSettingsView, SETTINGS};

const KEYS: &str =
    "j/k move · h/l or Space change · Enter type a value · Backspace default · q closes";

pub fn feed_settings(frame: &mut Frame, app: &App, view: &FeedSettingsView) {
    let theme = &app.theme;
    let screen = frame.area();
    let width = screen.width.saturating_sub(4).min(90);
    let inner_width = width.saturating_sub(2) as usize;
    let title = format!(
        " Settings of {} ",
        fit(&view.name, inner_width.saturating_sub(16))
    );
    let label_width = SETTINGS
        .iter()
        .map(|s| width_of(s.label()))
        .max()
        .unwrap_or(0);
    let mut lines: Vec<Line> = SETTINGS
        .iter()
        .enumerate()
        .map(|(i, setting)| {
            let value = view.value(*setting, &app.feed_defaults);
            let style = if value.starts_with("default") {
                theme.dim
            } else {
                ratatui::style::Style::new()
            };
            let label = format!(" {:<label_width$}  ", setting.label());
            let room = inner_width.saturating_sub(width_of(&label));
            let line = Line::from(vec![
                Span::raw(label),
                Span::styled(fit(&value, room), style),
            ]);
            if i == view.cursor {
                line.style(theme.selection)
            } else {
                line
            }
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::raw(SETTINGS[view.cursor].help()));
    lines.push(Line::styled(KEYS, theme.dim));
    // As tall as its wrapped lines and borders need.
    let settings = Paragraph::new(lines).wrap(Wrap { trim: false });
    let height = settings.line_count(inner_width as u16) as u16 + 2;
    let area = centered(screen, width, height.min(screen.height));
    frame.render_widget(Clear, area);
    let inner = pane_frame(frame.buffer_mut(), area, app, &title, true, "");
    frame.render_widget(settings, inner);
}
