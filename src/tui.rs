//! The reader's event loop and its terminal. [`run`] opens the store (adding
//! the welcome feed on a first start), starts the refresh worker, takes over
//! the terminal and loops: draw if something changed → wait for one message
//! (a terminal event, the worker's progress, a background result, a tick) →
//! `App::update` → drain what else is queued → carry out the effects. The
//! terminal is restored on every way out: q, Ctrl-c, SIGTERM, an error, a
//! panic (ratatui's hook restores it before the panic is reported).

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use crossterm::event::{DisableMouseCapture, EnableMouseCapture, Event, EventStream};
use crossterm::execute;
use crossterm::terminal::EnterAlternateScreen;
use futures_util::StreamExt;
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{DefaultTerminal, Terminal};
use tokio::sync::mpsc;

use crate::app::{App, Effect, Msg, PictureKey, Pictures, Prepared};
use crate::config::ImageProtocol;
use crate::config::{Config, Paths};
use crate::refresh::{self, Command, Refresher};
use crate::store::{NewSubscription, Store};
use ratatui_image::picker::{Picker, ProtocolType};

/// Ticks while a refresh runs (its clock moves), and when idle (auto refresh,
/// a cron refresh by another process, notices that expire).
const BUSY_TICK: Duration = Duration::from_millis(250);
const IDLE_TICK: Duration = Duration::from_secs(2);

pub async fn run(mut store: Store, paths: &Paths, config: Config) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        anyhow::bail!("the reader needs a terminal; for scripts use the commands (tidings --help)");
    }
    let welcome = add_welcome_feed(&mut store)?;
    let worker_store = Store::open(&paths.database)
        .with_context(|| format!("cannot open {}", paths.database.display()))?;
    let images = refresh::ImagePlan::from_config(paths, &config);
    let (commands, mut progress, worker) = Refresher::new(worker_store, config.clone())?
        .with_images(images)
        .spawn();

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
        let start = app.on_start(config.refresh.on_start);
        // The welcome feed is fetched (from the binary) even when refreshing
        // on start is off; when it is on, that refresh brings it.
        if let Some(feed) = welcome.filter(|_| start.is_empty()) {
            commands.send(Command::Refresh(Some(vec![feed])))?;
        }
        let (results_tx, mut results) = mpsc::unbounded_channel();
        let picker = choose_picker(config.images.protocol);
        app.pictures = picker.clone().map(Pictures::new);
        let runner = Runner {
            picker,
            config: &config,
            commands: &commands,
            results: &results_tx,
        };
        runner.carry_out(start);
        event_loop(
            &mut terminal,
            &mut app,
            &mut progress,
            &mut results,
            &runner,
        )
        .await
    }
    .await;
    restore_terminal();
    drop(commands);
    // A refresh in progress stops at its next feed; what was saved stays.
    worker.abort();
    result
}

/// Raw mode, the alternate screen and (when wanted) the mouse, with a panic
/// hook that puts the terminal back before the panic is reported. Panics on
/// other threads (a feed parser in `spawn_blocking`) and those the renderer
/// recovers from leave the screen alone: the reader goes on.
fn init_terminal(mouse: bool) -> anyhow::Result<DefaultTerminal> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let on_main = std::thread::current().name() == Some("main");
        if on_main && !crate::render::recovering_from_panic() {
            restore_terminal();
        }
        previous(info);
    }));
    crossterm::terminal::enable_raw_mode()?;
    execute!(std::io::stdout(), EnterAlternateScreen)?;
    if mouse {
        execute!(std::io::stdout(), EnableMouseCapture)?;
    }
    Ok(Terminal::new(CrosstermBackend::new(std::io::stdout()))?)
}

fn restore_terminal() {
    let _ = execute!(std::io::stdout(), DisableMouseCapture);
    ratatui::restore();
}

