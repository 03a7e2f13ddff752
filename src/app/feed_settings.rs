//! A feed's own settings (`,` on the feed list): how often it is fetched,
//! whether its images are cached and its pages read for their full text, how
//! much of it is kept, whether its own wishes (TTL, max-age) hold it back,
//! "one story once", and its proxy. Each row shows the feed's value or the
//! config's default; `h`/`l` (or Space) step through the usual choices,
//! Enter types a value where one can be typed (minutes, counts, days, a proxy
//! address), Backspace goes back to the default. Every change is saved at
//! once; the refresh reads the settings with the feed.

use crossterm::event::{KeyCode, KeyEvent};

use super::overlay::{Overlay, Prompt, PromptKind};
use super::{App, Effect};
use crate::config::Config;
use crate::keys::Action;
use crate::model::FeedId;
use crate::store::FeedSettings;

/// The config's values, which a feed without a setting of its own follows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FeedDefaults {
    pub refresh_minutes: u64,
    pub images: bool,
    pub full_text: bool,
    pub keep_articles: u64,
    pub keep_days: u64,
    pub honour_rest: bool,
    /// The configured proxies, for the choices (shown without passwords).
    pub proxies: Vec<String>,
}

impl FeedDefaults {
    pub fn from_config(config: &Config) -> FeedDefaults {
        let refresh = &config.refresh;
        FeedDefaults {
            refresh_minutes: refresh.interval_minutes,
            images: config.images.cache,
            full_text: refresh.full_text,
            keep_articles: config.retention.keep_articles,
            keep_days: config.retention.keep_days,
            honour_rest: refresh.honour_rest,
            proxies: refresh.configured_proxies(),
        }
    }
}

/// One row of the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    Refresh,
    Images,
    FullText,
    KeepArticles,
    KeepDays,
    HonourRest,
    Dedup,
    Proxy,
}

pub const SETTINGS: [Setting; 8] = [
    Setting::Refresh,
    Setting::Images,
    Setting::FullText,
    Setting::KeepArticles,
    Setting::KeepDays,
    Setting::HonourRest,
    Setting::Dedup,
    Setting::Proxy,
];

impl Setting {
    pub fn label(self) -> &'static str {
        match self {
            Setting::Refresh => "Refresh every",
            Setting::Images => "Cache images",
            Setting::FullText => "Full text",
            Setting::KeepArticles => "Keep articles",
            Setting::KeepDays => "Keep for",
            Setting::HonourRest => "Honour its TTL",
            Setting::Dedup => "One story once",
            Setting::Proxy => "Proxy",
        }
    }

    /// Its name on the command line (`tidings settings FEED refresh=15m`).
    pub fn key(self) -> &'static str {
        match self {
            Setting::Refresh => "refresh",
            Setting::Images => "images",
            Setting::FullText => "full_text",
            Setting::KeepArticles => "keep_articles",
            Setting::KeepDays => "keep_days",
            Setting::HonourRest => "honour_ttl",
            Setting::Dedup => "dedup",
            Setting::Proxy => "proxy",
        }
    }

    /// What the row means, shown under the rows for the selected one.
    pub fn help(self) -> &'static str {
        match self {
            Setting::Refresh => {
                "Minutes between automatic fetches of this feed (Enter: type minutes, or 2h, 1d)."
            }
            Setting::Images => "Download the images its articles show, for offline reading.",
            Setting::FullText => {
                "Read each new article's web page for its full text (for feeds that send summaries)."
            }
            Setting::KeepArticles => {
                "Read articles kept; older ones go (unread and starred ones always stay)."
            }
            Setting::KeepDays => {
                "Days a read article is kept (unread and starred ones always stay)."
            }
            Setting::HonourRest => {
                "Leave the feed alone as long as it asks (<ttl>, sy:updatePeriod, max-age)."
            }
            Setting::Dedup => "Show a story other feeds carry too only once, in the unified lists.",
            Setting::Proxy => {
                "The proxy its requests go through: an address (Enter), direct, or the default."
            }
        }
    }

    /// What the prompt asks when a value is typed; `None`: nothing to type.
    pub fn question(self) -> Option<&'static str> {
        match self {
            Setting::Refresh => Some("Refresh every (minutes, or 2h, 1d; empty: default): "),
            Setting::KeepArticles => Some("Keep articles (a number, or all; empty: default): "),
            Setting::KeepDays => Some("Keep for (days, or forever; empty: default): "),
            Setting::Proxy => {
                Some("Proxy (socks5h://host:port, http://…, direct; empty: default): ")
            }
            _ => None,
        }
    }
}

/// The settings of one feed, as being edited.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedSettingsView {
    pub feed: FeedId,
    pub name: String,
    pub settings: FeedSettings,
    pub cursor: usize,
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

