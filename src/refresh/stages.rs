//! The stages one feed goes through in a refresh, each a function the run
//! loop starts as a task: [`fetch_feed`] asks the server (or takes the answer
//! a subscription already has) and works out what the answer means for the
//! feed (validators, the next fetch time, `Retry-After`, gone, moved);
//! [`parse_document`] turns a 2xx body into a parsed feed through
//! [`read_answer`], the one path from an HTTP answer to a [`ParsedFeed`],
//! which `subscribe` takes too. Saving is the writer's.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Semaphore;

use crate::clock::Clock;
use crate::fetch::{FetchError, Fetcher, Response, Validators, decode_body, looks_like_html};
use crate::images::ImagesToFind;
use crate::model::{FetchRecord, ParsedFeed};
use crate::parse::{ParseError, parse_feed};
use crate::store::{FeedUpdate, FetchTarget};
use crate::text::sanitize_text;

/// What a feed task hands back to the writer.
pub(super) struct Fetched {
    pub target: FetchTarget,
    pub update: FeedUpdate,
    pub record: FetchRecord,
    /// A 2xx answer's body, until the parse stage takes it.
    pub document: Option<Response>,
    /// Held from the start of the parse until the feed is saved: parsed
    /// documents waiting for the writer are bounded by the parser permits.
    _parse_permit: Option<tokio::sync::OwnedSemaphorePermit>,
}

/// The network stage of one feed: the request (unless its `answer` is in hand
/// already) and what the answer means for the feed. A document to parse is
/// left in `document` for the parse stage.
pub(super) async fn fetch_feed(
    fetcher: &Fetcher,
    target: FetchTarget,
    answer: Option<Response>,
    interval_secs: i64,
    clock: &Clock,
) -> Fetched {
    let started = Instant::now();
    let mut fetched = Fetched::starting(target, clock);
    let validators = Validators {
        etag: fetched.target.etag.clone(),
        last_modified: fetched.target.last_modified.clone(),
    };
    let outcome = match answer {
        Some(answer) => Ok(answer),
        None => {
            let own_proxy = fetched.target.proxy.as_deref();
            let carried = fetcher
                .get_feed(&fetched.target.fetch_url, &validators, own_proxy)
                .await;
            fetched.record.proxy = carried.proxy;
            carried.result
        }
    };
    let now = clock.now_secs();
    let (record, update) = (&mut fetched.record, &mut fetched.update);
    let result: Result<(), FetchError> = match outcome {
        Err(e) => Err(e),
        Ok(response) => {
            record.http_status = response.status;
            record.content_type = response.content_type.clone();
            record.bytes_wire = response.body.len() as u64;
            record.ms_headers = response.ms_headers;
            record.ms_body = response.ms_body;
            record.redirect_to = response.redirected_to.clone();
            update.moved_to = response.moved_permanently_to.clone();
            update.etag = response.etag.clone();
            update.last_modified = response.last_modified.clone();
            let lower_bound = response.max_age.map(|s| s as i64);
            update.min_interval_secs = lower_bound;
            update.next_fetch_at = Some(now + interval_secs.max(lower_bound.unwrap_or(0)));
            update.rest_until = lower_bound.filter(|&b| b > 0).map(|b| now + b);
            match response.status {
                Some(304) => {
                    record.not_modified = true;
                    Ok(())
                }
                None | Some(200..=299) => {
                    fetched.document = Some(response);
                    Ok(())
                }
                Some(410) => {
                    update.gone = true;
                    Err(FetchError::Gone)
                }
                Some(status @ (429 | 503)) => {
                    // Without a Retry-After, wait a while anyway: the server said it is overloaded.
                    let default_wait = if status == 429 { 3600 } else { 600 };
                    let wait = response.retry_after.unwrap_or(default_wait);
                    update.retry_after_until = Some(now + wait as i64);
                    Err(FetchError::RateLimited {
                        status,
                        retry_after: response.retry_after,
                    })
                }
                Some(status) => Err(FetchError::Http {
                    status,
                    reason: reqwest::StatusCode::from_u16(status)
                        .ok()
                        .and_then(|s| s.canonical_reason())
                        .map(str::to_string),
                }),
            }
        }
    };
    if let Err(e) = result {
        fetched
            .update
            .next_fetch_at
            .get_or_insert(now + interval_secs);
        fetched.fail(e);
    }
    fetched.record.ms_total = started.elapsed().as_millis() as u64;
    fetched
}

