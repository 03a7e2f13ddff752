//! The reader's event loop and its terminal. [`run`] takes the store (adding
//! the welcome feed on a first start), starts the refresh worker, takes over
//! the terminal and loops: draw if something changed → wait for one message
//! (a terminal event, the worker's progress, a background result, a tick) →
//! `App::update` → drain what else is queued → carry out the effects. The
//! terminal is restored on every way out: q, Ctrl-c, SIGTERM, an error, a
//! panic ([`install_panic_hook`] restores it before the panic is reported).
//! What the loop hands to the desktop (browser, image viewer, clipboard) is
//! in `desktop`; how pictures are made for this terminal, in `graphics`.

mod desktop;
mod gaps;

pub use gaps::{GapFilling, LeftAlone};

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossterm::event::{DisableMouseCapture, EnableMouseCapture, Event, EventStream};
use crossterm::execute;
use crossterm::terminal::EnterAlternateScreen;
use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::layout::Rect;
use tokio::sync::mpsc;

use crate::app::{App, DownloadJob, Effect, Msg, Pictures, Prepared};
use crate::config::{Background, Config, Paths};
use crate::downloads::Downloader;
use crate::refresh::{self, Command, Refresher};
use crate::store::Store;
use ratatui_image::picker::Picker;

/// Ticks while a refresh runs (its clock moves), and when idle (auto refresh,
/// a cron refresh by another process, notices that expire).
const BUSY_TICK: Duration = Duration::from_millis(250);
const IDLE_TICK: Duration = Duration::from_secs(2);
/// Ticks while a link's number is typed, for the pause that opens it, and
/// while the article under the cursor has pictures to make once the cursor
/// rests on it.
const SHORT_TICK: Duration = Duration::from_millis(100);

/// `config_file`: the configuration file read (or that would be), which the
/// help names.
pub async fn run(
    mut store: Store,
    paths: &Paths,
    config: Config,
    config_file: &std::path::Path,
) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        anyhow::bail!("the reader needs a terminal; for scripts use the commands (tidings --help)");
    }
    let mut config = config;
    config.theme.background = background_of_terminal(config.theme.background);
    let welcome = crate::subscriptions::add_welcome_feed(&mut store)?;
    let (commands, mut progress, worker) = Refresher::configured(paths, config.clone())?.spawn();

    let mut terminal = init_terminal(config.ui.mouse)?;
    let result = async {
        let size = terminal.size()?;
        let mut app = App::new(
            store,
            &config,
            now_ms(),
            Rect::new(0, 0, size.width, size.height),
        )?;
        app.utc_offset_secs = local_offset_secs();
        app.image_dir = paths.image_dir();
        app.config_file = config_file.to_path_buf();
        app.downloads_dir = paths.downloads_dir(&config.downloads.dir);
        if let Some(warning) = config
            .sync
            .as_ref()
            .and_then(|sync| crate::config::password_exposed(config_file, sync))
        {
            app.notify(warning, true);
        }
        let start = app.on_start(config.refresh.on_start);
        // The welcome feed is fetched (from the binary) even when refreshing
        // on start is off; when it is on, that refresh brings it.
        if let Some(feed) = welcome.filter(|_| start.is_empty()) {
            commands.send(Command::Refresh(Some(vec![feed])))?;
        }
        let (results_tx, mut results) = mpsc::unbounded_channel();
        let picker = crate::graphics::choose_picker(config.images.protocol);
        app.pictures = picker.clone().map(Pictures::new);
        let runner = Runner {
            picker,
            downloader: std::sync::Arc::new(Downloader::new(&config, paths)?),
            config: &config,
            commands: &commands,
            results: &results_tx,
        };
        runner.carry_out(start);
        let ended = event_loop(
            &mut terminal,
            &mut app,
            &mut progress,
            &mut results,
            &runner,
        )
        .await;
        app.write_later_writes();
        ended
    }
    .await;
    restore_terminal();
    drop(commands);
    // A refresh in progress stops at its next feed; what was saved stays.
    worker.abort();
    result
}

/// Whether the reader holds the terminal (raw mode, alternate screen), for
/// the panic hook: the terminal is process-wide, and so is a panic hook.
static TERMINAL_TAKEN: AtomicBool = AtomicBool::new(false);

/// The one panic hook, installed once at start: the panic goes to the log;
/// on the main thread it is also printed, after the terminal is put back if
/// the reader holds it. Panics on other threads (a feed parser in
/// `spawn_blocking`) and those the renderer recovers from are only logged:
/// the reader goes on.
pub fn install_panic_hook() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        tracing::error!("panic: {info}");
        let on_main = std::thread::current().name() == Some("main");
        if on_main && !crate::render::recovering_from_panic() {
            if TERMINAL_TAKEN.load(Ordering::SeqCst) {
                restore_terminal();
            }
            default_hook(info);
        }
    }));
}

