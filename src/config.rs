//! Where tidings keeps its files ([`Paths`]) and what the user may tune
//! ([`Config`], read from `config.toml`). Both are plain values built once in
//! `main` and passed down; nothing reads a global.
//!
//! `--data-dir DIR` (or `TIDINGS_DATA_DIR`) puts everything, config included,
//! under DIR. Without it the platform's directories come from `directories`.
//! A config file with an unknown key is an error that names the file and the key,
//! so a typo never silently does nothing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ratatui::style::Color;
use serde::Deserialize;

mod filters;
mod sync;
pub use filters::FilterConfig;
pub use sync::{PASSWORD_VARIABLE, Secret, SyncBackend, SyncConfig, password_exposed};

/// The files tidings reads and writes.
#[derive(Debug, Clone)]
pub struct Paths {
    pub config_file: PathBuf,
    pub data_dir: PathBuf,
    pub database: PathBuf,
    pub cache_dir: PathBuf,
    pub log_dir: PathBuf,
    /// Everything is under one directory given on the command line.
    pub in_one_dir: bool,
}

impl Paths {
    /// Everything under one directory (`--data-dir`).
    pub fn in_dir(dir: &Path) -> Paths {
        Paths {
            config_file: dir.join("config.toml"),
            data_dir: dir.to_path_buf(),
            database: dir.join("tidings.db"),
            cache_dir: dir.join("cache"),
            log_dir: dir.join("logs"),
            in_one_dir: true,
        }
    }

    /// The platform's usual places (XDG on Linux).
    pub fn platform() -> anyhow::Result<Paths> {
        let dirs = directories::ProjectDirs::from("", "", "tidings")
            .ok_or_else(|| anyhow::anyhow!("no home directory found; pass --data-dir DIR"))?;
        let data = dirs.data_dir();
        Ok(Paths {
            config_file: dirs.config_dir().join("config.toml"),
            data_dir: data.to_path_buf(),
            database: data.join("tidings.db"),
            cache_dir: dirs.cache_dir().to_path_buf(),
            log_dir: dirs.state_dir().unwrap_or(data).join("logs"),
            in_one_dir: false,
        })
    }

    /// The OPML backup of the subscriptions, beside the database.
    pub fn subscriptions_backup(&self) -> PathBuf {
        self.data_dir.join("subscriptions.opml")
    }

