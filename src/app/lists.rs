//! The two lists of the reader: the feed list (virtual entries, then feeds
//! grouped by tag, then the saved feeds under "Saved") and the article list, which holds only a window of rows
//! around its cursor and asks the store for another window when the cursor
//! leaves it. Both keep the cursor on the same item when the data under them
//! changes (a refresh adds articles above it, another feed gets new unread).

use std::collections::HashMap;

use crate::model::{
    ArticleSource, ArticleSummary, FeedId, FeedListRow, FetchRecord, LastFetch, QueryFeedId, TagKey,
};
use crate::store::{QueryFeed, Result, Store};

/// Rows of the article list held at once; the screen shows at most ~100.
const WINDOW: u64 = 240;

/// One row of the feed list.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedEntry {
    Unread {
        count: u64,
    },
    Starred {
        count: u64,
    },
    /// A tag's heading, with its feeds' unread articles; the feeds follow
    /// unless it is folded. Selected, it lists all their articles.
    Tag {
        name: String,
        unread: u64,
        folded: bool,
        feeds: Vec<FeedId>,
    },
    /// The heading of the saved feeds (unsubscribed from, their starred
    /// articles kept), which follow it, last in the list. Never selected.
    Saved,
    /// A query feed: a saved query, with its unread matches.
    Query {
        query: QueryFeed,
        unread: u64,
    },
    /// Boxed: a row with its last fetch is ten times the size of the others.
    Feed(Box<FeedListRow>),
}

impl FeedEntry {
    pub fn source(&self) -> Option<ArticleSource> {
        match self {
            FeedEntry::Unread { .. } => Some(ArticleSource::Unread),
            FeedEntry::Starred { .. } => Some(ArticleSource::Starred),
            FeedEntry::Tag { name, .. } => Some(ArticleSource::Tag(TagKey::of(name))),
            FeedEntry::Saved => None,
            FeedEntry::Feed(row) => Some(ArticleSource::Feed(row.feed.id)),
            FeedEntry::Query { query, .. } => Some(ArticleSource::Query(query.id)),
        }
    }
}

#[derive(Debug, Default)]
pub struct FeedList {
    pub entries: Vec<FeedEntry>,
    /// The tags whose feeds are hidden under their heading.
    folded: std::collections::HashSet<String>,
    /// Each feed's name, for the rows of lists that span feeds.
    names: HashMap<FeedId, String>,
    pub cursor: usize,
    /// First row on screen.
    pub offset: usize,
}

impl FeedList {
    /// Re-reads the feeds, keeping the cursor on the same entry (by source and
    /// tag), so a refresh never moves it.
    pub fn reload(&mut self, store: &Store) -> Result<()> {
        let selected = self.entries.get(self.cursor).cloned();
        let rows = store.feed_list()?;
        // A story several feeds carry counts once.
        let unread = store.count_articles(ArticleSource::Unread, true)?;
        let starred = store.count_articles(ArticleSource::Starred, false)?;
        let mut entries = vec![
            FeedEntry::Unread { count: unread },
            FeedEntry::Starred { count: starred },
        ];
        // The query feeds follow, each with its unread matches.
        for query in store.query_feeds()? {
            let unread = store.count_articles(ArticleSource::Query(query.id), true)?;
            entries.push(FeedEntry::Query { query, unread });
        }
        let (saved, rows): (Vec<FeedListRow>, Vec<FeedListRow>) =
            rows.into_iter().partition(|r| r.feed.saved);
        entries.extend(
            rows.iter()
                .filter(|r| r.feed.tags.is_empty())
                .map(|r| FeedEntry::Feed(Box::new(r.clone()))),
        );
        let mut tags: Vec<&str> = Vec::new();
        for row in &rows {
            for tag in &row.feed.tags {
                if !tags.contains(&tag.as_str()) {
                    tags.push(tag);
                }
            }
        }
        tags.sort_by_key(|t| t.to_lowercase());
        for tag in tags {
            let members: Vec<&FeedListRow> = rows
                .iter()
                .filter(|r| r.feed.tags.iter().any(|t| t == tag))
                .collect();
            let folded = self.folded.contains(tag);
            entries.push(FeedEntry::Tag {
                name: tag.to_string(),
                unread: members.iter().map(|r| r.unread).sum(),
                folded,
                feeds: members.iter().map(|r| r.feed.id).collect(),
            });
            if !folded {
                entries.extend(
                    members
                        .iter()
                        .map(|r| FeedEntry::Feed(Box::new((*r).clone()))),
                );
            }
        }
        if !saved.is_empty() {
            entries.push(FeedEntry::Saved);
            entries.extend(saved.iter().map(|r| FeedEntry::Feed(Box::new(r.clone()))));
        }
        self.names = rows
            .iter()
            .chain(&saved)
            .map(|r| (r.feed.id, r.feed.display_name().to_string()))
            .collect();
        self.entries = entries;
        self.cursor = selected
            .and_then(|old| self.position_of(&old))
            .unwrap_or(self.cursor.min(self.entries.len().saturating_sub(1)));
        Ok(())
    }

