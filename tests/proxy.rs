//! Refreshes through proxies the tests start on 127.0.0.1: an HTTP proxy
//! (forwarding plain requests, tunnelling CONNECT) and a SOCKS5 one, each a
//! few dozen lines that count what they carry. `tidings stats --format
//! json` must count per proxy what the proxies saw, a proxy that cannot be
//! reached must rest while the other carries the rest, `no_proxy` must
//! bypass them, and the standard variables must be honoured.

mod support;

use support::proxies::{LocalProxy, closed_port, http_proxy, socks5_proxy};
use support::{TestServer, Tidings};

/// Subscribes `n` feeds of `server` without fetching them.
fn subscribe(t: &Tidings, server: &TestServer, n: usize) {
    for i in 0..n {
        t.ok(&[
            "add",
            "--no-fetch",
            &server.url(&format!("/etag.xml?feed={i}")),
        ]);
    }
}

fn proxy_stats(t: &Tidings) -> Vec<serde_json::Value> {
    let out = t.ok(&["stats", "--format", "json"]);
    let stats: serde_json::Value = serde_json::from_str(&out).unwrap();
    stats["proxies"].as_array().cloned().unwrap_or_default()
}

fn stats_of(stats: &[serde_json::Value], port: u16) -> &serde_json::Value {
    stats
        .iter()
        .find(|p| p["proxy"].as_str().unwrap().ends_with(&format!(":{port}")))
        .unwrap_or_else(|| panic!("no proxy on port {port} in {stats:#?}"))
}

#[test]
fn a_refresh_goes_through_an_http_and_a_socks5_proxy_counted_as_they_saw_it() {
    let server = TestServer::start();
    let http = LocalProxy::start(http_proxy);
    let socks = LocalProxy::start(socks5_proxy);
    let t = Tidings::new();
    std::fs::write(
        t.path().join("config.toml"),
        format!(
            "[refresh]\nproxies = [\"http://127.0.0.1:{}\", \"socks5://127.0.0.1:{}\"]\n\
             [images]\ncache = false\n",
            http.port, socks.port
        ),
    )
    .unwrap();
    subscribe(&t, &server, 6);
    let out = t.ok(&["refresh", "--force"]);
    assert!(out.contains("6 ok"), "{out}");
    assert_eq!(server.requests_for("/etag.xml").len(), 6);
    // Spread over both, and each counted as it saw it.
    assert_eq!(http.carried() + socks.carried(), 6);
    assert!(http.carried() >= 1 && socks.carried() >= 1);
    let stats = proxy_stats(&t);
    assert_eq!(stats.len(), 2, "{stats:#?}");
    for (proxy, seen) in [(&http, http.carried()), (&socks, socks.carried())] {
        let figures = stats_of(&stats, proxy.port);
        assert_eq!(figures["requests"], seen as u64, "{figures:#}");
        assert_eq!(figures["answered"], seen as u64, "{figures:#}");
        assert_eq!(figures["failed"], 0);
        assert!(figures["median_ms"].is_u64());
    }
    let text = t.ok(&["stats"]);
    assert!(
        text.contains(&format!(
            "http://127.0.0.1:{}: {} requests",
            http.port,
            http.carried()
        )),
        "{text}"
    );
}

#[test]
fn a_proxy_that_cannot_be_reached_rests_and_the_other_carries_the_rest() {
    let server = TestServer::start();
    let http = LocalProxy::start(http_proxy);
    let dead = closed_port();
    let t = Tidings::with_short_timeouts();
    std::fs::write(
        t.path().join("config.toml"),
        format!(
            "[refresh]\nconnect_timeout_secs = 1\nproxies = [\"http://127.0.0.1:{dead}\", \"http://127.0.0.1:{}\"]\n\
             [images]\ncache = false\n",
            http.port
        ),
    )
    .unwrap();
    subscribe(&t, &server, 10);
    let run = t.run(&["refresh", "--force"]);
    let stats = proxy_stats(&t);
    let refused = stats_of(&stats, dead);
    let failed = refused["failed"].as_u64().unwrap();
    // Twice in a row, then it rests: at most one more was on its way.
    assert!((2..=3).contains(&failed), "{refused:#}\n{}", run.stdout);
    assert_eq!(refused["answered"], 0);
    assert_eq!(refused["failures_by_kind"]["connect"], failed);
    let alive = stats_of(&stats, http.port);
    assert_eq!(alive["requests"].as_u64().unwrap() as usize, http.carried());
    assert_eq!(http.carried() as u64, 10 - failed, "{}", run.stdout);
    // The failures say which proxy, the host is not blamed for them.
    assert!(!run.stdout.contains("deferred"), "{}", run.stdout);
    let list = t.ok(&["list"]);
    assert!(list.contains("connect"), "{list}");
}

#[test]
fn no_proxy_hosts_bypass_the_proxy() {
    let server = TestServer::start();
    let http = LocalProxy::start(http_proxy);
    let t = Tidings::new();
    std::fs::write(
        t.path().join("config.toml"),
        format!(
            "[refresh]\nproxy = \"http://127.0.0.1:{}\"\nno_proxy = [\"127.0.0.0/8\"]\n",
            http.port
        ),
    )
    .unwrap();
    subscribe(&t, &server, 2);
    t.ok(&["refresh", "--force"]);
    assert_eq!(server.requests_for("/etag.xml").len(), 2);
    assert_eq!(http.carried(), 0);
    assert!(proxy_stats(&t).is_empty());
}

#[test]
fn a_wrong_proxy_address_is_refused_with_the_key_named() {
    let t = Tidings::new();
    std::fs::write(
        t.path().join("config.toml"),
        "[refresh]\nproxies = [\"ftp://127.0.0.1:21\"]\n",
    )
    .unwrap();
    let run = t.run(&["list"]);
    assert!(!run.ok);
    assert!(
        run.stderr.contains("[refresh] proxy") && run.stderr.contains("socks5h://"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_standard_proxy_variables_are_honoured() {
    let server = TestServer::start();
    let http = LocalProxy::start(http_proxy);
    let t = Tidings::new();
    let proxy = format!("http://127.0.0.1:{}", http.port);
    // The first look of `tidings add` goes through it and is counted too.
    for args in [
        vec!["add", &server.url("/etag.xml")],
        vec!["refresh", "--force"],
    ] {
        let out = t
            .command()
            .args(&args)
            .env("http_proxy", &proxy)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    assert_eq!(http.carried(), 2);
    assert_eq!(proxy_stats(&t)[0]["requests"], 2);
}

#[test]
fn a_feed_goes_direct_or_through_its_own_proxy_when_its_settings_say_so() {
    let server = TestServer::start();
    let own = LocalProxy::start(http_proxy);
    let dead = closed_port();
    let t = Tidings::new();
    std::fs::write(
        t.path().join("config.toml"),
        format!("[refresh]\nproxy = \"http://127.0.0.1:{dead}\"\n[images]\ncache = false\n"),
    )
    .unwrap();
    subscribe(&t, &server, 3);
    t.ok(&["settings", "1", "proxy=direct"]);
    t.ok(&[
        "settings",
        "2",
        &format!("proxy=http://127.0.0.1:{}", own.port),
    ]);
    let run = t.run(&["refresh", "--force"]);
    assert!(run.stdout.contains("3 feeds · 2 ok"), "{}", run.stdout);
    assert_eq!(own.carried(), 1);
    assert_eq!(server.requests_for("/etag.xml").len(), 2);
    let stats = proxy_stats(&t);
    assert_eq!(stats_of(&stats, own.port)["answered"], 1);
    assert_eq!(stats_of(&stats, dead)["failed"], 1);
}
