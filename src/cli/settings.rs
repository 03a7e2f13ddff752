//! `tidings settings FEED [SETTING=VALUE]...`: a feed's own settings from
//! the command line, as `,` edits them in the reader. Without assignments it
//! prints them (the feed's value or the default it follows); each
//! assignment is checked before any is saved.

use std::io::Write;

use anyhow::bail;

use crate::app::{FeedDefaults, FeedSettingsView, SETTINGS};
use crate::config::Config;
use crate::store::Store;

pub(super) fn settings(
    store: &mut Store,
    config: &Config,
    feed: &str,
    assignments: &[String],
) -> anyhow::Result<()> {
    let feed = super::resolve_feed(store, feed)?;
    let Some(settings) = store.feed_settings(feed.id)? else {
        bail!("no feed {}", feed.id);
    };
    let mut view = FeedSettingsView {
        feed: feed.id,
        name: feed.display_name().to_string(),
        settings,
        cursor: 0,
    };
    for assignment in assignments {
        let Some((key, value)) = assignment.split_once('=') else {
            bail!("`{assignment}`: write SETTING=VALUE, e.g. refresh=15m");
        };
        let Some(setting) = SETTINGS.iter().find(|s| s.key() == key.trim()) else {
            let keys: Vec<&str> = SETTINGS.iter().map(|s| s.key()).collect();
            bail!("no setting `{key}`: the settings are {}", keys.join(", "));
        };
        view.set(*setting, value).map_err(|e| anyhow::anyhow!(e))?;
    }
    if !assignments.is_empty() {
        store.set_feed_settings(view.feed, &view.settings)?;
    }
    let defaults = FeedDefaults::from_config(config);
    let mut out = std::io::stdout().lock();
    writeln!(out, "{} ({})", view.name, feed.url)?;
    for setting in SETTINGS {
        writeln!(
            out,
            "  {:<14} {}",
            setting.key(),
            view.value(setting, &defaults)
        )?;
    }
    Ok(())
}