fn minutes(m: u64) -> String {
    match m {
        0 => "never (only when asked)".into(),
        m if m % 1440 == 0 => format!("{} d", m / 1440),
        m if m % 60 == 0 => format!("{} h", m / 60),
        m => format!("{m} min"),
    }
}

fn articles(n: u64) -> String {
    if n == 0 { "all".into() } else { n.to_string() }
}

fn days(n: u64) -> String {
    match n {
        0 => "forever".into(),
        1 => "1 day".into(),
        n => format!("{n} days"),
    }
}

impl FeedSettingsView {
    /// The value a row shows: the feed's own, or `default (…)`.
    pub fn value(&self, setting: Setting, defaults: &FeedDefaults) -> String {
        let s = &self.settings;
        let own_or = |own: Option<String>, default: String| {
            own.unwrap_or_else(|| format!("default ({default})"))
        };
        match setting {
            Setting::Refresh => own_or(
                s.refresh_minutes.map(minutes),
                minutes(defaults.refresh_minutes),
            ),
            Setting::Images => own_or(
                s.images.map(|b| on_off(b).into()),
                on_off(defaults.images).into(),
            ),
            Setting::FullText => own_or(
                s.full_text.map(|b| on_off(b).into()),
                on_off(defaults.full_text).into(),
            ),
            Setting::KeepArticles => own_or(
                s.keep_articles.map(articles),
                articles(defaults.keep_articles),
            ),
            Setting::KeepDays => own_or(s.keep_days.map(days), days(defaults.keep_days)),
            Setting::HonourRest => own_or(
                s.honour_rest.map(|b| on_off(b).into()),
                on_off(defaults.honour_rest).into(),
            ),
            Setting::Dedup => on_off(s.dedup).into(),
            Setting::Proxy => own_or(
                s.proxy.as_deref().map(crate::fetch::proxy::label),
                match defaults.proxies.as_slice() {
                    [] => "none, or the environment's".into(),
                    [one] => crate::fetch::proxy::label(one),
                    many => format!("{} in turn", many.len()),
                },
            ),
        }
    }

    /// Steps a row to its next (or previous) usual value.
    fn step(&mut self, setting: Setting, forward: bool, defaults: &FeedDefaults) {
        let s = &mut self.settings;
        let flags = [None, Some(true), Some(false)];
        match setting {
            Setting::Refresh => {
                let choices = [5, 15, 30, 60, 120, 360, 720, 1440].map(Some);
                s.refresh_minutes = cycle(&choices, s.refresh_minutes, forward);
            }
            Setting::Images => s.images = cycle(&flags, s.images, forward),
            Setting::FullText => s.full_text = cycle(&flags, s.full_text, forward),
            Setting::KeepArticles => {
                let choices = [0, 50, 100, 200, 500, 1000].map(Some);
                s.keep_articles = cycle(&choices, s.keep_articles, forward);
            }
            Setting::KeepDays => {
                let choices = [0, 7, 30, 90, 365].map(Some);
                s.keep_days = cycle(&choices, s.keep_days, forward);
            }
            Setting::HonourRest => s.honour_rest = cycle(&flags, s.honour_rest, forward),
            Setting::Dedup => s.dedup = !s.dedup,
            Setting::Proxy => {
                let mut choices: Vec<Option<String>> =
                    vec![Some(crate::fetch::proxy::DIRECT.to_string())];
                choices.extend(defaults.proxies.iter().cloned().map(Some));
                s.proxy = cycle(&choices, s.proxy.clone(), forward);
            }
        }
    }

    /// Sets a row from what was typed; the error says what is expected.
    pub fn set_typed(&mut self, setting: Setting, typed: &str) -> Result<(), String> {
        // Words in any case; a proxy's address as typed (its password too).
        let text = typed.trim().to_lowercase();
        let s = &mut self.settings;
        let number = |what: &str| -> Result<Option<u64>, String> {
            if text.is_empty() {
                return Ok(None);
            }
            text.parse::<u64>()
                .map(Some)
                .map_err(|_| format!("`{text}` is not {what}"))
        };
        match setting {
            Setting::Refresh => s.refresh_minutes = typed_minutes(&text)?,
            Setting::KeepArticles if text == "all" => s.keep_articles = Some(0),
            Setting::KeepArticles => s.keep_articles = number("a number of articles")?,
            Setting::KeepDays if text == "forever" => s.keep_days = Some(0),
            Setting::KeepDays => s.keep_days = number("a number of days")?,
            Setting::Proxy if text.is_empty() => s.proxy = None,
            Setting::Proxy if text == crate::fetch::proxy::DIRECT => {
                s.proxy = Some(crate::fetch::proxy::DIRECT.to_string())
            }
            Setting::Proxy => {
                let address = typed.trim();
                crate::fetch::proxy::check_address(address)?;
                s.proxy = Some(address.to_string());
            }
            _ => {}
        }
        Ok(())
    }

