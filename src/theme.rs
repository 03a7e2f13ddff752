//! Styles by role: [`Theme`] turns the config's colours into ratatui styles
//! for the panes and the article, and into modifiers alone when `NO_COLOR`
//! is set. Read by `app` (the article is styled when it is laid out) and `ui`.

use ratatui::style::{Modifier, Style};

use crate::config::ThemeConfig;
use crate::render::ArticleStyles;

/// Styles by role, from the config's colours.
#[derive(Debug, Clone)]
pub struct Theme {
    pub accent: Style,
    pub selection: Style,
    pub unread: Style,
    pub dim: Style,
    pub error: Style,
    /// Read, but with a warning: set apart from both ok and failed.
    pub warning: Style,
    pub border: Style,
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
                warning: Style::new().add_modifier(Modifier::ITALIC),
                border: Style::new().add_modifier(Modifier::DIM),
                article: ArticleStyles::plain(),
            };
        }
        let colours = colours.palette();
        let fg = |c: ratatui::style::Color| Style::new().fg(c);
        let mut article = ArticleStyles::colored();
        article.heading = article.heading.fg(colours.heading);
        article.link = article.link.fg(colours.link);
        article.code = article.code.fg(colours.code);
        article.quote = article.quote.fg(colours.quote);
        Theme {
            accent: fg(colours.accent).add_modifier(Modifier::BOLD),
            selection: Style::new().bg(colours.selection),
            unread: fg(colours.unread).add_modifier(Modifier::BOLD),
            dim: fg(colours.dim),
            error: fg(colours.error),
            warning: fg(colours.warning),
            border: fg(colours.dim),
            article,
        }
    }
}
