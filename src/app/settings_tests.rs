//! A feed's own settings through `update`, as a person edits them: `,`
//! opens them on the selected feed, `l`/`h` step a row, Enter types a
//! value (and a wrong one is said and asked again), Backspace goes back to
//! the default, and each change is saved at once.

use super::testing::{keys, screen, text_of, three_feeds};
use super::{App, Overlay, Setting};
use crate::config::Config;
use crate::model::FeedId;
use crate::store::FeedSettings;

/// The reader with Rust Blog's settings open.
fn rust_blog_settings(config: &Config) -> (App, FeedId) {
    let (f, [rust, _, _]) = three_feeds();
    let mut app = f.app_with(config, 100, 30);
    let (at, _, _) = app.feeds.feed_ids().find(|(_, f, _)| *f == rust).unwrap();
    app.feeds.cursor = at;
    keys(&mut app, ",");
    (app, rust)
}

fn saved(app: &App, feed: FeedId) -> FeedSettings {
    app.store.feed_settings(feed).unwrap().unwrap()
}

fn row(app: &App) -> Setting {
    match &app.overlay {
        Some(Overlay::FeedSettings(view)) => super::SETTINGS[view.cursor],
        _ => panic!("the settings are not open"),
    }
}

#[test]
fn stepping_a_row_saves_it_and_the_timer_follows_the_shortest_interval() {
    let (mut app, rust) = rust_blog_settings(&Config::default());
    let text = text_of(&screen(&app));
    assert!(text.contains("Settings of Rust Blog"), "{text}");
    assert!(text.contains("default (1 h)"), "{text}");
    assert_eq!(app.refresh_interval_ms, 60 * 60_000);
    keys(&mut app, "l");
    assert_eq!(saved(&app, rust).refresh_minutes, Some(5));
    assert_eq!(
        app.refresh_interval_ms,
        5 * 60_000,
        "the timer asks every 5 min"
    );
    assert!(text_of(&screen(&app)).contains("refresh every 5 min"));
    keys(&mut app, "jl");
    assert_eq!(row(&app), Setting::Images);
    assert_eq!(saved(&app, rust).images, Some(true));
    keys(&mut app, "l");
    assert_eq!(saved(&app, rust).images, Some(false));
    keys(&mut app, "⌫");
    assert_eq!(saved(&app, rust).images, None);
    // One story once is on or off, never "default".
    keys(&mut app, "jjjjj ");
    assert_eq!(row(&app), Setting::Dedup);
    assert!(!saved(&app, rust).dedup);
    keys(&mut app, "q");
    assert!(app.overlay.is_none());
    // The other feeds keep the config's values.
    let others: Vec<FeedId> = app
        .feeds
        .feed_ids()
        .map(|(_, f, _)| f)
        .filter(|&f| f != rust)
        .collect();
    for feed in others {
        assert_eq!(saved(&app, feed), FeedSettings::default());
    }
}

#[test]
fn a_value_is_typed_and_a_wrong_one_is_asked_again() {
    let (mut app, rust) = rust_blog_settings(&Config::default());
    keys(&mut app, "⏎");
    let text = text_of(&screen(&app));
    assert!(text.contains("Refresh every (minutes"), "{text}");
    assert!(
        text.contains("Settings of Rust Blog"),
        "the settings stay in view"
    );
    keys(&mut app, "soon⏎");
    assert!(matches!(app.overlay, Some(Overlay::Prompt(_))));
    assert!(
        app.notice
            .as_ref()
            .unwrap()
            .text
            .contains("minutes, or a number with h or d")
    );
    // Corrected: the prompt still holds what was typed.
    for _ in 0.."soon".len() {
        keys(&mut app, "⌫");
    }
    keys(&mut app, "2h⏎");
    assert_eq!(saved(&app, rust).refresh_minutes, Some(120));
    assert_eq!(row(&app), Setting::Refresh);
    // The proxy: an address, checked, or Esc back to the settings unchanged.
    keys(&mut app, "jjjjjjj⏎");
    keys(&mut app, "ftp://x:1⏎");
    assert!(app.notice.as_ref().unwrap().text.contains("socks5h://"));
    keys(&mut app, "⎋");
    assert_eq!(row(&app), Setting::Proxy);
    assert_eq!(saved(&app, rust).proxy, None);
    keys(&mut app, "⏎socks5h://127.0.0.1:9050⏎");
    assert_eq!(
        saved(&app, rust).proxy.as_deref(),
        Some("socks5h://127.0.0.1:9050")
    );
    assert!(text_of(&screen(&app)).contains("socks5h://127.0.0.1:9050"));
    // An address is kept as typed: a password's case matters.
    keys(&mut app, "⏎");
    for _ in 0.."socks5h://127.0.0.1:9050".len() {
        keys(&mut app, "⌫");
    }
    keys(&mut app, "http://Me:PaSs@127.0.0.1:3128⏎");
    assert_eq!(
        saved(&app, rust).proxy.as_deref(),
        Some("http://Me:PaSs@127.0.0.1:3128")
    );
}

#[test]
fn the_proxy_row_offers_direct_and_the_configured_proxies() {
    let mut config = Config::default();
    config.refresh.proxies = vec!["http://user:secret@127.0.0.1:3128".into()];
    let (mut app, rust) = rust_blog_settings(&config);
    keys(&mut app, "jjjjjjj");
    assert!(text_of(&screen(&app)).contains("default (http://127.0.0.1:3128)"));
    keys(&mut app, "l");
    assert_eq!(saved(&app, rust).proxy.as_deref(), Some("direct"));
    keys(&mut app, "l");
    assert_eq!(
        saved(&app, rust).proxy.as_deref(),
        Some("http://user:secret@127.0.0.1:3128")
    );
    assert!(
        !text_of(&screen(&app)).contains("secret"),
        "a password is never shown"
    );
}
