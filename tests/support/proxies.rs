//! Proxies for the tests, on 127.0.0.1, each a few dozen lines that count
//! what they carry: an HTTP proxy (forwarding plain requests, tunnelling
//! CONNECT) and a SOCKS5 one; and a port nothing listens on.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

/// A proxy running on its own threads, and how many requests it carried.
pub struct LocalProxy {
    pub port: u16,
    requests: Arc<AtomicUsize>,
}

impl LocalProxy {
    pub fn start(handle: fn(TcpStream, &AtomicUsize) -> std::io::Result<()>) -> LocalProxy {
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

    pub fn carried(&self) -> usize {
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
pub fn http_proxy(mut client: TcpStream, requests: &AtomicUsize) -> std::io::Result<()> {
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
pub fn socks5_proxy(mut client: TcpStream, requests: &AtomicUsize) -> std::io::Result<()> {
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
pub fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