/// The reader's terminal. Frames go out through a buffer large enough for a
/// whole one, in one write when the frame is done: written straight to
/// standard output (flushed each KiB), a frame that opens an article took a
/// dozen writes spread over a millisecond and a half of formatting.
type Screen = Terminal<gaps::GapFilling<std::io::BufWriter<std::io::Stdout>>>;

/// Bytes a frame may take before part of it is written early (a full 200×50
/// repaint in colour is about 60 KB; pictures can be more).
const FRAME_BUFFER_BYTES: usize = 256 * 1024;

/// The terminal's background when the config leaves it to the terminal
/// (`auto`): asked with OSC 11, for at most 150 ms (a terminal that does not
/// answer, or `NO_COLOR`, leaves it dark).
fn background_of_terminal(configured: Background) -> Background {
    use terminal_colorsaurus::{QueryOptions, ThemeMode, theme_mode};
    if configured != Background::Auto || std::env::var_os("NO_COLOR").is_some() {
        return configured;
    }
    let mut options = QueryOptions::default();
    options.timeout = Duration::from_millis(150);
    match theme_mode(options) {
        Ok(mode) => {
            tracing::info!("the terminal's background is {mode:?}");
            match mode {
                ThemeMode::Light => Background::Light,
                ThemeMode::Dark => Background::Dark,
            }
        }
        Err(e) => {
            tracing::info!("the terminal did not say its background ({e}): dark colours");
            Background::Dark
        }
    }
}

/// Raw mode, the alternate screen and (when wanted) the mouse.
fn init_terminal(mouse: bool) -> anyhow::Result<Screen> {
    TERMINAL_TAKEN.store(true, Ordering::SeqCst);
    crossterm::terminal::enable_raw_mode()?;
    execute!(std::io::stdout(), EnterAlternateScreen)?;
    if mouse {
        execute!(std::io::stdout(), EnableMouseCapture)?;
    }
    let out = std::io::BufWriter::with_capacity(FRAME_BUFFER_BYTES, std::io::stdout());
    Ok(Terminal::new(gaps::GapFilling::new(out))?)
}

fn restore_terminal() {
    let _ = execute!(std::io::stdout(), DisableMouseCapture);
    ratatui::restore();
    TERMINAL_TAKEN.store(false, Ordering::SeqCst);
}

/// What the loop needs to carry out effects.
struct Runner<'a> {
    /// How pictures are made for this terminal (none: placeholders only).
    picker: Option<Picker>,
    downloader: std::sync::Arc<Downloader>,
    config: &'a Config,
    commands: &'a mpsc::UnboundedSender<Command>,
    results: &'a mpsc::UnboundedSender<Msg>,
}

