//! Sync with an aggregator server, so that one reading state follows a person
//! across devices while the local cache stays the only thing the screen reads.
//!
//! - [`Backend`]: what a server must answer (its subscriptions, its articles
//!   since an id, read and starred state, and the changes pushed to it). Tiny
//!   Tiny RSS ([`TtRss`]) is the first; Miniflux, FreshRSS and Nextcloud News
//!   implement the same trait without touching anything else.
//! - [`engine`]: one sync, in order: push what changed here (unsubscriptions,
//!   subscriptions, read and star changes), then pull the server's
//!   subscriptions, its new articles, and the state of the feeds whose counts
//!   say something changed there; every stage timed into a [`SyncRecord`].
//!
//! The refresh worker runs it (`Command::Sync`), so the reader never waits
//! for the server, and fetches the new articles' images and pages from their
//! own hosts afterwards, as for any feed.

pub mod engine;
mod ttrss;

pub use crate::store::{FeedChange, Flag, RemoteArticle, RemoteFeed, RemoteId, SyncRecord};
pub use engine::{Pulling, Synced, sync};
pub use ttrss::TtRss;

use crate::config::{RefreshConfig, SyncBackend, SyncConfig};

/// Why a sync could not go on. Never holds the password.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("the sync server refused the user name or password (check [sync] user and password)")]
    Auth,
    #[error(
        "the sync server's API is switched off for this user (turn on \"Enable API\" in its preferences)"
    )]
    ApiDisabled,
    #[error("no password for the sync server: {0}")]
    Password(String),
    #[error("cannot reach the sync server: {0}")]
    Unreachable(String),
    #[error("the sync server did not answer in time")]
    Timeout,
    #[error("the sync server answered HTTP {status}{hint}")]
    Http { status: u16, hint: &'static str },
    #[error("the sync server's answer was not understood: {0}")]
    Protocol(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl SyncError {
    /// The short name of the failure, for the statistics.
    pub fn kind(&self) -> &'static str {
        match self {
            SyncError::Auth => "auth",
            SyncError::ApiDisabled => "api disabled",
            SyncError::Password(_) => "password",
            SyncError::Unreachable(_) => "unreachable",
            SyncError::Timeout => "timeout",
            SyncError::Http { .. } => "http",
            SyncError::Protocol(_) => "protocol",
            SyncError::Store(_) => "database",
        }
    }

    /// Whether trying again later may help (the server down, not a wrong password).
    pub fn transient(&self) -> bool {
        matches!(
            self,
            SyncError::Unreachable(_) | SyncError::Timeout | SyncError::Http { .. }
        )
    }
}

pub type Result<T> = std::result::Result<T, SyncError>;

/// The server's read and starred articles of one feed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedState {
    pub unread: Vec<RemoteId>,
    pub starred: Vec<RemoteId>,
}

/// A feed's counts on the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RemoteCounts {
    pub unread: u64,
    pub starred: u64,
}

/// What a subscription request came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subscribed {
    /// The server has it, under this id.
    Feed(RemoteId),
    /// The server has it; its id comes with the next list of subscriptions.
    Listed,
    /// The server would not, and why (it cannot fetch it, it is no feed).
    Refused(String),
}

/// What was spent talking to the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    pub requests: u64,
    pub bytes: u64,
    pub ms_login: u64,
}

/// An aggregator server, as the sync engine uses it. Ids are the server's.
/// Each call logs in first when there is no session, and again once when the
/// server says the session expired.
#[allow(async_fn_in_trait)] // only used generically, by the engine
pub trait Backend {
    /// Its name in the statistics (`ttrss`).
    fn name(&self) -> &'static str;
    /// Articles a page of [`Backend::articles_since`] holds at most.
    fn page_size(&self) -> usize;
    /// What it keeps between syncs (a session, names it learned), as text for
    /// the store; and that text given back at the start of the next sync.
    fn memory(&self) -> String;
    fn remember(&mut self, memory: &str);
    fn traffic(&self) -> Traffic;

    async fn feeds(&mut self) -> Result<Vec<RemoteFeed>>;
    async fn counts(&mut self) -> Result<std::collections::HashMap<RemoteId, RemoteCounts>>;
    /// Articles with ids above `since`, newest first, after skipping `skip`.
    async fn articles_since(&mut self, since: RemoteId, skip: usize) -> Result<Vec<RemoteArticle>>;
    /// These articles (the ids the state of a feed named, not held here).
    async fn articles(&mut self, ids: &[RemoteId]) -> Result<Vec<RemoteArticle>>;
    async fn feed_state(&mut self, feed: RemoteId) -> Result<FeedState>;
    async fn set_flag(&mut self, ids: &[RemoteId], flag: Flag, on: bool) -> Result<()>;
    async fn subscribe(&mut self, url: &str) -> Result<Subscribed>;
    /// Unsubscribes; a feed the server no longer has counts as done.
    async fn unsubscribe(&mut self, feed: RemoteId) -> Result<()>;
    /// Gives a feed a new name.
    async fn rename(&mut self, feed: RemoteId, title: &str) -> Result<()>;
    /// Puts a feed in a category (created when missing), or in none.
    async fn set_category(&mut self, feed: RemoteId, category: Option<&str>) -> Result<()>;
}

/// The backend the configuration names, ready to log in.
pub fn connect(config: &SyncConfig, refresh: &RefreshConfig) -> Result<TtRss> {
    let password = config.password().map_err(SyncError::Password)?;
    match config.backend {
        SyncBackend::Ttrss => TtRss::new(config, refresh, password),
    }
}

/// What names the account a store's server ids belong to.
pub fn account(config: &SyncConfig) -> String {
    format!(
        "{} {} {}",
        config.backend.name(),
        config.server(),
        config.user
    )
}