/// The parse stage: waits for a parser permit (kept until the feed is saved),
/// then decodes and parses the document off the async threads.
pub(super) async fn parse_document(
    mut fetched: Fetched,
    parsers: Arc<Semaphore>,
    max_body: u64,
    images: ImagesToFind,
    interval_secs: i64,
    clock: Clock,
) -> Fetched {
    let Some(document) = fetched.document.take() else {
        return fetched;
    };
    fetched._parse_permit = Some(
        parsers
            .acquire_owned()
            .await
            .expect("semaphore never closed"),
    );
    match read_answer(document, max_body, images).await {
        Ok(read) => {
            fetched.record.bytes_decoded = read.bytes_decoded;
            fetched.record.ms_parse = read.ms_parse;
            let ttl = read.feed.ttl_minutes.map(|m| m as i64 * 60);
            let every = read.feed.update_every_minutes.map(|m| m as i64 * 60);
            let bound = fetched.update.min_interval_secs.max(ttl).max(every);
            fetched.update.min_interval_secs = bound;
            let now = clock.now_secs();
            fetched.update.next_fetch_at = Some(now + interval_secs.max(bound.unwrap_or(0)));
            fetched.update.rest_until = bound.filter(|&b| b > 0).map(|b| now + b);
            fetched.record.warning = read.feed.warning.as_deref().map(sanitize_text);
            fetched.update.parsed = Some(read.feed);
        }
        Err(unreadable) => fetched.fail(unreadable.into()),
    }
    // Time spent queued for a parser is not the feed's: count the work itself.
    fetched.record.ms_total += fetched.record.ms_parse;
    fetched
}

impl Fetched {
    /// A feed not asked for, since its `host` stopped answering in this run:
    /// recorded as such and due again after the usual interval.
    pub(super) fn deferred(
        target: FetchTarget,
        host: &str,
        interval_secs: i64,
        clock: &Clock,
    ) -> Fetched {
        let mut fetched = Fetched::starting(target, clock);
        fetched.update.next_fetch_at = Some(clock.now_secs() + interval_secs);
        fetched.fail(FetchError::Deferred(host.to_string()));
        fetched
    }

    /// A fetch of `target` that starts now, with nothing known yet.
    fn starting(target: FetchTarget, clock: &Clock) -> Fetched {
        Fetched {
            target,
            update: FeedUpdate::default(),
            record: FetchRecord {
                started_at_ms: clock.now_ms(),
                ..FetchRecord::default()
            },
            document: None,
            _parse_permit: None,
        }
    }

    /// Whether the request reached the feed's host (see
    /// `ErrorKind::means_host_unreachable`). A request a proxy carried says
    /// nothing sure about the host: the proxy is rested for its failures
    /// instead (see `fetch::proxy`).
    pub(super) fn reached(&self) -> bool {
        self.record.proxy.is_some()
            || !self
                .record
                .error_kind
                .is_some_and(|kind| kind.means_host_unreachable())
    }

    /// Records a failure. The stored validators stay as they were: the next
    /// fetch must bring the document again.
    pub(super) fn fail(&mut self, e: FetchError) {
        tracing::info!(feed = %self.target.fetch_url, "fetch failed: {e}");
        self.record.error_kind = Some(e.kind());
        self.record.error_message = Some(sanitize_text(&e.to_string()));
        self.update.etag = None;
        self.update.last_modified = None;
    }
}

/// A feed read from an answer, with what reading it cost.
#[derive(Debug)]
pub struct ReadFeed {
    pub feed: ParsedFeed,
    /// The body's size once its content coding is removed.
    pub bytes_decoded: u64,
    /// Milliseconds spent decoding and parsing.
    pub ms_parse: u64,
}

/// Why an answer gave no feed.
#[derive(Debug)]
pub enum Unreadable {
    /// The body could not be decoded (unknown coding, over the size limit).
    Body(FetchError),
    /// A web page, not a feed: its decoded HTML (to look for the feeds it
    /// announces) and what the parser said.
    WebPage { html: Vec<u8>, error: ParseError },
    /// Not a feed, or a malformed one.
    Parse(ParseError),
    /// The parser panicked on this document.
    Crashed,
}

impl From<Unreadable> for FetchError {
    fn from(unreadable: Unreadable) -> FetchError {
        match unreadable {
            Unreadable::Body(e) => e,
            Unreadable::WebPage { .. } => {
                FetchError::Parse("the address serves a web page, not a feed".into())
            }
            Unreadable::Parse(e) => FetchError::Parse(e.to_string()),
            Unreadable::Crashed => {
                FetchError::Parse("the feed parser crashed on this document".into())
            }
        }
    }
}

/// Turns an answer's body into a feed: removes its content coding (at most
/// `max_body` bytes), parses it with the charset the answer names, and finds
/// the images its articles show (`images`), all on a blocking thread, where a
/// panic of the parser fails this document only.
pub async fn read_answer(
    response: Response,
    max_body: u64,
    images: ImagesToFind,
) -> Result<ReadFeed, Unreadable> {
    let url = response.final_url.clone();
    let joined = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let decoded = decode_body(
            &response.body,
            response.content_encoding.as_deref(),
            max_body,
        )
        .map_err(Unreadable::Body)?;
        match parse_feed(&decoded, response.charset(), &response.final_url) {
            Ok(mut feed) => {
                images.find(&mut feed, &response.final_url);
                Ok(ReadFeed {
                    feed,
                    bytes_decoded: decoded.len() as u64,
                    ms_parse: started.elapsed().as_millis() as u64,
                })
            }
            Err(error @ ParseError::NotAFeed(_))
                if looks_like_html(&decoded, response.content_type.as_deref()) =>
            {
                Err(Unreadable::WebPage {
                    html: decoded,
                    error,
                })
            }
            Err(e) => Err(Unreadable::Parse(e)),
        }
    })
    .await;
    joined.unwrap_or_else(|e| {
        tracing::error!(feed = %url, "the feed parser panicked: {e}");
        Err(Unreadable::Crashed)
    })
}
