//! tidings: a terminal feed reader. Feeds are fetched (`fetch`), parsed and
//! sanitised (`parse`), saved in a SQLite cache (`store`) by a background
//! worker (`refresh`), and managed from the command line (`cli`) or read in
//! the TUI (`tui` runs the loop, `app` holds the state, `ui` draws it,
//! `render` sets article HTML as styled text, `keys` maps keys to actions).
//! `images` finds the images articles show and checks, names and writes the
//! files the refresher caches for them.
//! Front ends only read the store and send the worker commands; see
//! `../shared/design.md` for the architecture.

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod fetch;
pub mod images;
pub mod keys;
pub mod layout;
pub mod model;
pub mod parse;
pub mod refresh;
pub mod render;
pub mod report;
pub mod store;
pub mod subscribe;
pub mod subscriptions;
pub mod text;
pub mod theme;
pub mod tui;
pub mod ui;

/// The feed a first start shows: a short tour that works with no network.
pub const WELCOME_FEED: &[u8] = include_bytes!("../assets/welcome.xml");
/// Its address: `Fetcher` answers it from the bytes above.
pub const WELCOME_URL: &str = "tidings:welcome";
