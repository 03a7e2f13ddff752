//! What a key means: [`Action`], the table of actions with their config names,
//! default keys and help text, and the [`Keymap`] built from that table and the
//! `[keys]` section of the config. Key bindings are data: the help overlay is
//! drawn from the same table, so it always tells the truth.
//!
//! Which pane is focused decides what an action does (`App::update`), not which
//! action a key is: one key, one action, everywhere. Ctrl-c always quits and
//! cannot be rebound.

use std::collections::HashMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Down,
    Up,
    NextPane,
    PrevPane,
    Open,
    Top,
    Bottom,
    PageDown,
    PageUp,
    HalfPageDown,
    HalfPageUp,
    PageOrNextUnread,
    NextUnread,
    PrevUnread,
    Subscribe,
    Unsubscribe,
    EditFeed,
    NewQueryFeed,
    RefreshFeed,
    RefreshAll,
    ToggleRead,
    MarkAllRead,
    Undo,
    ToggleStar,
    FullText,
    ToggleUnreadOnly,
    Search,
    OpenInBrowser,
    OpenLink(u8),
    CopyLink,
    /// Play (or open) the article's enclosure with the configured player.
    Play,
    /// Download the article's enclosure into the downloads directory.
    Download,
    /// The list of downloads.
    Downloads,
    OpenImage,
    ToggleImages,
    Statistics,
    /// The selected feed's own settings.
    FeedSettings,
    ToggleStatus,
    Help,
    Quit,
}

/// One row of the key table: the action, its name in `[keys]`, its default
/// keys, and what `?` says about it.
pub struct Binding {
    pub action: Action,
    pub name: &'static str,
    pub keys: &'static [&'static str],
    pub help: &'static str,
}

const fn bind(
    action: Action,
    name: &'static str,
    keys: &'static [&'static str],
    help: &'static str,
) -> Binding {
    Binding {
        action,
        name,
        keys,
        help,
    }
}