    fn position_of(&self, old: &FeedEntry) -> Option<usize> {
        // The same entry under the same tag heading, when a feed is in several.
        let heading = self.heading_above(self.cursor);
        let same = |e: &FeedEntry| match (e, old) {
            (FeedEntry::Feed(a), FeedEntry::Feed(b)) => a.feed.id == b.feed.id,
            (FeedEntry::Query { query: a, .. }, FeedEntry::Query { query: b, .. }) => a.id == b.id,
            (FeedEntry::Tag { name: a, .. }, FeedEntry::Tag { name: b, .. }) => a == b,
            _ => std::mem::discriminant(e) == std::mem::discriminant(old) && e.source().is_some(),
        };
        let matches: Vec<usize> = (0..self.entries.len())
            .filter(|&i| same(&self.entries[i]))
            .collect();
        matches
            .iter()
            .copied()
            .find(|&i| self.heading_above(i) == heading)
            .or(matches.first().copied())
    }

    fn heading_above(&self, index: usize) -> Option<&FeedEntry> {
        self.entries[..index.min(self.entries.len())]
            .iter()
            .rev()
            .find(|e| matches!(e, FeedEntry::Tag { .. } | FeedEntry::Saved))
    }

    /// Follows a change of one article's read state without re-reading the
    /// feeds: its feed's count (under every tag it is listed in) and the
    /// total move by `delta`.
    pub fn adjust_unread(&mut self, feed: FeedId, delta: i64) {
        let apply = |count: &mut u64| *count = (*count as i64 + delta).max(0) as u64;
        for entry in &mut self.entries {
            match entry {
                FeedEntry::Unread { count } => apply(count),
                FeedEntry::Feed(row) if row.feed.id == feed => apply(&mut row.unread),
                FeedEntry::Tag { unread, feeds, .. } if feeds.contains(&feed) => apply(unread),
                _ => {}
            }
        }
    }

    /// Records a feed's latest fetch (its failure mark, its warning) from a
    /// progress message.
    pub fn set_last_fetch(&mut self, feed: FeedId, record: &FetchRecord) {
        for entry in &mut self.entries {
            if let FeedEntry::Feed(row) = entry
                && row.feed.id == feed
            {
                row.last_fetch = Some(LastFetch {
                    started_at_ms: record.started_at_ms,
                    http_status: record.http_status,
                    not_modified: record.not_modified,
                    error_kind: record.error_kind,
                    error_message: record.error_message.clone(),
                    warning: record.warning.clone(),
                });
            }
        }
    }

    pub fn adjust_starred(&mut self, delta: i64) {
        for entry in &mut self.entries {
            if let FeedEntry::Starred { count } = entry {
                *count = (*count as i64 + delta).max(0) as u64;
            }
        }
    }

    /// Whether a feed is a saved one (unsubscribed, starred articles kept).
    pub fn is_saved(&self, feed: FeedId) -> bool {
        self.entries
            .iter()
            .any(|e| matches!(e, FeedEntry::Feed(r) if r.feed.id == feed && r.feed.saved))
    }

    /// A subscribed feed, as the list has it.
    pub fn feed(&self, feed: FeedId) -> Option<&crate::model::Feed> {
        self.entries.iter().find_map(|e| match e {
            FeedEntry::Feed(row) if row.feed.id == feed => Some(&row.feed),
            _ => None,
        })
    }

