//! Query feeds in the reader: `Q` makes one from a line `name: query`, `e`
//! on one edits it (the same line, filled in), `d` deletes it (its articles
//! stay where they are). A query that is wrong keeps the line open and says
//! where, by column; one that would list every article says so. Those of
//! config.toml are edited there.

use super::overlay::{Overlay, Prompt, PromptKind};
use super::*;
use crate::model::QueryFeedId;
use crate::store::QueryFeed;

impl App {
    /// The query feed under the cursor of the feed list.
    pub(super) fn selected_query_feed(&self) -> Option<QueryFeed> {
        match self.feeds.selected() {
            Some(FeedEntry::Query { query, .. }) => Some(query.clone()),
            _ => None,
        }
    }

    pub(super) fn edit_query_feed(&mut self) -> anyhow::Result<()> {
        let Some(query) = self.selected_query_feed() else {
            return Ok(());
        };
        if query.from_config {
            self.notify(
                format!("“{}” is defined in config.toml: edit it there", query.name),
                true,
            );
            return Ok(());
        }
        let line = format!("{}: {}", query.name, query.query);
        let kind = PromptKind::QueryFeed(Some(query.id));
        self.overlay = Some(Overlay::Prompt(Prompt::with_text(kind, line)));
        Ok(())
    }

    pub(super) fn remove_query_feed(&mut self) -> anyhow::Result<()> {
        let Some(query) = self.selected_query_feed() else {
            return Ok(());
        };
        if query.from_config {
            self.notify(
                format!(
                    "“{}” is defined in config.toml: remove it there",
                    query.name
                ),
                true,
            );
            return Ok(());
        }
        self.store.remove_query_feed(query.id)?;
        self.feeds.reload(&self.store)?;
        self.show_selected_source()?;
        self.notify(
            format!(
                "deleted the query feed “{}” ({}); its articles stay in their feeds",
                query.name, query.query
            ),
            false,
        );
        Ok(())
    }

    /// Saves the line `name: query` of the prompt as a query feed (new, or
    /// `id` edited). A wrong line keeps the prompt open and says why.
    pub(super) fn save_query_feed(
        &mut self,
        id: Option<QueryFeedId>,
        prompt: Prompt,
    ) -> anyhow::Result<Vec<Effect>> {
        let line = prompt.input.clone();
        let Some((name, text)) = line.split_once(':').map(|(n, q)| (n.trim(), q.trim())) else {
            self.notify("write the query feed as name: query".into(), true);
            self.overlay = Some(Overlay::Prompt(prompt));
            return Ok(Vec::new());
        };
        if name.is_empty() {
            self.notify("the query feed needs a name before the colon".into(), true);
            self.overlay = Some(Overlay::Prompt(prompt));
            return Ok(Vec::new());
        }
        let query = match crate::query::parse(text) {
            Ok(query) => query,
            Err(e) => {
                // The column counts from the start of the line typed.
                let colon = line.find(':').unwrap_or(0);
                let after = &line[colon + 1..];
                let start = colon + 1 + after.len() - after.trim_start().len();
                let offset = line[..start].chars().count();
                let column = e.column + offset;
                self.notify(format!("column {column}: {}", e.message), true);
                self.overlay = Some(Overlay::Prompt(prompt));
                return Ok(Vec::new());
            }
        };
        let counts = self.store.query_counts(&query, self.now_ms / 1000)?;
        let id = match id {
            Some(id) => {
                self.store.edit_query_feed(id, name, text)?;
                id
            }
            None => self.store.save_query_feed(name, text)?,
        };
        self.feeds.reload(&self.store)?;
        self.feeds.select_query(id);
        self.show_selected_source()?;
        let every = if counts.total > 0 && counts.total == self.store.article_total()? {
            " (every article: is that the query you meant?)"
        } else {
            ""
        };
        self.notify(
            format!(
                "query feed “{name}”: {} articles match, {} unread{every}",
                crate::report::thousands(counts.total),
                crate::report::thousands(counts.unread)
            ),
            !every.is_empty(),
        );
        Ok(Vec::new())
    }
}
