//! Proxies: which one carries a request, and how each has been doing.
//!
//! The proxies are `[refresh] proxy` and `proxies` (a feed may name its own,
//! or `direct`); with neither set, the standard environment variables
//! (`https_proxy`/`HTTPS_PROXY` for https addresses, `http_proxy`/`HTTP_PROXY`
//! for http ones, `all_proxy`/`ALL_PROXY` for both). `no_proxy` (else
//! `NO_PROXY`) names the hosts reached directly. reqwest's own reading of the
//! environment is off and each proxy has its own client, so tidings always
//! knows which proxy carried a request.
//!
//! Requests are spread over the proxies in turn. One that fails twice in a
//! row without an answer (it cannot be reached, times out, or cannot reach
//! the site) rests for a minute, twice as long at each rest up to an hour,
//! and the others carry its share; an answer ends its rest. When every proxy
//! rests, the request fails instead of going direct: whoever set a proxy did
//! not want their address seen. Every request a proxy carries is logged
//! ([`ProxyUse`]) for the statistics.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use url::Url;

use super::FetchError;
use crate::model::ErrorKind;

/// What a feed says about proxies: its own one, or none at all.
pub const DIRECT: &str = "direct";

const FIRST_REST: Duration = Duration::from_secs(60);
const LONGEST_REST: Duration = Duration::from_secs(3600);

/// One request a proxy carried, for the statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyUse {
    pub proxy: String,
    pub at_ms: i64,
    /// Why no answer came; `None` when one did (whatever its status).
    pub error_kind: Option<ErrorKind>,
    pub ms: u64,
}

/// Which proxies carry what: from the config, else from the environment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProxyPlan {
    pub http: Vec<String>,
    pub https: Vec<String>,
    pub no_proxy: Vec<String>,
}

impl ProxyPlan {
    /// The config's proxies (for both schemes) and `no_proxy`; where the
    /// config names none, what `var` (the environment) says.
    pub fn new(
        configured: &[String],
        no_proxy: &[String],
        var: impl Fn(&str) -> Option<String>,
    ) -> ProxyPlan {
        let var = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| var(n).filter(|v| !v.trim().is_empty()))
        };
        let no_proxy = if no_proxy.is_empty() {
            var(&["no_proxy", "NO_PROXY"])
                .map(|list| list.split(',').map(|s| s.trim().to_string()).collect())
                .unwrap_or_default()
        } else {
            no_proxy.to_vec()
        };
        let no_proxy = no_proxy.into_iter().filter(|p| !p.is_empty()).collect();
        if !configured.is_empty() {
            return ProxyPlan {
                http: configured.to_vec(),
                https: configured.to_vec(),
                no_proxy,
            };
        }
        let all = var(&["all_proxy", "ALL_PROXY"]);
        let http = var(&["http_proxy", "HTTP_PROXY"]).or_else(|| all.clone());
        let https = var(&["https_proxy", "HTTPS_PROXY"]).or(all);
        ProxyPlan {
            http: http.into_iter().collect(),
            https: https.into_iter().collect(),
            no_proxy,
        }
    }
}

impl ProxyPlan {
    /// The proxy for one fixed address (the sync server's): the first of
    /// its scheme, unless `no_proxy` names its host.
    pub fn first_for(&self, url: &Url) -> Option<&str> {
        if url.host_str().is_some_and(|h| bypassed(&self.no_proxy, h)) {
            return None;
        }
        of_scheme(url, &self.http, &self.https)
            .first()
            .map(String::as_str)
    }
}