/// On the very first start (no feeds, never welcomed), subscribes to the
/// built-in welcome feed; it is fetched from the binary like any feed.
pub fn add_welcome_feed(store: &mut Store) -> anyhow::Result<Option<crate::model::FeedId>> {
    if store.setting("welcomed")?.is_some() || !store.feeds()?.is_empty() {
        return Ok(None);
    }
    let (feed, _) = store.add_feed(&NewSubscription {
        url: crate::WELCOME_URL.into(),
        feed_title: Some("Welcome to tidings".into()),
        ..Default::default()
    })?;
    store.set_setting("welcomed", "yes")?;
    Ok(Some(feed))
}

/// What the loop needs to carry out effects.
struct Runner<'a> {
    /// How pictures are made for this terminal (none: placeholders only).
    picker: Option<Picker>,
    config: &'a Config,
    commands: &'a mpsc::UnboundedSender<Command>,
    results: &'a mpsc::UnboundedSender<Msg>,
}

async fn event_loop(
    terminal: &mut DefaultTerminal,
    app: &mut App,
    progress: &mut mpsc::UnboundedReceiver<refresh::Progress>,
    results: &mut mpsc::UnboundedReceiver<Msg>,
    runner: &Runner<'_>,
) -> anyhow::Result<()> {
    let mut events = EventStream::new();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        if app.needs_redraw {
            terminal.draw(|frame| crate::ui::draw(frame, app))?;
            app.needs_redraw = false;
        }
        let tick = if app.refresh.running() {
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
        let mut effects = app.update(msg);
        // Everything the worker reported meanwhile, in one redraw.
        while let Ok(p) = progress.try_recv() {
            effects.extend(app.update(Msg::Progress(p)));
        }
        runner.carry_out(effects);
        if app.quit {
            return Ok(());
        }
    }
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
    fn carry_out(&self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Worker(command) => {
                    let _ = self.commands.send(command);
                }
                Effect::OpenUrl(url) => {
                    if let Err(e) = open_in_browser(&self.config.ui.browser, &url) {
                        let _ = self.results.send(Msg::Failed(format!("{e:#}")));
                    }
                }
                Effect::Copy(text) => copy_osc52(&text),
                Effect::PreparePicture { key, path } => {
                    let Some(picker) = self.picker.clone() else {
                        continue;
                    };
                    let results = self.results.clone();
                    tokio::task::spawn_blocking(move || {
                        let picture = prepare_picture(&picker, &path, key);
                        let _ = results.send(Msg::PicturePrepared(key, Prepared(picture)));
                    });
                }
                Effect::OpenFile(path) => {
                    let opener = if cfg!(target_os = "macos") {
                        "open"
                    } else {
                        "xdg-open"
                    };
                    let words = [opener.to_string(), path.display().to_string()];
                    if let Err(e) = spawn_detached(&words) {
                        let _ = self.results.send(Msg::Failed(format!("{e:#}")));
                    }
                }
                Effect::Probe(input) => {
                    let (config, results) = (self.config.clone(), self.results.clone());
                    tokio::spawn(async move {
                        let outcome = probe(&input, &config).await.map_err(|e| format!("{e:#}"));
                        let _ = results.send(Msg::Probed(outcome));
                    });
                }
                Effect::Render {
                    article,
                    width,
                    html,
                    styles,
                } => {
                    let results = self.results.clone();
                    tokio::task::spawn_blocking(move || {
                        let rendered = crate::render::render_article(&html, width, &styles);
                        let _ = results.send(Msg::Rendered {
                            article,
                            width,
                            rendered,
                        });
                    });
                }
                Effect::Quit => {}
            }
        }
    }
}

async fn probe(input: &str, config: &Config) -> anyhow::Result<crate::subscribe::Probe> {
    let fetcher = crate::fetch::Fetcher::new(&config.refresh)?;
    let (_, found) = crate::subscribe::probe_input(&fetcher, input).await?;
    Ok(found)
}

