//! The command line: clap definitions, and [`run`], which hands each headless
//! command to its home: `subscriptions` (add, import, export, list, remove),
//! `refresh`, `download` (podcast episodes), and `inspect` (search, stats,
//! images). `repair` is the one
//! command that runs without an open store ([`repair`]). Each works on the store
//! `main` opened and through the same `Refresher` the reader uses, and prints
//! plain text meant for people (or JSON meant for scripts). Only `main`
//! imports this module.
//!
//! Everything printed that came from a feed was sanitised when it was stored;
//! text here only adds layout.

mod download;
mod filters;
mod inspect;
mod refresh;
mod repair;
mod settings;
mod subscriptions;
mod sync;

use std::path::PathBuf;

use anyhow::bail;
use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{Config, Paths};
use crate::model::FeedId;
use crate::store::Store;
use inspect::{images, search, stats};
use refresh::refresh;
pub use repair::repair;
use subscriptions::{add, export, import, list, remove};

#[derive(Debug, Parser)]
#[command(
    name = "tidings",
    version,
    about = "A fast, keyboard-first terminal feed reader",
    after_help = "Without a command, tidings opens the reader (press ? in it for the keys)."
)]
pub struct Cli {
    /// Keep the database, caches, config and log in DIR.
    #[arg(long, global = true, env = "TIDINGS_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Read the configuration from FILE instead of config.toml in the config directory.
    #[arg(long, global = true, env = "TIDINGS_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<CliCommand>,
}

#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Subscribe to a feed, a web page that announces one, or a local file.
    Add {
        /// http(s) address, file:// address or path of a feed file.
        url: String,
        /// Tag the feed (repeat for several).
        #[arg(long = "tag", short = 't')]
        tags: Vec<String>,
        /// Your own name for the feed.
        #[arg(long)]
        title: Option<String>,
        /// Subscribe without fetching the address first (offline).
        #[arg(long)]
        no_fetch: bool,
        /// Read each new article's web page for its full text (for a feed
        /// that sends only summaries).
        #[arg(long)]
        full_text: bool,
        /// Keep this feed's articles apart: never merged with the same story
        /// in other feeds (for a feed that reposts on purpose).
        #[arg(long)]
        no_dedup: bool,
    },
    /// Import subscriptions from OPML or a newsboat urls file.
    Import { file: PathBuf },
    /// Export subscriptions as OPML, or everything as JSON.
    Export {
        #[arg(long, value_enum, default_value_t = ExportFormat::Opml)]
        format: ExportFormat,
        /// Write to FILE instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Fetch all (or the named) feeds now.
    Refresh {
        /// Feeds by id, address or title.
        feeds: Vec<String>,
        /// Print only the summary and failures.
        #[arg(long, short)]
        quiet: bool,
        /// When another refresh is running, wait for it to end instead of
        /// exiting at once.
        #[arg(long)]
        wait: bool,
        /// Fetch the feeds that asked to rest too (their <ttl>,
        /// sy:updatePeriod or Cache-Control max-age since the last fetch).
        #[arg(long)]
        force: bool,
    },
    /// Sync with the server in [sync]: push the read, starred and
    /// subscription changes made here, pull its subscriptions, new articles
    /// and read/starred state (for cron; the reader syncs by itself).
    Sync {
        /// When a refresh or another sync is running, wait for it to end.
        #[arg(long)]
        wait: bool,
    },
    /// List feeds with unread/total counts and the last fetch.
    List,
    /// Unsubscribe from a feed. Its articles go too, but for the starred
    /// ones: those are kept, under "Saved" in the reader (and in the JSON
    /// export), unless --drop-starred. A saved feed's kept articles go with
    /// --drop-starred.
    Remove {
        feed: String,
        /// Delete the feed's starred articles too.
        #[arg(long)]
        drop_starred: bool,
    },
    /// Show or change a feed's own settings: refresh (minutes, or 2h, 1d),
    /// images, full_text, honour_ttl, dedup (on/off), keep_articles (a
    /// number or all), keep_days (a number or forever), proxy (an address or
    /// direct). `default` goes back to the config's value.
    Settings {
        /// The feed, by id, address or title.
        feed: String,
        /// SETTING=VALUE, e.g. refresh=15m images=off proxy=direct.
        assignments: Vec<String>,
    },
    /// Full-text search over titles and bodies, best matches first; a word
    /// ending in * is a prefix (ru*), and a query of the query language
    /// (title =~ "rust" and unread) lists its newest matches.
    Search {
        #[arg(required = true)]
        query: Vec<String>,
        #[arg(long, default_value_t = 20)]
        limit: u64,
    },
    /// The query language (for query feeds, filters and search): try a
    /// query on the cache.
    Filter {
        #[command(subcommand)]
        action: FilterAction,
    },
    /// Fetch statistics: the last refresh and every feed.
    Stats {
        #[arg(long, value_enum, default_value_t = StatsFormat::Text)]
        format: StatsFormat,
    },
    /// The image cache: its size and contents, or make it fit its limit.
    Images {
        #[command(subcommand)]
        action: ImagesAction,
    },
    /// Download podcast episodes (audio and video enclosures) for offline
    /// listening: the newest of each feed tagged [downloads] podcast_tag, or
    /// of the feeds named. Interrupted downloads resume.
    Download {
        /// Feeds by id, address or title (default: the podcast-tagged ones).
        feeds: Vec<String>,
        /// Episodes per feed, newest first (default: [downloads] newest).
        #[arg(long)]
        newest: Option<usize>,
        /// List what was downloaded and where, and fetch nothing.
        #[arg(long)]
        list: bool,
    },
    /// Print a shell completion script (see the README for where it goes).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page, tidings(1), in roff.
    Man,
    /// The way out of a damaged database: keep it aside (renamed
    /// tidings.db.damaged-TIME) and build a fresh cache with the subscriptions
    /// of subscriptions.opml. A sound, locked or newer database is left alone.
    Repair,
}

