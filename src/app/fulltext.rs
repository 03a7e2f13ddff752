//! `F`, full text: on an article, read its web page for the whole text (or,
//! when it has it, switch between the feed's text and the page's); on a
//! feed, whether each new article of it gets its page read in every refresh.
//! The worker fetches; [`App::on_page_done`] shows what it came to.

use super::{App, Effect, Focus};
use crate::model::ArticleId;
use crate::refresh::Command;

impl App {
    pub(super) fn full_text(&mut self) -> anyhow::Result<()> {
        match self.focus {
            Focus::Feeds => self.toggle_feed_full_text(),
            Focus::Articles | Focus::Article => {
                // The open article, else the one under the cursor: what the
                // screen holds says whether it has a page to read.
                let target = match (&self.open, self.focus) {
                    (Some(open), Focus::Article) => {
                        Some((open.article.id, open.article.link.is_some()))
                    }
                    _ => self.articles.selected().map(|a| (a.id, a.link.is_some())),
                };
                if let Some((id, has_page)) = target {
                    self.article_full_text(id, has_page)?;
                }
                Ok(())
            }
        }
    }

    fn article_full_text(&mut self, id: ArticleId, has_page: bool) -> anyhow::Result<()> {
        let open_one = self.open.as_ref().filter(|o| o.article.id == id);
        if let Some(open) = open_one.filter(|o| o.article.page_content.is_some()) {
            // Switch between the two texts.
            let showing_page = self.shows_page_text(&open.article);
            self.feed_text_of = showing_page.then_some(id);
            self.rerender()?;
            return Ok(());
        }
        if !has_page {
            self.notify("this article has no web page to read".into(), true);
            return Ok(());
        }
        self.asked_page = Some(id);
        self.pending.push(Effect::Worker(Command::FetchPage(id)));
        self.notify(
            "reading the article's page for its full text…".into(),
            false,
        );
        Ok(())
    }

    fn toggle_feed_full_text(&mut self) -> anyhow::Result<()> {
        let Some(row) = self.feeds.selected_feed() else {
            return Ok(());
        };
        let (feed, name) = (row.feed.id, row.feed.display_name().to_string());
        let on = self
            .store
            .feed_full_text(feed)?
            .unwrap_or(self.feed_defaults.full_text);
        self.store
            .update_feed_settings(feed, |s| s.full_text = Some(!on))?;
        let line = if on {
            format!("{name}: full text off (the feed's own text only)")
        } else {
            format!("{name}: full text on (each new article's page is read)")
        };
        self.notify(line, false);
        Ok(())
    }

    /// The worker read (or failed to read) an article's page.
    pub(super) fn on_page_done(
        &mut self,
        article: ArticleId,
        error: Option<String>,
    ) -> anyhow::Result<()> {
        let asked = self.asked_page == Some(article);
        if asked {
            self.asked_page = None;
        }
        if let Some(mut open) = self.open.take_if(|o| o.article.id == article) {
            if let Some(fresh) = self.store.article(article)? {
                open.article.page_content = fresh.page_content;
                open.article.page_error = fresh.page_error;
            }
            open.images = self.store.article_images(article)?;
            self.feed_text_of = None;
            open.rendered = self.rendered(&open.article);
            open.scroll = 0;
            self.open = Some(open);
            self.layout_article();
        }
        match error {
            Some(error) if asked => self.notify(format!("no full text: {error}"), true),
            None if asked => self.notify("full text read from the article's page".into(), false),
            _ => {}
        }
        Ok(())
    }
}
