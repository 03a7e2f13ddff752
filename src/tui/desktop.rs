//! What the reader hands to the desktop around it: links to the browser,
//! cached images to the system's viewer, text to the clipboard through the
//! terminal (OSC 52). Programs are started without a shell, the address or
//! path one argument of their own, and never waited for.

use std::io::Write;
use std::process::Stdio;

use anyhow::Context;

/// Opens an http(s) address with the configured program, `$BROWSER`, or the
/// desktop's opener. The address is one argument: no shell ever sees it.
pub fn open_in_browser(configured: &[String], url: &str) -> anyhow::Result<()> {
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
        .map_err(|e| anyhow::anyhow!("{e:#}; set [ui] browser in config.toml, or $BROWSER"))
}

/// Plays an enclosure's http(s) address with the configured player, else
/// `mpv` when it is on the PATH, else as a link in the browser. The address
/// is one argument: no shell ever sees it.
pub fn play(player: &[String], browser: &[String], url: &str) -> anyhow::Result<()> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        anyhow::bail!("only http(s) enclosures are played");
    }
    let program: Vec<String> = if !player.is_empty() {
        player.to_vec()
    } else if on_path("mpv") {
        vec!["mpv".into()]
    } else {
        return open_in_browser(browser, url);
    };
    let mut words = program;
    words.push(url.to_string());
    spawn_detached(&words).map_err(|e| anyhow::anyhow!("{e:#}; set [ui] player in config.toml"))
}

/// Plays a downloaded file with the configured player, else `mpv` when it
/// is on the PATH, else the desktop's opener; the path is one argument.
pub fn play_file(player: &[String], path: &std::path::Path) -> anyhow::Result<()> {
    let mut words: Vec<String> = if !player.is_empty() {
        player.to_vec()
    } else if on_path("mpv") {
        vec!["mpv".into()]
    } else if cfg!(target_os = "macos") {
        vec!["open".into()]
    } else {
        vec!["xdg-open".into()]
    };
    words.push(path.display().to_string());
    spawn_detached(&words).map_err(|e| anyhow::anyhow!("{e:#}; set [ui] player in config.toml"))
}

/// Whether `program` is an executable file in a directory of `$PATH`.
fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            std::fs::metadata(dir.join(program))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// Starts a program with its arguments (no shell), its output discarded.
pub fn spawn_detached(words: &[String]) -> anyhow::Result<()> {
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
pub fn copy_osc52(text: &str) {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    let mut out = std::io::stdout();
    let _ = write!(out, "\x1b]52;c;{encoded}\x07");
    let _ = out.flush();
}

/// Opens a cached image with the configured viewer, else the configured
/// browser, else the desktop's opener; the path is one argument. Where none
/// of them can start, the error says which setting to set.
pub fn open_image_file(
    viewer: &[String],
    browser: &[String],
    path: &std::path::Path,
) -> anyhow::Result<()> {
    let mut words: Vec<String> = if !viewer.is_empty() {
        viewer.to_vec()
    } else if !browser.is_empty() {
        browser.to_vec()
    } else if cfg!(target_os = "macos") {
        vec!["open".into()]
    } else {
        vec!["xdg-open".into()]
    };
    words.push(path.display().to_string());
    spawn_detached(&words).map_err(|e| {
        anyhow::anyhow!(
            "{e:#}; set [ui] image_viewer in config.toml to the program that shows images"
        )
    })
}