#[derive(Debug, Subcommand)]
pub enum ImagesAction {
    /// How many images are cached, failed, refused or pending, the failures
    /// by reason, and the cache's size.
    Stats {
        #[arg(long, value_enum, default_value_t = StatsFormat::Text)]
        format: StatsFormat,
    },
    /// Delete the least recently shown images until the cache fits
    /// `images.cache_limit_mb` (or --limit-mb); images of starred articles stay.
    /// Files no image uses, over an hour old, go too.
    Prune {
        #[arg(long)]
        limit_mb: Option<u64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum FilterAction {
    /// What QUERY catches in the cache now (how many articles, how many
    /// unread, the newest), e.g. `tidings filter test 'title =~ "rust" and age < 7d'`.
    Test {
        #[arg(required = true)]
        query: Vec<String>,
        #[arg(long, default_value_t = 20)]
        limit: u64,
    },
    /// Save a filter: articles that arrive matching QUERY are hidden (never
    /// shown, a killfile), marked read, starred, or tagged. It is tested on
    /// the cache first; one that would hide every article asks (or needs --yes).
    Add {
        /// hide, read, star, or tag (with --tag).
        #[arg(long)]
        action: String,
        #[arg(long)]
        tag: Option<String>,
        /// Save it even if it would hide every article.
        #[arg(long)]
        yes: bool,
        #[arg(required = true)]
        query: Vec<String>,
    },
    /// The filters in force: config.toml's and the saved ones (with their ids).
    List,
    /// Delete a saved filter by its id (see `tidings filter list`).
    Remove { id: i64 },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Opml,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StatsFormat {
    Text,
    Json,
}

/// Runs one headless command on the opened store.
pub async fn run(
    command: CliCommand,
    mut store: Store,
    paths: &Paths,
    config: Config,
) -> anyhow::Result<()> {
    let outcome = match command {
        CliCommand::Add {
            url,
            tags,
            title,
            no_fetch,
            full_text,
            no_dedup,
        } => {
            let options = subscriptions::AddOptions {
                tags,
                title,
                no_fetch,
                full_text,
                no_dedup,
            };
            add(&mut store, paths, config, &url, options).await
        }
        CliCommand::Import { file } => import(&mut store, &file),
        CliCommand::Export { format, output } => export(&store, format, output.as_deref()),
        CliCommand::Refresh {
            feeds,
            quiet,
            wait,
            force,
        } => {
            let ids = resolve_feeds(&store, &feeds)?;
            refresh(paths, config, ids, quiet, wait, force).await
        }
        CliCommand::Sync { wait } => sync::sync(paths, config, wait).await,
        CliCommand::List => list(&store),
        CliCommand::Remove { feed, drop_starred } => remove(&mut store, &feed, drop_starred),
        CliCommand::Settings { feed, assignments } => {
            settings::settings(&mut store, &config, &feed, &assignments)
        }
        CliCommand::Search { query, limit } => search(&store, &query.join(" "), limit),
        CliCommand::Filter { action } => filters::filter(&mut store, &config, action),
        CliCommand::Stats { format } => stats(&store, format),
        CliCommand::Images { action } => images(&mut store, paths, &config, action),
        CliCommand::Download {
            feeds,
            newest,
            list,
        } => download::download(&mut store, paths, &config, &feeds, newest, list).await,
        // `main` runs these before opening the store: repair may have to move
        // the file, and the other two need none.
        CliCommand::Repair => bail!("tidings repair runs without an open database"),
        CliCommand::Completions { .. } | CliCommand::Man => {
            bail!("tidings completions and man run without a database")
        }
    };
    // Whatever the command wrote (or a refresh wrote through its own
    // connection) leaves no log behind: the WAL is copied in and truncated.
    if let Err(e) = store.truncate_wal() {
        tracing::warn!("cannot truncate the WAL: {e}");
    }
    outcome
}

/// Prints the completion script for `shell`, generated from the command
/// line's own definition (clap_complete).
pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<()> {
    use clap::CommandFactory;
    clap_complete::generate(
        shell,
        &mut Cli::command(),
        "tidings",
        &mut std::io::stdout(),
    );
    Ok(())
}

/// Prints the manual page, generated from the command line's own
/// definition (clap_mangen).
pub fn man_page() -> anyhow::Result<()> {
    use clap::CommandFactory;
    clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
    Ok(())
}

fn resolve_feeds(store: &Store, names: &[String]) -> anyhow::Result<Option<Vec<FeedId>>> {
    if names.is_empty() {
        return Ok(None);
    }
    names
        .iter()
        .map(|n| resolve_feed(store, n).map(|f| f.id))
        .collect::<anyhow::Result<Vec<_>>>()
        .map(Some)
}

fn resolve_feed(store: &Store, name: &str) -> anyhow::Result<crate::model::Feed> {
    let mut found = store.find_feed(name)?;
    match found.len() {
        0 => bail!("no feed matches {name:?} (see tidings list)"),
        1 => Ok(found.remove(0)),
        n => {
            let names: Vec<String> = found
                .iter()
                .take(5)
                .map(|f| format!("  {}  {}", f.id, f.display_name()))
                .collect();
            bail!(
                "{n} feeds match {name:?}; name one by its id:\n{}",
                names.join("\n")
            )
        }
    }
}