/// Opens an http(s) address with the configured program, `$BROWSER`, or the
/// desktop's opener. The address is one argument: no shell ever sees it.
fn open_in_browser(configured: &[String], url: &str) -> anyhow::Result<()> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        anyhow::bail!("only http(s) links are opened");
    }
    let program: Vec<String> = if !configured.is_empty() {
        configured.to_vec()
    } else if let Some(browser) = std::env::var("BROWSER").ok().and_then(|list| {
        list.split(':')
            .find(|b| !b.trim().is_empty())
            .map(str::to_string)
    }) {
        // $BROWSER may list several programs (the first is used) and may
        // carry arguments; "%s" marks where the address goes.
        let mut words: Vec<String> = browser.split_whitespace().map(str::to_string).collect();
        if let Some(at) = words.iter().position(|w| w.contains("%s")) {
            words[at] = words[at].replace("%s", url);
            return spawn_detached(&words);
        }
        words
    } else if cfg!(target_os = "macos") {
        vec!["open".into()]
    } else {
        vec!["xdg-open".into()]
    };
    let mut words = program;
    words.push(url.to_string());
    spawn_detached(&words)
}

/// Starts a program with its arguments (no shell), its output discarded.
fn spawn_detached(words: &[String]) -> anyhow::Result<()> {
    let program = &words[0];
    let mut child = std::process::Command::new(program)
        .args(&words[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {program}"))?;
    // Reap it whenever it ends, without waiting here.
    std::thread::spawn(move || child.wait());
    Ok(())
}

/// Copies through the terminal (OSC 52): works over ssh and, with
/// `set-clipboard on`, in tmux.
fn copy_osc52(text: &str) {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    let mut out = std::io::stdout();
    let _ = write!(out, "\x1b]52;c;{encoded}\x07");
    let _ = out.flush();
}

/// How to draw pictures here. Inside tmux or screen graphics protocols
/// misbehave, so half-blocks unless the config names one; a terminal is asked
/// what it supports only when it looks like one that has graphics (a terminal
/// that does not answer would hold the start for the query's timeout).
fn choose_picker(protocol: ImageProtocol) -> Option<Picker> {
    let query = || {
        let options = ratatui_image::picker::cap_parser::QueryStdioOptions {
            timeout: Duration::from_millis(400),
            ..Default::default()
        };
        Picker::from_query_stdio_with_options(options).unwrap_or_else(|_| Picker::halfblocks())
    };
    let forced = |kind| {
        let mut picker = query();
        picker.set_protocol_type(kind);
        Some(picker)
    };
    match protocol {
        ImageProtocol::Off => None,
        ImageProtocol::Halfblocks => Some(Picker::halfblocks()),
        ImageProtocol::Kitty => forced(ProtocolType::Kitty),
        ImageProtocol::Iterm2 => forced(ProtocolType::Iterm2),
        ImageProtocol::Sixel => forced(ProtocolType::Sixel),
        ImageProtocol::Auto => {
            let var = |name| std::env::var(name).unwrap_or_default();
            let multiplexer =
                std::env::var_os("TMUX").is_some() || std::env::var_os("STY").is_some();
            let graphical = std::env::var_os("KITTY_WINDOW_ID").is_some()
                || std::env::var_os("KONSOLE_VERSION").is_some()
                || var("TERM").contains("kitty")
                || var("TERM").starts_with("foot")
                || var("TERM").contains("ghostty")
                || ["iTerm.app", "WezTerm", "ghostty", "mlterm"]
                    .contains(&var("TERM_PROGRAM").as_str());
            Some(if graphical && !multiplexer {
                query()
            } else {
                Picker::halfblocks()
            })
        }
    }
}

/// Decodes a cached image and encodes it for the terminal at a block's size.
pub fn prepare_picture(
    picker: &Picker,
    path: &std::path::Path,
    key: PictureKey,
) -> Option<ratatui_image::protocol::Protocol> {
    let image = image::ImageReader::open(path)
        .ok()?
        .with_guessed_format()
        .ok()?
        .decode()
        .ok()?;
    let size = ratatui::layout::Size::new(key.cols, key.rows);
    picker
        .new_protocol(image, size, ratatui_image::Resize::Fit(None))
        .map_err(|e| tracing::warn!("cannot draw {}: {e}", path.display()))
        .ok()
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn local_offset_secs() -> i32 {
    chrono::Local::now().offset().local_minus_utc()
}