    /// Where enclosures are downloaded: `configured` (`[downloads] dir`,
    /// `~/` for the home directory) when set, else `downloads/` in a data
    /// directory given on the command line, else the platform's download
    /// directory under `tidings/`.
    pub fn downloads_dir(&self, configured: &str) -> PathBuf {
        let home = || directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf());
        if let Some(rest) = configured.strip_prefix("~/")
            && let Some(home) = home()
        {
            return home.join(rest);
        }
        if !configured.is_empty() {
            return PathBuf::from(configured);
        }
        if self.in_one_dir {
            return self.data_dir.join("downloads");
        }
        directories::UserDirs::new()
            .and_then(|d| d.download_dir().map(|d| d.join("tidings")))
            .unwrap_or_else(|| self.data_dir.join("downloads"))
    }

    /// Where cached images live.
    pub fn image_dir(&self) -> PathBuf {
        self.cache_dir.join("images")
    }

    pub fn create_dirs(&self) -> std::io::Result<()> {
        for dir in [&self.data_dir, &self.cache_dir, &self.log_dir] {
            std::fs::create_dir_all(dir)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub refresh: RefreshConfig,
    pub retention: RetentionConfig,
    pub ui: UiConfig,
    pub images: ImagesConfig,
    pub downloads: DownloadsConfig,
    pub theme: ThemeConfig,
    /// The aggregator server to sync with; none: this device alone.
    pub sync: Option<SyncConfig>,
    /// Query feeds: name → query of the query language (see `query`).
    pub query_feeds: std::collections::BTreeMap<String, String>,
    /// Rules applied to articles as they arrive.
    pub filters: Vec<FilterConfig>,
    /// Action name → keys, replacing that action's default keys (see `keys.rs`).
    pub keys: HashMap<String, Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UiConfig {
    /// Widest the article text is set, in columns; 0 fills the pane.
    pub article_width: u16,
    pub mark_read: MarkRead,
    pub sort: SortOrder,
    /// Start with only unread articles in the lists (`U` toggles).
    pub unread_only: bool,
    /// The program that opens links, with its arguments; the URL is added last.
    /// Empty: `$BROWSER`, else `xdg-open` (`open` on macOS).
    pub browser: Vec<String>,
    /// The program that opens a cached image (`i`), with its arguments; the
    /// file's path is added last. Empty: `browser`, else `xdg-open` (`open`
    /// on macOS).
    pub image_viewer: Vec<String>,
    /// The program that plays an enclosure (`p`), with its arguments; the
    /// address is added last. Empty: `mpv` when it is on the PATH, else the
    /// browser.
    pub player: Vec<String>,
    pub mouse: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImagesConfig {
    /// Download the images articles show with every refresh.
    pub cache: bool,
    /// Show them in the article (`I` toggles); off shows one-line placeholders.
    pub show: bool,
    /// How to draw them: "auto" (detect kitty, iTerm2 or sixel; half-blocks
    /// otherwise and inside tmux or screen), "kitty", "iterm2", "sixel",
    /// "halfblocks", or "off" (placeholders).
    pub protocol: ImageProtocol,
    /// Image downloads in flight at once (each host's limit is `refresh.per_host`).
    pub concurrency: usize,
    /// Largest image accepted, in bytes (the download stops there).
    pub max_bytes: u64,
    /// Wider images are scaled down to this many pixels before they are stored.
    pub max_width: u32,
    /// The image cache's size, in MB; the least recently shown go first
    /// (images of starred articles stay).
    pub cache_limit_mb: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageProtocol {
    Auto,
    Kitty,
    Iterm2,
    Sixel,
    Halfblocks,
    Off,
}

impl Default for ImagesConfig {
    fn default() -> Self {
        ImagesConfig {
            cache: true,
            show: true,
            protocol: ImageProtocol::Auto,
            concurrency: 64,
            max_bytes: 10 * 1000 * 1000,
            max_width: 1600,
            cache_limit_mb: 500,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DownloadsConfig {
    /// Where enclosures are downloaded. Empty: the platform's download
    /// directory under `tidings/` (with `--data-dir`: `downloads/` in it).
    pub dir: String,
    /// `tidings download` without feeds named: the feeds with this tag.
    pub podcast_tag: String,
    /// `tidings download`: this many of each feed's newest episodes.
    pub newest: usize,
    /// Largest file downloaded, in MB (the download stops there).
    pub max_mb: u64,
}

impl Default for DownloadsConfig {
    fn default() -> Self {
        DownloadsConfig {
            dir: String::new(),
            podcast_tag: "podcast".into(),
            newest: 3,
            max_mb: 4000,
        }
    }
}

/// When an article counts as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MarkRead {
    OnOpen,
    OnLeave,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SortOrder {
    NewestFirst,
    OldestFirst,
}

/// Colours by role: a name (`cyan`, `lightblue`, `darkgray`), `#rrggbb`, an
/// index `0`–`255`, or `reset` (the terminal's own). A role left unset takes
/// the colour of the palette for the terminal's background, which tidings
/// asks the terminal for at start (`background = "auto"`) or is told. With
/// `NO_COLOR` set, only bold, dim, italic and reverse are used.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThemeConfig {
    pub background: Background,
    pub accent: Option<Colour>,
    pub selection: Option<Colour>,
    pub unread: Option<Colour>,
    pub dim: Option<Colour>,
    pub error: Option<Colour>,
    /// A fetch that read the feed, but with a repair or with nothing in it.
    pub warning: Option<Colour>,
    pub heading: Option<Colour>,
    pub link: Option<Colour>,
    pub code: Option<Colour>,
    pub quote: Option<Colour>,
}

/// The terminal's background, for the palette.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Background {
    /// Ask the terminal (OSC 11) when the reader starts; dark when it does
    /// not say.
    #[default]
    Auto,
    Light,
    Dark,
}

/// Every role's colour, the config's where it sets one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Palette {
    pub accent: Color,
    pub selection: Color,
    pub unread: Color,
    pub dim: Color,
    pub error: Color,
    pub warning: Color,
    pub heading: Color,
    pub link: Color,
    pub code: Color,
    pub quote: Color,
}

impl Palette {
    /// For a dark background: light and bright colours. Text the reader
    /// reads (unread titles) is the terminal's own colour, never white.
    pub const DARK: Palette = Palette {
        accent: Color::Cyan,
        selection: Color::Indexed(237),
        unread: Color::Reset,
        dim: Color::DarkGray,
        error: Color::LightRed,
        warning: Color::Yellow,
        heading: Color::LightYellow,
        link: Color::LightBlue,
        code: Color::LightGreen,
        quote: Color::Gray,
    };
    /// For a light background: dark colours (no yellow, white or light gray,
    /// which do not show on white).
    pub const LIGHT: Palette = Palette {
        accent: Color::Blue,
        selection: Color::Indexed(253),
        unread: Color::Reset,
        dim: Color::Indexed(242),
        error: Color::Red,
        warning: Color::Indexed(130),
        heading: Color::Indexed(25),
        link: Color::Blue,
        code: Color::Indexed(28),
        quote: Color::Indexed(240),
    };
}

impl ThemeConfig {
    /// The palette for the background (`Auto` taken as dark), with the
    /// colours this config sets in place of its own.
    pub fn palette(&self) -> Palette {
        let base = match self.background {
            Background::Light => Palette::LIGHT,
            Background::Dark | Background::Auto => Palette::DARK,
        };
        let pick = |set: Option<Colour>, default: Color| set.map_or(default, |c| c.0);
        Palette {
            accent: pick(self.accent, base.accent),
            selection: pick(self.selection, base.selection),
            unread: pick(self.unread, base.unread),
            dim: pick(self.dim, base.dim),
            error: pick(self.error, base.error),
            warning: pick(self.warning, base.warning),
            heading: pick(self.heading, base.heading),
            link: pick(self.link, base.link),
            code: pick(self.code, base.code),
            quote: pick(self.quote, base.quote),
        }
    }
}

/// A colour as the config names it, checked when the file is read.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(try_from = "String")]
pub struct Colour(pub ratatui::style::Color);

impl TryFrom<String> for Colour {
    type Error = String;
    fn try_from(name: String) -> Result<Self, String> {
        name.parse::<ratatui::style::Color>()
            .map(Colour)
            .map_err(|_| format!("unknown colour `{name}`"))
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RefreshConfig {
    /// Requests in flight at once, all hosts together.
    pub concurrency: usize,
    /// Requests in flight at once on one host.
    pub per_host: usize,
    pub connect_timeout_secs: u64,
    /// Longest silence while reading a response.
    pub read_timeout_secs: u64,
    /// Longest a whole fetch may take, body included.
    pub total_timeout_secs: u64,
    /// Largest decoded feed body accepted, in bytes.
    pub max_body_bytes: u64,
    /// Minutes between periodic refreshes in the TUI; 0 turns them off.
    pub interval_minutes: u64,
    /// Refresh everything when the TUI starts.
    pub on_start: bool,
    /// Leave a feed alone for as long as its server asked (`<ttl>`,
    /// `sy:updatePeriod`, `max-age`); false: only `Retry-After` holds one back.
    pub honour_rest: bool,
    /// Fetch each new article's web page for its full text, for the feeds
    /// that have no setting of their own (`tidings add --full-text`, `F` on
    /// the feed list).
    pub full_text: bool,
    pub user_agent: Option<String>,
    /// The proxy every request goes through (`http://`, `https://`,
    /// `socks5://`, `socks5h://`); see `fetch::proxy`.
    pub proxy: Option<String>,
    /// Several proxies, taken in turn (with `proxy`, if both are set).
    pub proxies: Vec<String>,
    /// Hosts reached without a proxy: names (covering their subdomains),
    /// IP addresses, networks (`10.0.0.0/8`), or `*`.
    pub no_proxy: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// Articles kept per feed; 0 keeps all. Starred and unread ones always stay.
    pub keep_articles: u64,
    /// Days an article is kept; 0 keeps it forever. Starred and unread ones always stay.
    pub keep_days: u64,
    /// Fetch records (statistics) kept per feed.
    pub fetch_history: u64,
}

impl Default for RefreshConfig {
    fn default() -> Self {
        RefreshConfig {
            concurrency: 32,
            per_host: 2,
            connect_timeout_secs: 10,
            read_timeout_secs: 20,
            total_timeout_secs: 60,
            max_body_bytes: 32 * 1024 * 1024,
            interval_minutes: 60,
            on_start: true,
            honour_rest: true,
            full_text: false,
            user_agent: None,
            proxy: None,
            proxies: Vec::new(),
            no_proxy: Vec::new(),
        }
    }
}

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig {
            article_width: 100,
            mark_read: MarkRead::OnOpen,
            sort: SortOrder::NewestFirst,
            unread_only: false,
            browser: Vec::new(),
            image_viewer: Vec::new(),
            player: Vec::new(),
            mouse: true,
        }
    }
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            keep_articles: 0,
            keep_days: 0,
            fetch_history: 100,
        }
    }
}

impl RefreshConfig {
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_secs.max(1))
    }
    pub fn read_timeout(&self) -> Duration {
        Duration::from_secs(self.read_timeout_secs.max(1))
    }
    pub fn total_timeout(&self) -> Duration {
        Duration::from_secs(self.total_timeout_secs.max(1))
    }
    /// The time between two refreshes of a feed, in seconds.
    pub fn interval_secs(&self) -> i64 {
        self.interval_minutes as i64 * 60
    }
    /// Which proxies carry what: the configured ones, else those the
    /// environment (`var`) names.
    pub fn proxy_plan(
        &self,
        var: impl Fn(&str) -> Option<String>,
    ) -> crate::fetch::proxy::ProxyPlan {
        crate::fetch::proxy::ProxyPlan::new(&self.configured_proxies(), &self.no_proxy, var)
    }

    /// `proxy` and `proxies`, in that order.
    pub fn configured_proxies(&self) -> Vec<String> {
        self.proxy.iter().chain(&self.proxies).cloned().collect()
    }

    pub fn user_agent(&self) -> String {
        self.user_agent.clone().unwrap_or_else(|| {
            format!(
                "tidings/{} (terminal feed reader; +https://crates.io/crates/tidings)",
                env!("CARGO_PKG_VERSION")
            )
        })
    }
}

