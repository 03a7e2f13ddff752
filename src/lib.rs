//! tidings: a terminal feed reader. This crate is the engine below the TUI:
//! feeds are fetched (`fetch`), parsed and sanitised (`parse`), saved in a
//! SQLite cache (`store`) by a background worker (`refresh`), and managed
//! from the command line (`cli`). Front ends only read the store and send the
//! worker commands; see `../shared/design.md` for the architecture.

pub mod cli;
pub mod config;
pub mod fetch;
pub mod model;
pub mod parse;
pub mod refresh;
pub mod render;
pub mod stats_report;
pub mod store;
pub mod subscriptions;