    /// Sets a row from text, as the command line gives it: `default`, `on`
    /// or `off` for a switch, else what [`Self::set_typed`] reads.
    pub fn set(&mut self, setting: Setting, typed: &str) -> Result<(), String> {
        let text = typed.trim().to_lowercase();
        if text == "default" {
            self.reset(setting);
            return Ok(());
        }
        let switch = match text.as_str() {
            "on" | "yes" | "true" => Some(true),
            "off" | "no" | "false" => Some(false),
            _ => None,
        };
        let s = &mut self.settings;
        match (setting, switch) {
            (Setting::Images, Some(on)) => s.images = Some(on),
            (Setting::FullText, Some(on)) => s.full_text = Some(on),
            (Setting::HonourRest, Some(on)) => s.honour_rest = Some(on),
            (Setting::Dedup, Some(on)) => s.dedup = on,
            (Setting::Images | Setting::FullText | Setting::HonourRest | Setting::Dedup, None) => {
                return Err(format!(
                    "{}: on, off or default, not `{text}`",
                    setting.key()
                ));
            }
            _ => return self.set_typed(setting, typed),
        }
        Ok(())
    }

    /// The row back to the config's value.
    fn reset(&mut self, setting: Setting) {
        let s = &mut self.settings;
        match setting {
            Setting::Refresh => s.refresh_minutes = None,
            Setting::Images => s.images = None,
            Setting::FullText => s.full_text = None,
            Setting::KeepArticles => s.keep_articles = None,
            Setting::KeepDays => s.keep_days = None,
            Setting::HonourRest => s.honour_rest = None,
            Setting::Dedup => s.dedup = true,
            Setting::Proxy => s.proxy = None,
        }
    }
}

/// `15`, `15m`, `2h`, `1d` as minutes (at least one); empty: the default.
fn typed_minutes(text: &str) -> Result<Option<u64>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let factor = match unit.trim() {
        "" | "m" | "min" => 1,
        "h" => 60,
        "d" => 1440,
        _ => return Err(format!("`{text}`: minutes, or a number with h or d")),
    };
    match number.parse::<u64>() {
        Ok(n) if n > 0 => Ok(Some(n * factor)),
        _ => Err(format!("`{text}`: at least one minute")),
    }
}

/// The next (or previous) of `None` (the default) and `choices`; a value
/// typed outside the choices steps to the nearest one in that direction.
fn cycle<T: PartialEq + Clone + PartialOrd>(
    choices: &[Option<T>],
    current: Option<T>,
    forward: bool,
) -> Option<T> {
    let mut all: Vec<Option<T>> = vec![None];
    all.extend(choices.iter().filter(|c| c.is_some()).cloned());
    if let Some(choices_pos) = all.iter().position(|c| *c == current) {
        let n = all.len();
        let next = if forward {
            (choices_pos + 1) % n
        } else {
            (choices_pos + n - 1) % n
        };
        return all[next].clone();
    }
    let usual = &all[1..];
    let beyond = if forward {
        usual.iter().find(|c| **c > current)
    } else {
        usual.iter().rev().find(|c| **c < current)
    };
    beyond.cloned().unwrap_or(None)
}

impl App {
    /// `,` on a feed: its settings.
    pub(super) fn open_feed_settings(&mut self) -> anyhow::Result<()> {
        let Some(feed) = self.current_feed() else {
            self.notify("settings are a feed's: select one".into(), false);
            return Ok(());
        };
        let name = self.feed_name(feed);
        let Some(settings) = self.store.feed_settings(feed)? else {
            return Ok(());
        };
        self.overlay = Some(Overlay::FeedSettings(FeedSettingsView {
            feed,
            name,
            settings,
            cursor: 0,
        }));
        Ok(())
    }

