//! One conditional GET of a feed address, with every limit a hostile server
//! needs, and nothing about SQLite or the UI.
//!
//! - Timeouts: connect, read (silence between bytes) and total.
//! - Redirects are followed here, at most [`MAX_REDIRECTS`], so that we know
//!   whether every hop was permanent (301/308: the feed moved) and never send a
//!   Referer; only http(s) targets are followed.
//! - Content codings (gzip, brotli, deflate) are decoded here rather than inside
//!   reqwest, so that the statistics can count bytes on the wire and decoded bytes
//!   separately, and so that the cap applies to the *decoded* size: a gzip bomb
//!   stops at the cap. Decoding is CPU work and runs with the parse, off the
//!   async threads ([`decode_body`]).
//! - `file://` addresses (the user's own subscription, never a feed's link) are
//!   read from disk under the same size cap.
//!
//! Feed discovery for `tidings add PAGE` ([`discover_feeds`], in `discover`)
//! is what a fetch of a web page instead of a feed turns into; proxies (which
//! one carries a request, and how each is doing) are `proxy`'s.

use std::io::Read;
use std::time::{Duration, Instant};

use reqwest::header::{self, HeaderMap, HeaderValue};
use url::Url;

pub mod address;
mod discover;
pub mod proxy;

pub use discover::{DiscoveredFeed, discover_feeds, looks_like_html};

use proxy::{Proxies, Route};

use crate::config::RefreshConfig;
use crate::model::ErrorKind;

pub const MAX_REDIRECTS: usize = 10;

/// How a request left for a later run reads in the statistics.
pub const HOST_UNREACHABLE: &str = "deferred: host unreachable";

/// Why a fetch failed; [`FetchError::kind`] is what the statistics record.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FetchError {
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("cannot resolve the host name: {0}")]
    Dns(String),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("TLS failed: {0}")]
    Tls(String),
    #[error("HTTP {status}{}", reason.as_deref().map(|r| format!(" {r}")).unwrap_or_default())]
    Http { status: u16, reason: Option<String> },
    #[error("the feed is gone (HTTP 410); it will not be fetched again")]
    Gone,
    #[error("the server asks to wait (HTTP {status}){}", retry_after.map(|s| format!(", retry after {s} s")).unwrap_or_default())]
    RateLimited {
        status: u16,
        retry_after: Option<u64>,
    },
    #[error("larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    #[error("redirect to an address tidings will not follow: {0}")]
    BadRedirect(String),
    #[error("{0}")]
    Parse(String),
    #[error("{0}")]
    Encoding(String),
    #[error("cannot read: {0}")]
    Io(String),
    #[error("refused: {0}")]
    Forbidden(String),
    /// Not asked, since the host did not answer earlier requests of the run.
    #[error("{HOST_UNREACHABLE} ({0} did not answer twice in a row; tried again in a later run)")]
    Deferred(String),
    #[error("{0}")]
    Other(String),
}

impl FetchError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            FetchError::Timeout(_) => ErrorKind::Timeout,
            FetchError::Dns(_) => ErrorKind::Dns,
            FetchError::Connect(_) => ErrorKind::Connect,
            FetchError::Tls(_) => ErrorKind::Tls,
            FetchError::Http { .. } | FetchError::BadRedirect(_) => ErrorKind::Http,
            FetchError::Gone => ErrorKind::Gone,
            FetchError::RateLimited { .. } => ErrorKind::RateLimited,
            FetchError::TooLarge { .. } => ErrorKind::TooLarge,
            FetchError::TooManyRedirects => ErrorKind::TooManyRedirects,
            FetchError::Parse(_) => ErrorKind::Parse,
            FetchError::Encoding(_) => ErrorKind::Encoding,
            FetchError::Io(_) => ErrorKind::Io,
            FetchError::Forbidden(_) => ErrorKind::Forbidden,
            FetchError::Deferred(_) => ErrorKind::Deferred,
            FetchError::Other(_) => ErrorKind::Other,
        }
    }

    fn from_reqwest(e: reqwest::Error) -> FetchError {
        // The chain holds the useful part ("dns error", "connection refused", ...).
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            text = format!("{text}: {s}");
            source = s.source();
        }
        let lower = text.to_lowercase();
        if e.is_timeout() || lower.contains("timed out") {
            FetchError::Timeout(text)
        } else if lower.contains("dns error") || lower.contains("failed to lookup") {
            FetchError::Dns(text)
        } else if lower.contains("certificate")
            || lower.contains("tls")
            || lower.contains("handshake")
        {
            FetchError::Tls(text)
        } else if e.is_connect() {
            FetchError::Connect(text)
        } else {
            FetchError::Io(text)
        }
    }
}