/// Checks a proxy address as the config gives it.
pub fn check_address(address: &str) -> Result<(), String> {
    if address == DIRECT {
        return Ok(());
    }
    let url = Url::parse(address).map_err(|e| format!("`{address}` is not an address: {e}"))?;
    if !matches!(url.scheme(), "http" | "https" | "socks5" | "socks5h") {
        return Err(format!(
            "`{address}`: a proxy is http://, https://, socks5:// or socks5h://"
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{address}` names no host"));
    }
    Ok(())
}

/// How a proxy reads in the statistics: its address without a password.
pub fn label(address: &str) -> String {
    match Url::parse(address) {
        Ok(mut url) => {
            let _ = url.set_password(None);
            let _ = url.set_username("");
            url.as_str().trim_end_matches('/').to_string()
        }
        Err(_) => address.to_string(),
    }
}

/// One proxy and its clients (the second for public feeds' images and pages).
pub struct Proxy {
    pub label: String,
    pub(super) client: reqwest::Client,
    pub(super) public_client: reqwest::Client,
    health: Mutex<Health>,
}

#[derive(Default)]
struct Health {
    failures_in_row: u32,
    rests: u32,
    resting_until: Option<Instant>,
}

impl Proxy {
    /// A proxy at `address` (checked), with its two clients.
    fn new(address: &str, make_client: &MakeClient) -> Result<Proxy, String> {
        check_address(address)?;
        let client = |public| {
            make_client(Some(address), public).map_err(|e| format!("`{}`: {e}", label(address)))
        };
        Ok(Proxy {
            label: label(address),
            client: client(false)?,
            public_client: client(true)?,
            health: Mutex::default(),
        })
    }

    fn resting(&self, now: Instant) -> Option<Instant> {
        let health = self.health.lock().unwrap();
        health.resting_until.filter(|&until| until > now)
    }
}

/// How one request goes out.
#[derive(Clone)]
pub enum Route {
    Direct,
    Via(Arc<Proxy>),
}

impl Route {
    pub fn label(&self) -> Option<String> {
        match self {
            Route::Direct => None,
            Route::Via(proxy) => Some(proxy.label.clone()),
        }
    }
}

/// Builds a client for one proxy (`None`: direct); `public_only` for the one
/// that reaches only public addresses.
pub type MakeClient = dyn Fn(Option<&str>, bool) -> reqwest::Result<reqwest::Client> + Send + Sync;

/// Every proxy of a run and its health, and the log of what they carried.
pub struct Proxies {
    http: Vec<Arc<Proxy>>,
    https: Vec<Arc<Proxy>>,
    no_proxy: Vec<String>,
    /// Every proxy by address: the configured ones, and feeds' own ones
    /// as they are first asked for (a feed naming a configured proxy shares
    /// its health).
    by_address: Mutex<HashMap<String, Arc<Proxy>>>,
    make_client: Box<MakeClient>,
    turn: AtomicUsize,
    log: Mutex<Vec<ProxyUse>>,
}

impl Proxies {
    pub fn new(plan: &ProxyPlan, make_client: Box<MakeClient>) -> anyhow::Result<Proxies> {
        let mut proxies = Proxies {
            http: Vec::new(),
            https: Vec::new(),
            no_proxy: plan.no_proxy.clone(),
            by_address: Mutex::default(),
            make_client,
            turn: AtomicUsize::new(0),
            log: Mutex::default(),
        };
        let built = |address: &String| {
            proxies
                .at(address)
                .map_err(|e| anyhow::anyhow!("proxy {e}"))
        };
        let http = plan.http.iter().map(built).collect::<anyhow::Result<_>>()?;
        let https = plan
            .https
            .iter()
            .map(built)
            .collect::<anyhow::Result<_>>()?;
        (proxies.http, proxies.https) = (http, https);
        Ok(proxies)
    }

    /// The route for `url`: the feed's own proxy (`direct` for none), else
    /// the next proxy of its scheme that is not resting, else direct when
    /// there are none or `no_proxy` names the host.
    pub fn route(&self, url: &Url, own: Option<&str>) -> Result<Route, FetchError> {
        match own {
            Some(DIRECT) => return Ok(Route::Direct),
            Some(address) => {
                return self
                    .at(address)
                    .map(Route::Via)
                    .map_err(|e| FetchError::Other(format!("the feed's proxy {e}")));
            }
            None => {}
        }
        if !self.carries(url) {
            return Ok(Route::Direct);
        }
        let proxies = of_scheme(url, &self.http, &self.https);
        let now = Instant::now();
        let start = self.turn.fetch_add(1, Ordering::Relaxed);
        let awake = (0..proxies.len())
            .map(|i| &proxies[(start + i) % proxies.len()])
            .find(|p| p.resting(now).is_none());
        match awake {
            Some(proxy) => Ok(Route::Via(proxy.clone())),
            None => {
                let soonest = proxies.iter().filter_map(|p| p.resting(now)).min();
                let wait = soonest.map_or(0, |t| t.duration_since(now).as_secs());
                Err(FetchError::Connect(format!(
                    "every proxy rests after failing twice in a row (the first is tried again in {wait} s)"
                )))
            }
        }
    }

    /// Whether a configured proxy carries requests for `url`.
    pub fn carries(&self, url: &Url) -> bool {
        !of_scheme(url, &self.http, &self.https).is_empty()
            && !url.host_str().is_some_and(|h| bypassed(&self.no_proxy, h))
    }

    /// The proxy at `address`, built the first time it is asked for.
    fn at(&self, address: &str) -> Result<Arc<Proxy>, String> {
        let mut by_address = self.by_address.lock().unwrap();
        if let Some(proxy) = by_address.get(address) {
            return Ok(proxy.clone());
        }
        let proxy = Arc::new(Proxy::new(address, &*self.make_client)?);
        by_address.insert(address.to_string(), proxy.clone());
        Ok(proxy)
    }

    /// Counts one request a proxy carried: its outcome for the statistics
    /// and for the proxy's health.
    pub fn record(&self, proxy: &Proxy, took: Duration, error: Option<&FetchError>) {
        let error_kind = error.map(FetchError::kind);
        let failed = error_kind
            .is_some_and(|k| matches!(k, ErrorKind::Connect | ErrorKind::Timeout | ErrorKind::Dns));
        {
            let mut health = proxy.health.lock().unwrap();
            if failed {
                health.failures_in_row += 1;
                if health.failures_in_row >= 2 {
                    let rest = FIRST_REST
                        .saturating_mul(1 << health.rests.min(6))
                        .min(LONGEST_REST);
                    health.rests += 1;
                    health.failures_in_row = 0;
                    health.resting_until = Some(Instant::now() + rest);
                    tracing::warn!(proxy = %proxy.label, "proxy failed twice in a row: resting {} s", rest.as_secs());
                }
            } else {
                *health = Health::default();
            }
        }
        let at_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        self.log.lock().unwrap().push(ProxyUse {
            proxy: proxy.label.clone(),
            at_ms,
            error_kind,
            ms: took.as_millis() as u64,
        });
    }

    /// The requests carried since the last call, for the store.
    pub fn take_log(&self) -> Vec<ProxyUse> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

/// Whether `no_proxy` names the host: `*`, the host or a domain above it
/// (`example.org` and `.example.org` both cover `www.example.org`), an IP
/// address or a network (`10.0.0.0/8`).
fn bypassed(no_proxy: &[String], host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let ip: Option<IpAddr> = host.parse().ok();
    no_proxy.iter().any(|pattern| {
        let pattern = pattern.trim().trim_end_matches('.').to_ascii_lowercase();
        if pattern == "*" {
            return true;
        }
        if let Some((net, bits)) = pattern.split_once('/') {
            return match (ip, net.parse::<IpAddr>(), bits.parse::<u32>()) {
                (Some(ip), Ok(net), Ok(bits)) => in_network(ip, net, bits),
                _ => false,
            };
        }
        let domain = pattern.trim_start_matches("*.").trim_start_matches('.');
        host == domain || host.ends_with(&format!(".{domain}"))
    })
}

/// The proxies (of a plan, or built) for `url`'s scheme.
fn of_scheme<'a, T>(url: &Url, http: &'a [T], https: &'a [T]) -> &'a [T] {
    if url.scheme() == "https" { https } else { http }
}

fn in_network(ip: IpAddr, net: IpAddr, bits: u32) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(plan: ProxyPlan) -> Proxies {
        Proxies::new(
            &plan,
            Box::new(|_, _| reqwest::Client::builder().no_proxy().build()),
        )
        .unwrap()
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn via(route: Result<Route, FetchError>) -> Option<String> {
        route.unwrap().label()
    }

    #[test]
    fn the_config_wins_over_the_environment_and_each_scheme_has_its_variables() {
        let env = |name: &str| match name {
            "https_proxy" => Some("http://secure:3128".to_string()),
            "HTTP_PROXY" => Some("http://plain:3128".to_string()),
            "NO_PROXY" => Some("intranet.example, 10.0.0.0/8".to_string()),
            _ => None,
        };
        let from_env = ProxyPlan::new(&[], &[], env);
        assert_eq!(from_env.https, ["http://secure:3128"]);
        assert_eq!(from_env.http, ["http://plain:3128"]);
        assert_eq!(from_env.no_proxy, ["intranet.example", "10.0.0.0/8"]);
        let configured = ProxyPlan::new(&["socks5h://tor:9050".into()], &[], env);
        assert_eq!(configured.http, ["socks5h://tor:9050"]);
        assert_eq!(configured.https, ["socks5h://tor:9050"]);
        let all = ProxyPlan::new(&[], &[], |n| {
            (n == "ALL_PROXY").then(|| "socks5://any:1080".to_string())
        });
        assert_eq!(all.http, all.https);
        assert_eq!(all.http, ["socks5://any:1080"]);
    }

    #[test]
    fn requests_take_the_proxies_in_turn_and_no_proxy_hosts_go_direct() {
        let plan = ProxyPlan {
            http: vec!["http://a:1".into(), "socks5://user:secret@b:2".into()],
            https: vec![],
            no_proxy: vec![
                ".lan".into(),
                "192.168.0.0/16".into(),
                "news.example".into(),
            ],
        };
        let p = proxies(plan);
        let first = via(p.route(&url("http://site.example/feed"), None));
        let second = via(p.route(&url("http://site.example/feed"), None));
        let mut both = vec![first.unwrap(), second.unwrap()];
        both.sort();
        assert_eq!(
            both,
            ["http://a:1", "socks5://b:2"],
            "no password in a label"
        );
        for direct in [
            "http://printer.lan/x",
            "http://192.168.1.4/x",
            "http://www.news.example/x",
            "https://site.example/x",
        ] {
            assert_eq!(via(p.route(&url(direct), None)), None, "{direct}");
        }
        assert!(via(p.route(&url("http://notnews.example/"), None)).is_some());
        assert_eq!(via(p.route(&url("http://x/"), Some(DIRECT))), None);
        assert_eq!(
            via(p.route(&url("http://x/"), Some("http://own:8080"))).as_deref(),
            Some("http://own:8080")
        );
    }

    #[test]
    fn a_proxy_failing_twice_rests_and_the_others_carry_its_share() {
        let plan = ProxyPlan {
            http: vec!["http://dead:1".into(), "http://alive:2".into()],
            ..ProxyPlan::default()
        };
        let p = proxies(plan);
        let dead = p.http[0].clone();
        let refused = FetchError::Connect("refused".into());
        p.record(&dead, Duration::from_millis(3), Some(&refused));
        p.record(&dead, Duration::from_millis(3), Some(&refused));
        for _ in 0..4 {
            assert_eq!(
                via(p.route(&url("http://site.example/"), None)).as_deref(),
                Some("http://alive:2")
            );
        }
        let alive = p.http[1].clone();
        p.record(&alive, Duration::from_millis(3), Some(&refused));
        p.record(&alive, Duration::from_millis(3), Some(&refused));
        let err = p.route(&url("http://site.example/"), None).err().unwrap();
        assert!(err.to_string().contains("every proxy rests"), "{err}");
        let log = p.take_log();
        assert_eq!(log.len(), 4);
        assert_eq!(log[0].error_kind, Some(ErrorKind::Connect));
        assert!(p.take_log().is_empty());
    }

    #[test]
    fn an_answer_of_any_status_keeps_a_proxy_awake() {
        let plan = ProxyPlan {
            http: vec!["http://only:1".into()],
            ..ProxyPlan::default()
        };
        let p = proxies(plan);
        let only = p.http[0].clone();
        let not_found = FetchError::Http {
            status: 404,
            reason: None,
        };
        let timeout = FetchError::Timeout("slow".into());
        p.record(&only, Duration::ZERO, Some(&timeout));
        p.record(&only, Duration::ZERO, Some(&not_found));
        p.record(&only, Duration::ZERO, Some(&timeout));
        assert!(p.route(&url("http://x/"), None).is_ok());
    }

    #[test]
    fn a_fixed_address_takes_the_first_proxy_of_its_scheme_unless_bypassed() {
        let plan = ProxyPlan {
            http: vec![],
            https: vec!["socks5h://tor:9050".into(), "http://b:1".into()],
            no_proxy: vec!["home.lan".into()],
        };
        assert_eq!(
            plan.first_for(&url("https://rss.example/api/")),
            Some("socks5h://tor:9050")
        );
        assert_eq!(plan.first_for(&url("https://rss.home.lan/api/")), None);
        assert_eq!(plan.first_for(&url("http://rss.example/api/")), None);
    }

    #[test]
    fn wrong_proxy_addresses_are_named() {
        assert!(
            check_address("ftp://x:1")
                .unwrap_err()
                .contains("socks5h://")
        );
        assert!(check_address("not a url").is_err());
        assert!(check_address("socks5h://127.0.0.1:9050").is_ok());
        assert!(check_address(DIRECT).is_ok());
    }
}