    /// What to call a feed on screen (empty when it is not subscribed).
    pub fn name(&self, feed: FeedId) -> &str {
        self.names.get(&feed).map_or("", String::as_str)
    }

    /// Folds or unfolds the tag under the cursor; whether it was a tag.
    pub fn toggle_fold(&mut self, store: &Store) -> Result<bool> {
        let Some(FeedEntry::Tag { name, .. }) = self.selected() else {
            return Ok(false);
        };
        let name = name.clone();
        if !self.folded.remove(&name) {
            self.folded.insert(name);
        }
        self.reload(store)?;
        Ok(true)
    }

    /// A tag's name by its key (for a list's title).
    pub fn tag_name(&self, key: TagKey) -> &str {
        self.entries
            .iter()
            .find_map(|e| match e {
                FeedEntry::Tag { name, .. } if TagKey::of(name) == key => Some(name.as_str()),
                _ => None,
            })
            .unwrap_or("")
    }

    /// Puts the cursor on a query feed.
    pub fn select_query(&mut self, query: QueryFeedId) {
        if let Some(at) = self
            .entries
            .iter()
            .position(|e| matches!(e, FeedEntry::Query { query: q, .. } if q.id == query))
        {
            self.cursor = at;
        }
    }

    /// A query feed's name.
    pub fn query_name(&self, query: QueryFeedId) -> &str {
        self.entries
            .iter()
            .find_map(|e| match e {
                FeedEntry::Query { query: q, .. } if q.id == query => Some(q.name.as_str()),
                _ => None,
            })
            .unwrap_or("")
    }

    pub fn selected(&self) -> Option<&FeedEntry> {
        self.entries.get(self.cursor)
    }

    pub fn selected_feed(&self) -> Option<&FeedListRow> {
        match self.selected()? {
            FeedEntry::Feed(row) => Some(row),
            _ => None,
        }
    }

    /// Moves by `delta` selectable entries (tag headings are skipped).
    pub fn move_by(&mut self, delta: isize) {
        let selectable: Vec<usize> = (0..self.entries.len())
            .filter(|&i| self.entries[i].source().is_some())
            .collect();
        let Some(here) = selectable.iter().position(|&i| i >= self.cursor) else {
            return;
        };
        let target = (here as isize + delta).clamp(0, selectable.len() as isize - 1);
        self.cursor = selectable[target as usize];
    }

    pub fn select_feed(&mut self, feed: FeedId) -> bool {
        match self
            .entries
            .iter()
            .position(|e| matches!(e, FeedEntry::Feed(r) if r.feed.id == feed))
        {
            Some(i) => {
                self.cursor = i;
                true
            }
            None => false,
        }
    }

    /// Keeps the cursor within `height` rows on screen.
    pub fn scroll_to_cursor(&mut self, height: usize) {
        self.offset = scroll_to(self.offset, self.cursor, height, self.entries.len());
    }

    /// Feed ids in list order, for "next unread across feeds".
    pub fn feed_ids(&self) -> impl Iterator<Item = (usize, FeedId, u64)> + '_ {
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match e {
                FeedEntry::Feed(r) => Some((i, r.feed.id, r.unread)),
                _ => None,
            })
    }
}

/// The articles of one source, a window at a time.
#[derive(Debug)]
pub struct ArticleList {
    pub source: ArticleSource,
    pub unread_only: bool,
    pub newest_first: bool,
    pub total: u64,
    /// Index in the whole list of `rows[0]`.
    pub window_start: u64,
    pub rows: Vec<ArticleSummary>,
    pub cursor: u64,
    /// First row on screen.
    pub offset: u64,
    /// Search results are a fixed list, not a query by source.
    pub search: Option<String>,
}

impl ArticleList {
    pub fn new(source: ArticleSource, unread_only: bool, newest_first: bool) -> ArticleList {
        ArticleList {
            source,
            unread_only,
            newest_first,
            total: 0,
            window_start: 0,
            rows: Vec::new(),
            cursor: 0,
            offset: 0,
            search: None,
        }
    }

