//! Which network addresses an image may be fetched from. A feed on the open
//! internet must not make tidings probe the reader's own machine or network
//! (its router, a printer, a service on localhost) through the images it
//! names, so images of a public feed are fetched only from public addresses:
//! IP literals are checked before each request and redirect, and host names
//! go through [`PublicOnly`], a resolver that drops private answers, so a name
//! cannot be re-pointed between the check and the connection. A feed that is
//! itself on a private address (an intranet, the benchmark's loopback hosts)
//! may show images from such addresses too.

use std::net::{IpAddr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Whether an address belongs to the open internet (not loopback, private,
/// link-local, unique-local, shared, documentation-only or unspecified).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
                || (a == 198 && (b == 18 || b == 19)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80) // link local
        }
    }
}

/// Names that never mean the open internet.
fn is_local_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || [
            ".localhost",
            ".local",
            ".internal",
            ".lan",
            ".home.arpa",
            ".intranet",
        ]
        .iter()
        .any(|suffix| name.ends_with(suffix))
}

/// Whether a URL's host is, by its text alone, not on the open internet.
/// `None` when only resolving the name can tell.
pub fn is_private_by_name(url: &Url) -> Option<bool> {
    match url.host()? {
        Host::Ipv4(ip) => Some(!is_public(IpAddr::V4(ip))),
        Host::Ipv6(ip) => Some(!is_public(IpAddr::V6(ip))),
        Host::Domain(name) if is_local_name(name) => Some(true),
        Host::Domain(_) => None,
    }
}

/// Whether a feed lives on a private address: by its host's text, else by
/// what the name resolves to (any private answer counts). A local file counts
/// as private: the reader chose it.
pub async fn feed_is_private(feed_url: &str) -> bool {
    let Ok(url) = Url::parse(feed_url) else {
        return false;
    };
    if !matches!(url.scheme(), "http" | "https") {
        return true;
    }
    if let Some(private) = is_private_by_name(&url) {
        return private;
    }
    let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
        return false;
    };
    match tokio::net::lookup_host((host, port)).await {
        Ok(addrs) => addrs.into_iter().any(|a| !is_public(a.ip())),
        Err(_) => false,
    }
}

/// Checks one request's address for an image of a public feed: an IP literal
/// must be public, and so must a name that only its text can judge.
pub fn check_public(url: &Url) -> Result<(), String> {
    match is_private_by_name(url) {
        Some(true) => Err(format!(
            "{} is a private address; a feed from the internet may not point there",
            url.host_str().unwrap_or("")
        )),
        _ => Ok(()),
    }
}

/// A resolver that answers only public addresses (and fails when a name has
/// none), for the client that fetches the images of public feeds.
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if found.is_empty() {
                let error: Box<dyn std::error::Error + Send + Sync> =
                    format!("{host} has no public address").into();
                return Err(error);
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_public_addresses_are_told_apart() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn hosts_are_judged_by_their_text_when_they_can_be() {
        let judge = |u: &str| is_private_by_name(&Url::parse(u).unwrap());
        assert_eq!(judge("http://127.0.0.1:8080/a.png"), Some(true));
        assert_eq!(judge("http://[::1]/a.png"), Some(true));
        assert_eq!(judge("http://localhost/a.png"), Some(true));
        assert_eq!(judge("http://printer.local/a.png"), Some(true));
        assert_eq!(judge("http://93.184.216.34/a.png"), Some(false));
        assert_eq!(judge("https://example.org/a.png"), None);
        assert!(check_public(&Url::parse("http://192.168.0.1/x").unwrap()).is_err());
        assert!(check_public(&Url::parse("https://example.org/x").unwrap()).is_ok());
    }

    #[tokio::test]
    async fn the_public_resolver_refuses_names_that_point_home() {
        let err = PublicOnly.resolve("localhost".parse().unwrap()).await;
        assert!(err.is_err());
    }
}