/// Validators from the previous fetch, sent back verbatim.
#[derive(Debug, Clone, Default)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// A response as the refresher needs it. The body is still content-coded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    /// `None` for a local file.
    pub status: Option<u16>,
    pub final_url: String,
    /// Set when at least one redirect was followed.
    pub redirected_to: Option<String>,
    /// Set when every redirect followed was permanent (301/308).
    pub moved_permanently_to: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    /// `Cache-Control: max-age`, in seconds.
    pub max_age: Option<u64>,
    /// `Retry-After`, in seconds from now.
    pub retry_after: Option<u64>,
    pub body: Vec<u8>,
    pub ms_headers: u64,
    pub ms_body: u64,
}

impl Response {
    /// The `charset` parameter of the Content-Type, if any.
    pub fn charset(&self) -> Option<&str> {
        charset_of(self.content_type.as_deref()?)
    }
}

/// The `charset` parameter of a Content-Type value, quotes removed.
pub fn charset_of(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"'))
    })
}

/// The HTTP side of tidings: one `reqwest` client with its limits, and one
/// per proxy (see [`proxy`]).
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    /// For the images of public feeds: its resolver answers only public addresses.
    public_client: reqwest::Client,
    proxies: std::sync::Arc<Proxies>,
    max_body: u64,
    total_timeout: Duration,
}

/// A feed's answer and the proxy that carried the request, if one did.
pub struct Carried {
    pub proxy: Option<String>,
    pub result: Result<Response, FetchError>,
}

impl Carried {
    /// An answer no proxy carried.
    fn direct(result: Result<Response, FetchError>) -> Carried {
        Carried {
            proxy: None,
            result,
        }
    }
}

/// What one HTTP GET may do: what it accepts, how much it reads.
struct GetSpec {
    accept: &'static str,
    max_body: u64,
    /// Every hop (the first request and each redirect) must be a public address.
    public_only: bool,
}

impl Fetcher {
    /// The proxies are the config's, else the environment's.
    pub fn new(config: &RefreshConfig) -> anyhow::Result<Fetcher> {
        let plan = config.proxy_plan(|name| std::env::var(name).ok());
        let (user_agent, connect, read, per_host) = (
            config.user_agent(),
            config.connect_timeout(),
            config.read_timeout(),
            config.per_host.max(1),
        );
        let make_client = move |proxy: Option<&str>, public_only: bool| {
            let mut builder = reqwest::Client::builder()
                .user_agent(user_agent.clone())
                .connect_timeout(connect)
                .read_timeout(read)
                .redirect(reqwest::redirect::Policy::none())
                .referer(false)
                .pool_max_idle_per_host(per_host)
                .no_proxy();
            if let Some(proxy) = proxy {
                builder = builder.proxy(reqwest::Proxy::all(proxy)?);
            }
            if public_only {
                builder = builder.dns_resolver(std::sync::Arc::new(address::PublicOnly));
            }
            builder.build()
        };
        let client = make_client(None, false)?;
        let public_client = make_client(None, true)?;
        let proxies = Proxies::new(&plan, Box::new(make_client))?;
        Ok(Fetcher {
            client,
            public_client,
            proxies: std::sync::Arc::new(proxies),
            max_body: config.max_body_bytes,
            total_timeout: config.total_timeout(),
        })
    }

    /// Whether a configured proxy carries requests for `address` (then a
    /// failure says nothing sure about its host).
    pub fn proxied(&self, address: &str) -> bool {
        Url::parse(address).is_ok_and(|url| self.proxies.carries(&url))
    }

    /// The requests proxies carried since the last call, for the statistics.
    pub fn take_proxy_log(&self) -> Vec<proxy::ProxyUse> {
        self.proxies.take_log()
    }

    pub fn max_body(&self) -> u64 {
        self.max_body
    }

    /// GETs `address` (http(s) or file), following redirects; answers every HTTP
    /// status as a [`Response`] (the body is read only for 2xx).
    pub async fn get(
        &self,
        address: &str,
        validators: &Validators,
    ) -> Result<Response, FetchError> {
        self.get_feed(address, validators, None).await.result
    }

