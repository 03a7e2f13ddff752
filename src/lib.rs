//! tidings: a terminal feed reader. The map, in the order data flows through
//! it (each module imports only modules above it, never one that imports it
//! back; only `main` knows `cli`):
//!
//! - below everything: `model` (plain domain types), `query` (the query
//!   language over articles), `text` (what may reach a terminal), `clock`
//!   (the time rules read), `keys` and `config`, and `render` (article HTML
//!   → styled lines, with the size limit past which a body is not shown,
//!   which `images` keeps to as well);
//! - network → model: `fetch` (one HTTP GET with its limits), `parse` (bytes →
//!   a parsed feed), `images` (the images articles show; checking and writing
//!   their files), `downloads` (enclosures streamed to files, resumable);
//! - model → SQLite: `store` (every line of SQL);
//! - `sync` (the aggregator server a device shares its reading with: its
//!   subscriptions and articles pulled into the store, changes pushed);
//! - the worker: `refresh` (commands in, progress out: each feed fetched,
//!   parsed, its images found, and written, through its stages), and
//!   `subscribe` (what a typed address is, read through the same path);
//! - what people read: `report` (figures, dates and the statistics report),
//!   `subscriptions` (OPML and url lists in and out), `layout` and `theme`
//!   (where panes go, how they look), `graphics` (pictures for this terminal);
//! - the reader: `app` (state and `update`), `ui` (drawing it), `tui` (the
//!   event loop and the terminal); and `cli` for the headless commands.
//!
//! Front ends only read the store and send the worker commands; see
//! `../shared/design.md` for the architecture.

pub mod clock;
pub mod config;
pub mod keys;
pub mod model;
pub mod query;
pub mod text;

pub mod downloads;
pub mod fetch;
pub mod fulltext;
pub mod images;
pub mod parse;

pub mod store;
pub mod sync;

pub mod refresh;
pub mod subscribe;

pub mod graphics;
pub mod layout;
pub mod render;
pub mod report;
pub mod subscriptions;
pub mod theme;

pub mod app;
pub mod cli;
pub mod tui;
pub mod ui;

/// The feed a first start shows: a short tour that works with no network.
pub const WELCOME_FEED: &[u8] = include_bytes!("../assets/welcome.xml");
/// Its address: `Fetcher` answers it from the bytes above.
pub const WELCOME_URL: &str = "tidings:welcome";
