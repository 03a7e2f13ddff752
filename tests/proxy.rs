//! Refreshes through proxies the tests start on 127.0.0.1: an HTTP proxy
//! (forwarding plain requests, tunnelling CONNECT) and a SOCKS5 one, each a
//! few dozen lines that count what they carry. `tidings stats --format
//! json` must count per proxy what the proxies saw, a proxy that cannot be
//! reached must rest while the other carries the rest, `no_proxy` must
//! bypass them, and the standard variables must be honoured.

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use support::{TestServer, Tidings};

/// A proxy running on its own threads, and how many requests it carried.
struct LocalProxy {
    port: u16,
    requests: Arc<AtomicUsize>,
}

impl LocalProxy {
    fn start(handle: fn(TcpStream, &AtomicUsize) -> std::io::Result<()>) -> LocalProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(AtomicUsize::new(0));
        let counted = requests.clone();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let counted = counted.clone();
                thread::spawn(move || {
                    let _ = handle(client, &counted);
                });
            }
        });
        LocalProxy { port, requests }
    }

    fn carried(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Copies both ways until either side closes.
fn relay(client: TcpStream, upstream: TcpStream) {
    let (mut c2, mut u2) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
    let (mut client, mut upstream) = (client, upstream);
    let up = thread::spawn(move || {
        let _ = std::io::copy(&mut c2, &mut u2);
        let _ = u2.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut upstream, &mut client);
    let _ = client.shutdown(std::net::Shutdown::Both);
    let _ = up.join();
}

/// An HTTP proxy: `GET http://host/path` is forwarded (one request per
/// connection), `CONNECT host:port` tunnelled.
fn http_proxy(mut client: TcpStream, requests: &AtomicUsize) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte)? == 0 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_string();
    let mut parts = request_line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    requests.fetch_add(1, Ordering::SeqCst);
    if method == "CONNECT" {
        let upstream = TcpStream::connect(target)?;
        client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
        relay(client, upstream);
        return Ok(());
    }
    let rest = target.strip_prefix("http://").unwrap_or(target);
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut upstream = TcpStream::connect(authority)?;
    let mut forwarded = format!("{method} {path} HTTP/1.1\r\n");
    for line in lines.filter(|l| !l.is_empty()) {
        let name = line.split(':').next().unwrap_or("").to_ascii_lowercase();
        if !["connection", "proxy-connection", "keep-alive"].contains(&name.as_str()) {
            forwarded.push_str(line);
            forwarded.push_str("\r\n");
        }
    }
    forwarded.push_str("Connection: close\r\n\r\n");
    upstream.write_all(forwarded.as_bytes())?;
    relay(client, upstream);
    Ok(())
}

/// A SOCKS5 proxy (no authentication, CONNECT by IPv4 address or name);
/// counts the HTTP requests that go through each tunnel.
fn socks5_proxy(mut client: TcpStream, requests: &AtomicUsize) -> std::io::Result<()> {
    let mut greeting = [0u8; 2];
    client.read_exact(&mut greeting)?;
    let mut methods = vec![0u8; greeting[1] as usize];
    client.read_exact(&mut methods)?;
    client.write_all(&[5, 0])?;
    let mut request = [0u8; 4];
    client.read_exact(&mut request)?;
    let host = match request[3] {
        1 => {
            let mut ip = [0u8; 4];
            client.read_exact(&mut ip)?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => {
            let mut len = [0u8; 1];
            client.read_exact(&mut len)?;
            let mut name = vec![0u8; len[0] as usize];
            client.read_exact(&mut name)?;
            String::from_utf8_lossy(&name).into_owned()
        }
        _ => return Ok(()),
    };
    let mut port = [0u8; 2];
    client.read_exact(&mut port)?;
    let upstream = TcpStream::connect((host.as_str(), u16::from_be_bytes(port)))?;
    client.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0])?;
    // Requests to the tunnel's far end, counted as they pass.
    let (mut from_client, mut to_upstream) = (client.try_clone()?, upstream.try_clone()?);
    let counter = Arc::new(AtomicUsize::new(0));
    let seen = counter.clone();
    let up = thread::spawn(move || {
        let mut buf = [0u8; 8192];
        let mut tail: Vec<u8> = Vec::new();
        while let Ok(n) = from_client.read(&mut buf) {
            if n == 0 || to_upstream.write_all(&buf[..n]).is_err() {
                break;
            }
            tail.extend_from_slice(&buf[..n]);
            let starts = tail.windows(5).filter(|w| w == b"GET /").count();
            seen.fetch_add(starts, Ordering::SeqCst);
            tail = tail[tail.len().saturating_sub(4)..].to_vec();
        }
        let _ = to_upstream.shutdown(std::net::Shutdown::Write);
    });
    let (mut upstream, mut client) = (upstream, client);
    let _ = std::io::copy(&mut upstream, &mut client);
    let _ = client.shutdown(std::net::Shutdown::Both);
    let _ = up.join();
    requests.fetch_add(counter.load(Ordering::SeqCst), Ordering::SeqCst);
    Ok(())
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

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