    /// [`Fetcher::get`] through the feed's own proxy setting (`own_proxy`:
    /// an address or [`proxy::DIRECT`]; `None` for the configured ones),
    /// saying which proxy carried it.
    pub async fn get_feed(
        &self,
        address: &str,
        validators: &Validators,
        own_proxy: Option<&str>,
    ) -> Carried {
        let url = match Url::parse(address) {
            Ok(url) => url,
            Err(e) => {
                let e = FetchError::Other(format!("bad address {address}: {e}"));
                return Carried::direct(Err(e));
            }
        };
        match url.scheme() {
            "http" | "https" => match self.proxies.route(&url, own_proxy) {
                Ok(route) => {
                    let spec = GetSpec {
                        accept: ACCEPT_FEEDS,
                        max_body: self.max_body,
                        public_only: false,
                    };
                    Carried {
                        proxy: route.label(),
                        result: self.send(&route, spec, url, validators).await,
                    }
                }
                Err(e) => Carried::direct(Err(e)),
            },
            "file" => Carried::direct(self.read_file(&url).await),
            // The welcome feed ships inside the binary: readable with no network.
            "tidings" if address == crate::WELCOME_URL => Carried::direct(Ok(Response {
                final_url: address.to_string(),
                body: crate::WELCOME_FEED.to_vec(),
                ..Response::default()
            })),
            other => Carried::direct(Err(FetchError::Other(format!(
                "unsupported address scheme {other}:"
            )))),
        }
    }

    /// GETs an image (http(s) only) with its own size cap. For a public feed
    /// (`public_only`), every hop must be a public address. The body is not
    /// content-decoded: images are sent as they are.
    pub async fn get_image(
        &self,
        address: &str,
        validators: &Validators,
        max_bytes: u64,
        public_only: bool,
    ) -> Result<Response, FetchError> {
        self.get_web(address, validators, ACCEPT_IMAGES, max_bytes, public_only)
            .await
    }

    /// GETs an article's web page (http(s) only), with the feeds' size cap.
    /// For a public feed (`public_only`), every hop must be a public
    /// address: a feed cannot make tidings read pages of your network.
    pub async fn get_page(&self, address: &str, public_only: bool) -> Result<Response, FetchError> {
        let validators = Validators::default();
        self.get_web(
            address,
            &validators,
            ACCEPT_PAGES,
            self.max_body,
            public_only,
        )
        .await
    }

