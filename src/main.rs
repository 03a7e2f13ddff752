//! Wiring only: command line → paths and config → file logging → the store →
//! the command, or the reader.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use tidings::cli::{Cli, CliCommand, run};
use tidings::config::{Config, Paths};
use tidings::store::{Store, StoreError};

fn main() -> ExitCode {
    limit_malloc_arenas();
    let cli = Cli::parse();
    let repair = repair_command(cli.data_dir.as_deref());
    match try_main(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // `tidings list | head`: the reader has all it wanted.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tidings: {e:#}");
            if is_damage(&e) {
                eprintln!(
                    "To keep the damaged file aside and build a fresh cache from your \
                     subscriptions, run:\n    {repair}"
                );
            }
            ExitCode::FAILURE
        }
    }
}

fn is_damage(e: &anyhow::Error) -> bool {
    e.chain()
        .any(|cause| matches!(cause.downcast_ref(), Some(StoreError::Corrupt(_))))
}

/// The exact `tidings repair` for the data directory this run used.
fn repair_command(data_dir: Option<&Path>) -> String {
    let Some(dir) = data_dir else {
        return "tidings repair".into();
    };
    let dir = dir.display().to_string();
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+,:@%".contains(c);
    if dir.chars().all(plain) {
        format!("tidings --data-dir {dir} repair")
    } else {
        format!("tidings --data-dir '{}' repair", dir.replace('\'', r"'\''"))
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    e.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == BrokenPipe)
            // serde_json keeps the io::Error to itself
            || cause
                .downcast_ref::<serde_json::Error>()
                .is_some_and(|json| json.io_error_kind() == Some(BrokenPipe))
    })
}

fn try_main(cli: Cli) -> anyhow::Result<()> {
    // What needs no data directory, config or database.
    match &cli.command {
        Some(CliCommand::Completions { shell }) => return tidings::cli::completions(*shell),
        Some(CliCommand::Man) => return tidings::cli::man_page(),
        _ => {}
    }
    let paths = match &cli.data_dir {
        Some(dir) => Paths::in_dir(dir),
        None => Paths::platform()?,
    };
    let config_file = cli
        .config
        .clone()
        .unwrap_or_else(|| paths.config_file.clone());
    let config = Config::load(&config_file)?;
    paths
        .create_dirs()
        .with_context(|| format!("cannot create {}", paths.data_dir.display()))?;
    let _log_guard = init_logging(&paths);
    if let Some(CliCommand::Repair) = cli.command {
        return tidings::cli::repair(&paths);
    }
    let mut store = Store::open(&paths.database)
        .with_context(|| format!("cannot open {}", paths.database.display()))?;
    tidings::subscriptions::keep_backup(&mut store, paths.subscriptions_backup())?;
    let query_feeds: Vec<(String, String)> = config.query_feeds.clone().into_iter().collect();
    store.set_config_query_feeds(&query_feeds)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Some(command) => runtime.block_on(run(command, store, &paths, config)),
        // Without a subcommand: the reader.
        None => runtime.block_on(tidings::tui::run(store, &paths, config, &config_file)),
    }
}

/// Logs go to `logs/tidings.log` in the data dir, never to the terminal.
/// Panics are logged there too (see `tui::install_panic_hook`).
fn init_logging(paths: &Paths) -> tracing_appender::non_blocking::WorkerGuard {
    let appender = tracing_appender::rolling::never(&paths.log_dir, "tidings.log");
    // The default queue preallocates 128k lines (4 MB); tidings logs a line per failure.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(1024)
        .finish(appender);
    let filter = tracing_subscriber::EnvFilter::try_from_env("TIDINGS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .init();
    tidings::tui::install_panic_hook();
    guard
}

/// glibc gives every thread that allocates an arena of its own, up to 8 per
/// core, and the parser and writer threads of a refresh leave each arena half
/// empty; with too few, those threads queue on the arenas' locks. Four per
/// core is the measured middle: a cold refresh of the bench corpus (285 feeds,
/// images off) spent 2.11 s of CPU with one per core and 1.86 s with four, at
/// the same peak memory (45 MiB).
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let arenas = 4 * std::thread::available_parallelism().map_or(2, |n| n.get());
        // SAFETY: mallopt only sets an allocator parameter; called before any thread starts.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas as libc::c_int);
        }
    }
}