pub const BINDINGS: &[Binding] = &[
    bind(Action::Down, "down", &["j", "Down"], "move down"),
    bind(Action::Up, "up", &["k", "Up"], "move up"),
    bind(
        Action::NextPane,
        "next_pane",
        &["l", "Tab", "Right"],
        "next pane",
    ),
    bind(
        Action::PrevPane,
        "prev_pane",
        &["h", "Shift-Tab", "Left"],
        "previous pane, back",
    ),
    bind(Action::Open, "open", &["Enter"], "open the feed or article"),
    bind(Action::Top, "top", &["g", "Home"], "first item"),
    bind(Action::Bottom, "bottom", &["G", "End"], "last item"),
    bind(Action::PageDown, "page_down", &["PageDown"], "page down"),
    bind(Action::PageUp, "page_up", &["PageUp"], "page up"),
    bind(
        Action::HalfPageDown,
        "half_page_down",
        &["Ctrl-d"],
        "half a page down",
    ),
    bind(
        Action::HalfPageUp,
        "half_page_up",
        &["Ctrl-u"],
        "half a page up",
    ),
    bind(
        Action::PageOrNextUnread,
        "page_or_next_unread",
        &["Space"],
        "page the article, then the next unread",
    ),
    bind(
        Action::NextUnread,
        "next_unread",
        &["n"],
        "next unread article",
    ),
    bind(
        Action::PrevUnread,
        "prev_unread",
        &["N"],
        "previous unread article",
    ),
    bind(
        Action::Subscribe,
        "subscribe",
        &["a"],
        "subscribe to a feed or site",
    ),
    bind(
        Action::Unsubscribe,
        "unsubscribe",
        &["d"],
        "unsubscribe, or delete a query feed",
    ),
    bind(
        Action::EditFeed,
        "edit_feed",
        &["e"],
        "edit the feed's title and tags, or a query",
    ),
    bind(
        Action::NewQueryFeed,
        "new_query_feed",
        &["Q"],
        "new query feed (name: query)",
    ),
    bind(
        Action::RefreshFeed,
        "refresh_feed",
        &["r"],
        "refresh the selected feed",
    ),
    bind(
        Action::RefreshAll,
        "refresh_all",
        &["R"],
        "refresh every feed",
    ),
    bind(
        Action::ToggleRead,
        "toggle_read",
        &["m"],
        "mark read / unread",
    ),
    bind(
        Action::MarkAllRead,
        "mark_all_read",
        &["M"],
        "mark the whole list read",
    ),
    bind(Action::Undo, "undo", &["u"], "undo the last mark-all-read"),
    bind(Action::ToggleStar, "toggle_star", &["s"], "star / unstar"),
    bind(
        Action::FullText,
        "full_text",
        &["F"],
        "full text: read the page (on a feed: always)",
    ),
    bind(
        Action::ToggleUnreadOnly,
        "toggle_unread_only",
        &["U"],
        "show unread only / all",
    ),
    bind(
        Action::Search,
        "search",
        &["/"],
        "search every cached article",
    ),
    bind(
        Action::OpenInBrowser,
        "open_in_browser",
        &["o"],
        "open the article in the browser",
    ),
    bind(
        Action::OpenLink(1),
        "open_link_1",
        &["1"],
        "open link 1 of the article",
    ),
    bind(Action::OpenLink(2), "open_link_2", &["2"], "open link 2"),
    bind(Action::OpenLink(3), "open_link_3", &["3"], "open link 3"),
    bind(Action::OpenLink(4), "open_link_4", &["4"], "open link 4"),
    bind(Action::OpenLink(5), "open_link_5", &["5"], "open link 5"),
    bind(Action::OpenLink(6), "open_link_6", &["6"], "open link 6"),
    bind(Action::OpenLink(7), "open_link_7", &["7"], "open link 7"),
    bind(Action::OpenLink(8), "open_link_8", &["8"], "open link 8"),
    bind(Action::OpenLink(9), "open_link_9", &["9"], "open link 9"),
    bind(
        Action::CopyLink,
        "copy_link",
        &["y"],
        "copy the article's link (OSC 52)",
    ),
    bind(
        Action::OpenImage,
        "open_image",
        &["i"],
        "open an image in the viewer: then its number or i (on screen)",
    ),
    bind(
        Action::Play,
        "play",
        &["p"],
        "play the article's enclosure (podcast, video) with the player",
    ),
    bind(
        Action::Download,
        "download",
        &["D"],
        "download the article's enclosure, for offline listening",
    ),
    bind(
        Action::Downloads,
        "downloads",
        &["P"],
        "the downloads: Enter plays one",
    ),
    bind(
        Action::ToggleImages,
        "toggle_images",
        &["I"],
        "show images / one-line placeholders",
    ),
    bind(Action::Statistics, "statistics", &["S"], "fetch statistics"),
    bind(
        Action::FeedSettings,
        "feed_settings",
        &[","],
        "the feed's own settings: refresh, images, retention, proxy…",
    ),
    bind(
        Action::ToggleStatus,
        "toggle_status",
        &["!"],
        "expand the status panel: recent fetches, failures",
    ),
    bind(Action::Help, "help", &["?", "F1"], "this help"),
    bind(Action::Quit, "quit", &["q"], "close the article, or quit"),
];

/// A key as the config writes it and the terminal reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
}

impl Key {
    /// Shift is part of the character for letters and symbols (`G`, `?`), so
    /// only Ctrl and Alt count as modifiers.
    pub fn from_event(event: &KeyEvent) -> Key {
        Key {
            code: event.code,
            ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
            alt: event.modifiers.contains(KeyModifiers::ALT),
        }
    }