    /// An http(s) GET for something a feed points at (an image, a page):
    /// through the public-only client when the feed is public.
    async fn get_web(
        &self,
        address: &str,
        validators: &Validators,
        accept: &'static str,
        max_body: u64,
        public_only: bool,
    ) -> Result<Response, FetchError> {
        let url = Url::parse(address)
            .map_err(|e| FetchError::Other(format!("bad address {address}: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::BadRedirect(address.to_string()));
        }
        let route = self.proxies.route(&url, None)?;
        let spec = GetSpec {
            accept,
            max_body,
            public_only,
        };
        self.send(&route, spec, url, validators).await
    }

    /// One GET along `route`, within the total timeout; a proxy's request is
    /// counted for its statistics and health.
    async fn send(
        &self,
        route: &Route,
        spec: GetSpec,
        url: Url,
        validators: &Validators,
    ) -> Result<Response, FetchError> {
        let client = match (route, spec.public_only) {
            (Route::Direct, false) => &self.client,
            (Route::Direct, true) => &self.public_client,
            (Route::Via(proxy), false) => &proxy.client,
            (Route::Via(proxy), true) => &proxy.public_client,
        };
        let started = Instant::now();
        let result = tokio::time::timeout(
            self.total_timeout,
            self.get_http(client, spec, url, validators),
        )
        .await
        .unwrap_or_else(|_| {
            Err(FetchError::Timeout(format!(
                "no complete answer within {} s",
                self.total_timeout.as_secs()
            )))
        });
        if let Route::Via(proxy) = route {
            self.proxies
                .record(proxy, started.elapsed(), result.as_ref().err());
        }
        result
    }

    async fn get_http(
        &self,
        client: &reqwest::Client,
        spec: GetSpec,
        mut url: Url,
        validators: &Validators,
    ) -> Result<Response, FetchError> {
        let started = Instant::now();
        let mut all_permanent = true;
        let mut redirects = 0;
        let response = loop {
            if spec.public_only {
                address::check_public(&url).map_err(FetchError::Forbidden)?;
            }
            let mut request = client
                .get(url.clone())
                .header(header::ACCEPT, spec.accept)
                .header(header::ACCEPT_ENCODING, "gzip, br, deflate");
            if let Some(etag) = &validators.etag {
                request = request.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &validators.last_modified {
                request = request.header(header::IF_MODIFIED_SINCE, lm);
            }
            let response = request.send().await.map_err(FetchError::from_reqwest)?;
            let status = response.status();
            if !status.is_redirection() || status.as_u16() == 304 {
                break response;
            }
            let Some(location) = response.headers().get(header::LOCATION) else {
                break response;
            };
            redirects += 1;
            if redirects > MAX_REDIRECTS {
                return Err(FetchError::TooManyRedirects);
            }
            let location = location.to_str().unwrap_or_default();
            let next = url
                .join(location)
                .map_err(|_| FetchError::BadRedirect(location.into()))?;
            if !matches!(next.scheme(), "http" | "https") {
                return Err(FetchError::BadRedirect(next.to_string()));
            }
            all_permanent &= matches!(status.as_u16(), 301 | 308);
            url = next;
        };
        let ms_headers = started.elapsed().as_millis() as u64;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let mut out = Response {
            status: Some(status),
            final_url: url.to_string(),
            redirected_to: (redirects > 0).then(|| url.to_string()),
            moved_permanently_to: (redirects > 0 && all_permanent).then(|| url.to_string()),
            etag: header_text(&headers, header::ETAG),
            last_modified: header_text(&headers, header::LAST_MODIFIED),
            content_type: header_text(&headers, header::CONTENT_TYPE),
            content_encoding: header_text(&headers, header::CONTENT_ENCODING),
            max_age: header_text(&headers, header::CACHE_CONTROL).and_then(|v| max_age(&v)),
            retry_after: header_text(&headers, header::RETRY_AFTER).and_then(|v| retry_after(&v)),
            ms_headers,
            ..Response::default()
        };
        if (200..300).contains(&status) {
            let body_started = Instant::now();
            out.body = read_body(response, spec.max_body).await?;
            out.ms_body = body_started.elapsed().as_millis() as u64;
        }
        Ok(out)
    }

    async fn read_file(&self, url: &Url) -> Result<Response, FetchError> {
        let path = url
            .to_file_path()
            .map_err(|_| FetchError::Other(format!("not a local file address: {url}")))?;
        let started = Instant::now();
        let meta = tokio::fs::metadata(&path)
            .await
            .map_err(|e| FetchError::Io(format!("{}: {e}", path.display())))?;
        if meta.len() > self.max_body {
            return Err(FetchError::TooLarge {
                limit: self.max_body,
            });
        }
        let body = tokio::fs::read(&path)
            .await
            .map_err(|e| FetchError::Io(format!("{}: {e}", path.display())))?;
        Ok(Response {
            status: None,
            final_url: url.to_string(),
            body,
            ms_body: started.elapsed().as_millis() as u64,
            ..Response::default()
        })
    }
}

/// Reads a body up to `max_body` bytes, stopping (and failing) as soon as
/// the announced length or the bytes received pass it.
async fn read_body(mut response: reqwest::Response, max_body: u64) -> Result<Vec<u8>, FetchError> {
    if response.content_length().is_some_and(|n| n > max_body) {
        return Err(FetchError::TooLarge { limit: max_body });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(FetchError::from_reqwest)? {
        if body.len() as u64 + chunk.len() as u64 > max_body {
            return Err(FetchError::TooLarge { limit: max_body });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

const ACCEPT_IMAGES: &str =
    "image/png, image/jpeg, image/gif, image/webp, image/svg+xml;q=0.9, image/*;q=0.5";
/// What a request for an article's web page accepts.
const ACCEPT_PAGES: &str = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5";

const ACCEPT_FEEDS: &str = "application/rss+xml, application/atom+xml, application/feed+json, \
    application/rdf+xml, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5";

/// A header's value as text (invalid UTF-8 replaced, white space trimmed),
/// as every header the refresher reads is taken. Public for the fuzz
/// targets and property tests only.
#[doc(hidden)]
pub fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .map(HeaderValue::as_bytes)
        .map(|b| String::from_utf8_lossy(b).trim().to_string())
}

/// `Cache-Control: max-age`, in seconds. Public for the fuzz targets and
/// property tests only.
#[doc(hidden)]
pub fn max_age(cache_control: &str) -> Option<u64> {
    cache_control.split(',').find_map(|d| {
        let (k, v) = d.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("max-age")
            .then(|| v.trim().trim_matches('"').parse().ok())?
            .map(|secs: u64| secs.min(MAX_HEADER_SECS))
    })
}

/// The longest wait a header may ask for (about 136 years, longer than any
/// feed lives): the refresher adds these seconds to a timestamp, and a
/// larger value (`max-age=9223372036854775807`) would overflow it.
pub const MAX_HEADER_SECS: u64 = u32::MAX as u64;

/// `Retry-After` as seconds from now: either a number or an HTTP date.
/// Public for the fuzz targets and property tests only.
#[doc(hidden)]
pub fn retry_after(value: &str) -> Option<u64> {
    if let Ok(secs) = value.trim().parse::<u64>() {
        return Some(secs.min(MAX_HEADER_SECS));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value.trim()).ok()?;
    let secs = (when.timestamp() - chrono::Utc::now().timestamp()).max(0) as u64;
    Some(secs.min(MAX_HEADER_SECS))
}

/// Removes the content coding of a body, stopping at `limit` decoded bytes.
pub fn decode_body(
    body: &[u8],
    content_encoding: Option<&str>,
    limit: u64,
) -> Result<Vec<u8>, FetchError> {
    let coding = content_encoding
        .unwrap_or("identity")
        .trim()
        .to_ascii_lowercase();
    let reader: Box<dyn Read + '_> = match coding.as_str() {
        "" | "identity" => {
            if body.len() as u64 > limit {
                return Err(FetchError::TooLarge { limit });
            }
            return Ok(body.to_vec());
        }
        "gzip" | "x-gzip" => Box::new(flate2::read::MultiGzDecoder::new(body)),
        "br" => Box::new(brotli_decompressor::Decompressor::new(body, 8192)),
        // "deflate" is meant to be zlib-wrapped; some servers send it raw.
        "deflate" if body.first().is_some_and(|b| b & 0x0f == 8) => {
            Box::new(flate2::read::ZlibDecoder::new(body))
        }
        "deflate" => Box::new(flate2::read::DeflateDecoder::new(body)),
        other => {
            return Err(FetchError::Encoding(format!(
                "unknown content coding {other}"
            )));
        }
    };
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit as usize));
    reader
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| FetchError::Encoding(format!("cannot decode {coding} body: {e}")))?;
    if out.len() as u64 > limit {
        return Err(FetchError::TooLarge { limit });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_gzip_bomb_stops_at_the_cap() {
        // 64 MiB of zeros: one compressed MiB repeated as 64 gzip members.
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&vec![0u8; 1 << 20]).unwrap();
        let bomb = enc.finish().unwrap().repeat(64);
        assert!(
            bomb.len() < 1 << 20,
            "a small download that decodes to 64 MiB"
        );
        let err = decode_body(&bomb, Some("gzip"), 4 << 20).unwrap_err();
        assert_eq!(err, FetchError::TooLarge { limit: 4 << 20 });
    }

    #[test]
    fn codings_round_trip() {
        let text = b"<rss version=\"2.0\"><channel><title>x</title></channel></rss>".repeat(20);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&text).unwrap();
        assert_eq!(
            decode_body(&gz.finish().unwrap(), Some("gzip"), 1 << 20).unwrap(),
            text
        );
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(&text).unwrap();
        assert_eq!(
            decode_body(&z.finish().unwrap(), Some("deflate"), 1 << 20).unwrap(),
            text
        );
        assert!(matches!(
            decode_body(b"x", Some("zstd-ish"), 10),
            Err(FetchError::Encoding(_))
        ));
    }

    #[test]
    fn header_values_are_read() {
        assert_eq!(max_age("public, max-age=3600"), Some(3600));
        assert_eq!(max_age("no-cache"), None);
        assert_eq!(retry_after("120"), Some(120));
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(0));
        // Found by fuzzing (fuzz/ headers): a wait the refresher cannot add
        // to the time without overflow is capped.
        assert_eq!(
            max_age("max-age=9223372036854775807"),
            Some(MAX_HEADER_SECS)
        );
        assert_eq!(retry_after("9223372036854775807"), Some(MAX_HEADER_SECS));
        assert_eq!(
            retry_after("Fri, 31 Dec 9999 23:59:59 GMT"),
            Some(MAX_HEADER_SECS)
        );
        assert_eq!(
            charset_of("text/xml; charset=\"ISO-8859-1\""),
            Some("ISO-8859-1")
        );
    }
}
