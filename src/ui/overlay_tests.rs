//! Every overlay at 80×24 and at 200×50: nothing a person must read or
//! answer is cut off (the help's keys scroll, the questions wrap), checked
//! by what each screen shows, and kept as snapshots.

use crate::app::testing::{keys, screen, text_of, three_feeds};
use crate::app::{App, Overlay};
use crate::fetch::DiscoveredFeed;

/// Three feeds, Rust Blog's newest article starred, the reader at `size`.
fn reader(width: u16, height: u16) -> App {
    let (mut f, [rust, _, _]) = three_feeds();
    let newest = f.store.feed_articles(rust).unwrap()[0].id;
    f.store.set_starred(newest, true).unwrap();
    f.app(width, height)
}

/// What each overlay must show whole, and the keys that open it (or the
/// overlay itself, for the one a web page's feeds open).
fn overlays() -> Vec<(&'static str, &'static str, Vec<&'static str>)> {
    vec![
        ("help", "?", vec!["q or ? closes", "move down"]),
        // The feed names stay readable in the table, not only in the history.
        (
            "statistics",
            "S",
            vec!["Statistics", "│Daily ", "│Rust Blog "],
        ),
        // With proxies: one line each, whole, above the feed's fetches.
        (
            "statistics_proxies",
            "S",
            vec![
                "Proxies",
                "http://127.0.0.1:3128: 3 requests · 2 answered · 1 failed (timeout: 1)",
                "socks5h://127.0.0.1:9050: 1 requests",
                "│Rust Blog ",
            ],
        ),
        ("search", "/", vec!["Search:"]),
        (
            "subscribe",
            "a",
            vec!["Subscribe to (feed or web page URL):"],
        ),
        ("query_feed", "Q", vec!["Query feed (name: query):"]),
        // Rust Blog, with a starred article: the question and every answer.
        (
            "unsubscribe",
            "jjd",
            vec!["Rust Blog", "starred", "Saved", "delete"],
        ),
        ("downloads", "P", vec!["Downloads"]),
        // Rust Blog's own settings: every row, what it means, the keys.
        (
            "feed_settings",
            "jj,",
            vec![
                "Settings of Rust Blog",
                "Refresh every",
                "default (1 h)",
                "Proxy",
                "Minutes between automatic fetches",
                "q closes",
            ],
        ),
        ("pick", "", vec!["Posts", "Comments"]),
    ]
}

/// Four requests two proxies carried a minute ago, one of them failed.
fn carried_by_proxies(app: &mut App) {
    use crate::fetch::proxy::ProxyUse;
    let at_ms = app.now_ms - 60_000;
    let used = |proxy: &str, error_kind, ms| ProxyUse {
        proxy: proxy.into(),
        at_ms,
        error_kind,
        ms,
    };
    let timeout = Some(crate::model::ErrorKind::Timeout);
    app.store
        .save_proxy_uses(&[
            used("http://127.0.0.1:3128", None, 80),
            used("http://127.0.0.1:3128", None, 120),
            used("http://127.0.0.1:3128", timeout, 10_000),
            used("socks5h://127.0.0.1:9050", None, 300),
        ])
        .unwrap();
}

#[test]
fn every_overlay_fits_80_by_24_and_200_by_50() {
    for (width, height) in [(80, 24), (200, 50)] {
        for (name, typed, must_show) in overlays() {
            let mut app = reader(width, height);
            if name == "pick" {
                app.overlay = Some(Overlay::Pick {
                    found: vec![
                        DiscoveredFeed {
                            url: "https://blog.example/posts.xml".into(),
                            title: Some("Posts".into()),
                            mime_type: "application/rss+xml".into(),
                        },
                        DiscoveredFeed {
                            url: "https://blog.example/comments.xml".into(),
                            title: Some("Comments".into()),
                            mime_type: "application/atom+xml".into(),
                        },
                    ],
                    cursor: 0,
                });
            } else {
                if name == "statistics_proxies" {
                    carried_by_proxies(&mut app);
                }
                keys(&mut app, typed);
            }
            let drawn = screen(&app);
            let text = text_of(&drawn);
            for needle in must_show {
                assert!(
                    text.contains(needle),
                    "{name} at {width}×{height} does not show {needle:?}:\n{text}"
                );
            }
            insta::assert_snapshot!(format!("overlay_{name}_{width}x{height}"), drawn.backend());
        }
    }
}