    /// A list of search results (already in the order to show).
    pub fn of_search(query: String, rows: Vec<ArticleSummary>) -> ArticleList {
        ArticleList {
            total: rows.len() as u64,
            rows,
            search: Some(query),
            ..ArticleList::new(ArticleSource::Unread, false, true)
        }
    }

    pub fn selected(&self) -> Option<&ArticleSummary> {
        self.row(self.cursor)
    }

    pub fn selected_mut(&mut self) -> Option<&mut ArticleSummary> {
        let i = self.cursor.checked_sub(self.window_start)?;
        self.rows.get_mut(i as usize)
    }

    pub fn row(&self, index: u64) -> Option<&ArticleSummary> {
        let i = index.checked_sub(self.window_start)?;
        self.rows.get(i as usize)
    }

    /// Re-reads the list. The cursor stays on the article it was on, wherever
    /// that article now is; if it is gone, the cursor keeps its place.
    pub fn reload(&mut self, store: &Store) -> Result<()> {
        if self.search.is_some() {
            return Ok(());
        }
        let selected = self.selected().cloned();
        self.total = store.count_articles(self.source, self.unread_only)?;
        if let Some(article) = selected {
            let position = store.article_position(
                self.source,
                self.unread_only,
                self.newest_first,
                &article,
            )?;
            let before = self.cursor;
            self.cursor = position;
            self.load_window(store)?;
            if self.selected().map(|a| a.id) != Some(article.id) {
                self.cursor = before;
            } else if self.cursor > before {
                // Rows came in above: keep the view where the reader left it.
                self.offset += self.cursor - before;
            }
        }
        self.cursor = self.cursor.min(self.total.saturating_sub(1));
        self.load_window(store)
    }

    /// Loads the window around the cursor when the cursor is outside it.
    pub fn ensure_window(&mut self, store: &Store) -> Result<()> {
        if self.total > 0 && self.selected().is_none() {
            self.load_window(store)?;
        }
        Ok(())
    }

    fn load_window(&mut self, store: &Store) -> Result<()> {
        if self.search.is_some() {
            return Ok(());
        }
        let start = self.cursor.saturating_sub(WINDOW / 2);
        self.window_start = start.min(self.total.saturating_sub(WINDOW));
        self.rows = store.article_page(
            self.source,
            self.unread_only,
            self.newest_first,
            (self.window_start, WINDOW),
            self.total,
        )?;
        Ok(())
    }

    pub fn move_to(&mut self, store: &Store, index: u64) -> Result<()> {
        self.cursor = index.min(self.total.saturating_sub(1));
        self.ensure_window(store)
    }

    pub fn move_by(&mut self, store: &Store, delta: i64) -> Result<()> {
        let target = (self.cursor as i64 + delta).max(0) as u64;
        self.move_to(store, target)
    }

    pub fn scroll_to_cursor(&mut self, height: usize) {
        self.offset = scroll_to(
            self.offset as usize,
            self.cursor as usize,
            height,
            self.total as usize,
        ) as u64;
    }

    /// The first unread article after (or before) the cursor within the
    /// loaded window and then page by page.
    pub fn find_unread(&mut self, store: &Store, forward: bool) -> Result<Option<u64>> {
        let mut index = self.cursor;
        loop {
            index = match (forward, index) {
                (true, i) if i + 1 < self.total => i + 1,
                (false, i) if i > 0 => i - 1,
                _ => return Ok(None),
            };
            if self.row(index).is_none() {
                let keep = self.cursor;
                self.cursor = index;
                self.load_window(store)?;
                self.cursor = keep;
            }
            if self.row(index).is_some_and(|a| !a.read) {
                return Ok(Some(index));
            }
        }
    }
}

/// The first row to show so that `cursor` is on a screen of `height` rows,
/// moving the view as little as possible.
pub fn scroll_to(offset: usize, cursor: usize, height: usize, len: usize) -> usize {
    let height = height.max(1);
    let mut offset = offset.min(len.saturating_sub(height));
    if cursor < offset {
        offset = cursor;
    } else if cursor >= offset + height {
        offset = cursor + 1 - height;
    }
    offset
}