async fn event_loop(
    terminal: &mut Screen,
    app: &mut App,
    progress: &mut mpsc::UnboundedReceiver<refresh::Progress>,
    results: &mut mpsc::UnboundedReceiver<Msg>,
    runner: &Runner<'_>,
) -> anyhow::Result<()> {
    let mut events = EventStream::new();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    // The last key, timed to its frame for the log (debug level).
    let mut timing: Option<KeyTiming> = None;
    let left_alone = terminal.backend().left_alone();
    loop {
        if app.needs_redraw {
            let drawing = std::time::Instant::now();
            let mut widgets_us = 0;
            terminal.draw(|frame| {
                crate::ui::draw(frame, app);
                widgets_us = drawing.elapsed().as_micros() as u64;
                left_alone.note(frame.buffer_mut());
            })?;
            app.needs_redraw = false;
            if let Some(t) = timing.take() {
                tracing::debug!(
                    key = ?t.key,
                    handled_us = t.handled_us,
                    widgets_us,
                    draw_us = drawing.elapsed().as_micros() as u64,
                    key_to_frame_us = t.at.elapsed().as_micros() as u64,
                    "frame for a key"
                );
            }
        }
        // A key that drew nothing is not timed.
        timing = None;
        // The frame is out: now what could wait for it.
        runner.carry_out(app.after_frame());
        let tick = if app.typing_a_number() || app.has_pictures_ahead() {
            SHORT_TICK
        } else if app.refresh.running() {
            BUSY_TICK
        } else {
            IDLE_TICK
        };
        let msg = tokio::select! {
            event = events.next() => match event {
                Some(Ok(event)) => match message_of(event) {
                    Some(msg) => msg,
                    None => continue,
                },
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            Some(p) = progress.recv() => Msg::Progress(p),
            Some(msg) = results.recv() => msg,
            _ = tokio::time::sleep(tick) => Msg::Tick,
            _ = terminate.recv() => return Ok(()),
        };
        app.now_ms = now_ms();
        let at = std::time::Instant::now();
        let key = match &msg {
            Msg::Key(k) => Some(k.code),
            _ => None,
        };
        let mut effects = app.update(msg);
        // Everything the worker reported meanwhile, in one redraw.
        while let Ok(p) = progress.try_recv() {
            effects.extend(app.update(Msg::Progress(p)));
        }
        runner.carry_out(effects);
        timing = key.map(|key| KeyTiming {
            key,
            at,
            handled_us: at.elapsed().as_micros() as u64,
        });
        if app.quit {
            return Ok(());
        }
    }
}

/// A key on its way to its frame: what it was, when it arrived, and how
/// long its update (with the worker's reports and the effects) took.
struct KeyTiming {
    key: crossterm::event::KeyCode,
    at: std::time::Instant,
    handled_us: u64,
}

fn message_of(event: Event) -> Option<Msg> {
    match event {
        Event::Key(key) if key.kind != crossterm::event::KeyEventKind::Release => {
            Some(Msg::Key(key))
        }
        Event::Mouse(mouse) => Some(Msg::Mouse(mouse)),
        Event::Resize(width, height) => Some(Msg::Resize(width, height)),
        _ => None,
    }
}

impl Runner<'_> {
    /// Downloads an enclosure on the runtime, reporting its progress (at most
    /// five times a second) and then its outcome, as it is to be recorded.
    fn download(&self, job: DownloadJob) {
        let downloader = self.downloader.clone();
        let results = self.results.clone();
        tokio::spawn(async move {
            let public_only = !crate::fetch::address::feed_is_private(&job.feed_url).await;
            let mut reported = std::time::Instant::now();
            let outcome = downloader
                .download(&job.url, public_only, |done, total| {
                    if reported.elapsed() >= Duration::from_millis(200) {
                        reported = std::time::Instant::now();
                        let url = job.url.clone();
                        let _ = results.send(Msg::DownloadProgress { url, done, total });
                    }
                })
                .await;
            let record = crate::downloads::record(
                &job.url,
                Some(job.article),
                job.title.clone(),
                Some(job.feed_title.clone()),
                &outcome,
            );
            let _ = results.send(Msg::DownloadEnded(record));
        });
    }

    fn carry_out(&self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Worker(command) => {
                    let _ = self.commands.send(command);
                }
                Effect::OpenUrl(url) => {
                    if let Err(e) = desktop::open_in_browser(&self.config.ui.browser, &url) {
                        let _ = self.results.send(Msg::Failed(format!("{e:#}")));
                    }
                }
                Effect::Play(url) => {
                    let ui = &self.config.ui;
                    if let Err(e) = desktop::play(&ui.player, &ui.browser, &url) {
                        let _ = self.results.send(Msg::Failed(format!("{e:#}")));
                    }
                }
                Effect::PlayFile(path) => {
                    let ui = &self.config.ui;
                    if let Err(e) = desktop::play_file(&ui.player, &path) {
                        let _ = self.results.send(Msg::Failed(format!("{e:#}")));
                    }
                }
                Effect::Download(job) => self.download(job),
                Effect::Copy(text) => desktop::copy_osc52(&text),
                Effect::PreparePicture { key, path } => {
                    let Some(picker) = self.picker.clone() else {
                        continue;
                    };
                    let results = self.results.clone();
                    tokio::task::spawn_blocking(move || {
                        let picture = crate::graphics::prepare_picture(&picker, &path, key);
                        let _ = results.send(Msg::PicturePrepared(key, Prepared(picture)));
                    });
                }
                Effect::OpenFile(path) => {
                    let ui = &self.config.ui;
                    if let Err(e) = desktop::open_image_file(&ui.image_viewer, &ui.browser, &path) {
                        let _ = self.results.send(Msg::Failed(format!("{e:#}")));
                    }
                }
                Effect::Probe(input) => {
                    let (config, results) = (self.config.clone(), self.results.clone());
                    tokio::spawn(async move {
                        let (outcome, carried) = probe(&input, &config).await;
                        if !carried.is_empty() {
                            let _ = results.send(Msg::ProxiesCarried(carried));
                        }
                        let _ = results.send(Msg::Probed(outcome.map_err(|e| format!("{e:#}"))));
                    });
                }
                Effect::Render { key, html, styles } => {
                    let results = self.results.clone();
                    tokio::task::spawn_blocking(move || {
                        let rendered = crate::render::render_article(&html, key.width, &styles);
                        let _ = results.send(Msg::Rendered { key, rendered });
                    });
                }
                Effect::Quit => {}
            }
        }
    }
}

/// What an address given to `a` is, and what proxies carried to find out.
async fn probe(
    input: &str,
    config: &Config,
) -> (
    anyhow::Result<crate::subscribe::Probe>,
    Vec<crate::fetch::proxy::ProxyUse>,
) {
    let fetcher = match crate::fetch::Fetcher::new(&config.refresh) {
        Ok(fetcher) => fetcher,
        Err(e) => return (Err(e), Vec::new()),
    };
    let found = crate::subscribe::probe_input(&fetcher, input).await;
    (found.map(|(_, found)| found), fetcher.take_proxy_log())
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn local_offset_secs() -> i32 {
    chrono::Local::now().offset().local_minus_utc()
}