impl Config {
    /// The `[[filters]]`, as rules (those that are wrong were refused by `load`).
    pub fn filters(&self) -> Vec<crate::query::Filter> {
        self.filters
            .iter()
            .filter_map(|f| f.filter().ok())
            .collect()
    }

    /// Reads the config file; a missing file means the defaults.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => anyhow::bail!("cannot read {}: {e}", path.display()),
        };
        let config: Config = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.message()))?;
        crate::keys::Keymap::new(&config.keys)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let refresh = &config.refresh;
        for address in &refresh.configured_proxies() {
            crate::fetch::proxy::check_address(address)
                .map_err(|e| anyhow::anyhow!("{}: [refresh] proxy {e}", path.display()))?;
        }
        for (n, filter) in config.filters.iter().enumerate() {
            filter.filter().map_err(|e| {
                anyhow::anyhow!("{}: [[filters]] number {}: {e}", path.display(), n + 1)
            })?;
        }
        for (name, query) in &config.query_feeds {
            crate::query::parse(query).map_err(|e| {
                anyhow::anyhow!(
                    "{}: [query_feeds] {name:?}: {}",
                    path.display(),
                    e.pointed(query)
                )
            })?;
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_query_feed_is_named_with_where_it_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[query_feeds]\n\"Rust week\" = 'title =~'\n").unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("[query_feeds] \"Rust week\": column 9"),
            "{err}"
        );
        std::fs::write(
            &path,
            "[query_feeds]\n\"Rust week\" = 'title =~ rust and age < 7d'\n",
        )
        .unwrap();
        assert_eq!(Config::load(&path).unwrap().query_feeds.len(), 1);
    }

    #[test]
    fn unknown_keys_are_rejected_with_file_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[refresh]\nper_hots = 3\n").unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("config.toml") && err.contains("per_hots"),
            "{err}"
        );
    }

    #[test]
    fn the_annotated_example_is_valid_and_states_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/config.toml");
        let config = Config::load(&path).unwrap();
        assert_eq!(config.refresh, RefreshConfig::default());
        assert_eq!(config.retention, RetentionConfig::default());
        assert_eq!(config.ui, UiConfig::default());
        assert_eq!(config.images, ImagesConfig::default());
        assert_eq!(config.theme, ThemeConfig::default());
        // Every action is listed with its default keys.
        for binding in crate::keys::BINDINGS {
            let keys: Vec<&str> = binding.keys.to_vec();
            assert_eq!(
                config
                    .keys
                    .get(binding.name)
                    .map(|k| k.iter().map(String::as_str).collect::<Vec<_>>()),
                Some(keys),
                "{}",
                binding.name
            );
        }
    }

    #[test]
    fn a_colour_set_replaces_the_palettes_and_the_others_follow_the_background() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "[theme]\nbackground = \"light\"\naccent = \"magenta\"\n",
        )
        .unwrap();
        let palette = Config::load(&path).unwrap().theme.palette();
        assert_eq!(palette.accent, Color::Magenta);
        assert_eq!(palette.heading, Palette::LIGHT.heading);
        let palette = ThemeConfig::default().palette();
        assert_eq!(
            palette,
            Palette::DARK,
            "auto is dark until the terminal says"
        );
        std::fs::write(&path, "[theme]\nbackground = \"sepia\"\n").unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("sepia"), "{err}");
    }

    #[test]
    fn bad_colours_and_keys_name_the_file_and_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[theme]\naccent = \"mauve-ish\"\n").unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("config.toml") && err.contains("mauve-ish"),
            "{err}"
        );
        std::fs::write(&path, "[keys]\nrefresh_everything = [\"x\"]\n").unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("config.toml") && err.contains("refresh_everything"),
            "{err}"
        );
        std::fs::write(&path, "[ui]\nmark_read = \"sometimes\"\n").unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("config.toml") && err.contains("sometimes"),
            "{err}"
        );
    }

    #[test]
    fn partial_files_keep_the_other_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[retention]\nkeep_articles = 200\n").unwrap();
        let config = Config::load(&path).unwrap();
        assert_eq!(config.retention.keep_articles, 200);
        assert_eq!(config.refresh.per_host, 2);
        assert_eq!(
            Config::load(&dir.path().join("none.toml")).unwrap(),
            Config::default()
        );
    }
}