    pub(super) fn on_feed_settings_key(
        &mut self,
        mut view: FeedSettingsView,
        key: KeyEvent,
    ) -> anyhow::Result<Vec<Effect>> {
        let setting = SETTINGS[view.cursor];
        let before = view.settings.clone();
        match (key.code, self.keymap.action(&key)) {
            (KeyCode::Esc, _) | (_, Some(Action::Quit | Action::FeedSettings)) => {
                return Ok(Vec::new());
            }
            (_, Some(Action::Down)) => view.cursor = (view.cursor + 1).min(SETTINGS.len() - 1),
            (_, Some(Action::Up)) => view.cursor = view.cursor.saturating_sub(1),
            (KeyCode::Backspace | KeyCode::Delete, _) => view.reset(setting),
            (KeyCode::Enter, _) if setting.question().is_some() => {
                let text = match setting {
                    Setting::Refresh => view.settings.refresh_minutes.map(|m| m.to_string()),
                    Setting::KeepArticles => view.settings.keep_articles.map(|n| n.to_string()),
                    Setting::KeepDays => view.settings.keep_days.map(|n| n.to_string()),
                    _ => view.settings.proxy.clone(),
                };
                let kind = PromptKind::FeedSetting(view.feed, setting);
                self.overlay = Some(Overlay::Prompt(Prompt::with_text(
                    kind,
                    text.unwrap_or_default(),
                )));
                self.editing_settings = Some(view);
                return Ok(Vec::new());
            }
            (KeyCode::Enter | KeyCode::Char(' '), _) | (_, Some(Action::NextPane)) => {
                view.step(setting, true, &self.feed_defaults)
            }
            (_, Some(Action::PrevPane)) => view.step(setting, false, &self.feed_defaults),
            _ => {}
        }
        if view.settings != before {
            self.save_feed_settings(&view, setting)?;
        }
        self.overlay = Some(Overlay::FeedSettings(view));
        Ok(Vec::new())
    }

    /// A typed value for a row: saved and back to the settings, or the
    /// prompt again with what is wrong.
    pub(super) fn submit_feed_setting(
        &mut self,
        setting: Setting,
        prompt: Prompt,
    ) -> anyhow::Result<()> {
        let Some(mut view) = self.editing_settings.take() else {
            return Ok(());
        };
        match view.set_typed(setting, &prompt.input) {
            Ok(()) => {
                self.save_feed_settings(&view, setting)?;
                self.overlay = Some(Overlay::FeedSettings(view));
            }
            Err(why) => {
                self.notify(why, true);
                self.overlay = Some(Overlay::Prompt(prompt));
                self.editing_settings = Some(view);
            }
        }
        Ok(())
    }

    fn save_feed_settings(
        &mut self,
        view: &FeedSettingsView,
        changed: Setting,
    ) -> anyhow::Result<()> {
        self.store.set_feed_settings(view.feed, &view.settings)?;
        let value = view.value(changed, &self.feed_defaults);
        self.notify(
            format!("{}: {} {value}", view.name, changed.label().to_lowercase()),
            false,
        );
        self.refresh_interval_ms = self.refresh_timer_ms()?;
        Ok(())
    }

    /// How often the reader's timer asks for the due feeds: the configured
    /// interval, or the shortest a feed has of its own (0: never).
    pub(super) fn refresh_timer_ms(&self) -> anyhow::Result<i64> {
        let configured = self.feed_defaults.refresh_minutes;
        let shortest = self.store.shortest_feed_refresh_minutes()?;
        let minutes = match (configured, shortest) {
            (0, Some(own)) => own,
            (configured, Some(own)) => configured.min(own),
            (configured, None) => configured,
        };
        Ok(minutes as i64 * 60_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stepping_goes_through_the_default_and_the_usual_values() {
        let choices = [5, 15, 60].map(Some);
        assert_eq!(cycle(&choices, None, true), Some(5));
        assert_eq!(cycle(&choices, Some(60), true), None);
        assert_eq!(cycle(&choices, None, false), Some(60));
        // A typed value steps to the nearest usual one.
        assert_eq!(cycle(&choices, Some(45), true), Some(60));
        assert_eq!(cycle(&choices, Some(45), false), Some(15));
    }

    #[test]
    fn typed_values_are_read_or_refused_with_what_is_expected() {
        assert_eq!(typed_minutes("90"), Ok(Some(90)));
        assert_eq!(typed_minutes("2h"), Ok(Some(120)));
        assert_eq!(typed_minutes("1d"), Ok(Some(1440)));
        assert_eq!(typed_minutes(""), Ok(None));
        assert!(
            typed_minutes("0")
                .unwrap_err()
                .contains("at least one minute")
        );
        assert!(typed_minutes("soon").is_err());
        let mut view = FeedSettingsView {
            feed: FeedId(1),
            name: "x".into(),
            settings: FeedSettings::default(),
            cursor: 0,
        };
        view.set_typed(Setting::KeepArticles, "all").unwrap();
        assert_eq!(view.settings.keep_articles, Some(0));
        view.set_typed(Setting::KeepDays, "30").unwrap();
        assert_eq!(view.settings.keep_days, Some(30));
        assert!(view.set_typed(Setting::Proxy, "ftp://x:1").is_err());
        view.set_typed(Setting::Proxy, "socks5h://127.0.0.1:9050")
            .unwrap();
        assert_eq!(
            view.settings.proxy.as_deref(),
            Some("socks5h://127.0.0.1:9050")
        );
    }
}