    /// Parses `j`, `G`, `Ctrl-d`, `Alt-x`, `Shift-Tab`, `Enter`, `Space`, `F1` …
    pub fn parse(text: &str) -> Option<Key> {
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = text;
        loop {
            if let Some(r) = strip_prefix_ci(rest, "ctrl-") {
                ctrl = true;
                rest = r;
            } else if let Some(r) = strip_prefix_ci(rest, "alt-") {
                alt = true;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest.to_ascii_lowercase().as_str() {
            "shift-tab" | "backtab" => KeyCode::BackTab,
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "space" => KeyCode::Char(' '),
            "tab" => KeyCode::Tab,
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pageup" | "pgup" => KeyCode::PageUp,
            "pagedown" | "pgdn" => KeyCode::PageDown,
            f if f.len() >= 2 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                KeyCode::F(f[1..].parse().ok()?)
            }
            _ => {
                let mut chars = rest.chars();
                let c = chars.next()?;
                if chars.next().is_some() {
                    return None;
                }
                // Ctrl-D and Ctrl-d are the same key to a terminal.
                KeyCode::Char(if ctrl { c.to_ascii_lowercase() } else { c })
            }
        };
        Some(Key { code, ctrl, alt })
    }
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// Keys to actions, from the defaults with the config's `[keys]` on top: an
/// action named there gets exactly the keys listed (an empty list unbinds it).
#[derive(Debug, Clone)]
pub struct Keymap {
    actions: HashMap<Key, Action>,
    keys: HashMap<Action, Vec<String>>,
}

impl Keymap {
    pub fn new(overrides: &HashMap<String, Vec<String>>) -> Result<Keymap, String> {
        let mut keys: HashMap<Action, Vec<String>> = BINDINGS
            .iter()
            .map(|b| (b.action, b.keys.iter().map(|k| k.to_string()).collect()))
            .collect();
        for (name, list) in overrides {
            let binding = BINDINGS
                .iter()
                .find(|b| b.name == name)
                .ok_or_else(|| format!("[keys]: unknown action `{name}`"))?;
            keys.insert(binding.action, list.clone());
        }
        let mut actions = HashMap::new();
        // In table order, so that when two actions claim a key the error is stable.
        for binding in BINDINGS {
            for text in &keys[&binding.action] {
                let key = Key::parse(text).ok_or_else(|| {
                    format!("[keys] {}: cannot read the key `{text}`", binding.name)
                })?;
                if let Some(other) = actions.insert(key, binding.action) {
                    let other = BINDINGS
                        .iter()
                        .find(|b| b.action == other)
                        .map_or("", |b| b.name);
                    return Err(format!(
                        "[keys] {}: `{text}` is already bound to {other}",
                        binding.name
                    ));
                }
            }
        }
        Ok(Keymap { actions, keys })
    }

    pub fn action(&self, event: &KeyEvent) -> Option<Action> {
        self.actions.get(&Key::from_event(event)).copied()
    }

    /// The keys bound to an action, as the config writes them.
    pub fn keys_for(&self, action: Action) -> &[String] {
        self.keys.get(&action).map_or(&[], Vec::as_slice)
    }
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap::new(&HashMap::new()).expect("the default key table is consistent")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn default_keys_mean_what_the_help_says() {
        let map = Keymap::default();
        let cases = [
            (press(KeyCode::Char('j'), KeyModifiers::NONE), Action::Down),
            (press(KeyCode::Down, KeyModifiers::NONE), Action::Down),
            (
                press(KeyCode::Char('G'), KeyModifiers::SHIFT),
                Action::Bottom,
            ),
            (
                press(KeyCode::Char('d'), KeyModifiers::CONTROL),
                Action::HalfPageDown,
            ),
            (
                press(KeyCode::Char('d'), KeyModifiers::NONE),
                Action::Unsubscribe,
            ),
            (
                press(KeyCode::BackTab, KeyModifiers::SHIFT),
                Action::PrevPane,
            ),
            (
                press(KeyCode::Char(' '), KeyModifiers::NONE),
                Action::PageOrNextUnread,
            ),
            (press(KeyCode::Char('?'), KeyModifiers::SHIFT), Action::Help),
            (
                press(KeyCode::Char('7'), KeyModifiers::NONE),
                Action::OpenLink(7),
            ),
        ];
        for (event, action) in cases {
            assert_eq!(map.action(&event), Some(action), "{event:?}");
        }
        assert_eq!(
            map.action(&press(KeyCode::Char('x'), KeyModifiers::NONE)),
            None
        );
    }

    #[test]
    fn the_config_rebinds_and_unbinds() {
        let overrides = HashMap::from([
            ("down".to_string(), vec!["Ctrl-n".to_string()]),
            ("unsubscribe".to_string(), vec![]),
        ]);
        let map = Keymap::new(&overrides).unwrap();
        assert_eq!(
            map.action(&press(KeyCode::Char('n'), KeyModifiers::CONTROL)),
            Some(Action::Down)
        );
        assert_eq!(
            map.action(&press(KeyCode::Char('j'), KeyModifiers::NONE)),
            None
        );
        assert_eq!(
            map.action(&press(KeyCode::Char('d'), KeyModifiers::NONE)),
            None
        );
        assert_eq!(map.keys_for(Action::Down), ["Ctrl-n"]);
    }

    #[test]
    fn mistakes_in_the_keys_section_are_named() {
        let unknown = HashMap::from([("dwon".to_string(), vec!["x".to_string()])]);
        assert!(Keymap::new(&unknown).unwrap_err().contains("`dwon`"));
        let unreadable = HashMap::from([("down".to_string(), vec!["Hyper-x".to_string()])]);
        assert!(Keymap::new(&unreadable).unwrap_err().contains("Hyper-x"));
        let clash = HashMap::from([("down".to_string(), vec!["k".to_string()])]);
        let err = Keymap::new(&clash).unwrap_err();
        assert!(err.contains("already bound"), "{err}");
    }
}
