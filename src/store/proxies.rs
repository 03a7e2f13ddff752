//! What each proxy carried: every request (a feed, an image, a page) logged
//! by the fetcher and saved after each piece of work, and the figures
//! `tidings stats` and the `S` view show per proxy: requests, answers,
//! failures by kind, median latency. Only the newest [`KEPT_PROXY_REQUESTS`]
//! requests are kept.

use rusqlite::params;
use serde::Serialize;

use super::{Result, Store};
use crate::fetch::proxy::ProxyUse;

/// Requests kept in the log, all proxies together.
pub const KEPT_PROXY_REQUESTS: i64 = 50_000;

/// One proxy's figures over the kept requests.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProxyStats {
    pub proxy: String,
    pub requests: u64,
    /// Requests that got an answer (of any HTTP status).
    pub answered: u64,
    /// Requests that got none, by kind (`connect`, `timeout`, …), most first.
    pub failures: Vec<(String, u64)>,
    pub median_ms: Option<u64>,
    pub last_used_ms: i64,
}

impl ProxyStats {
    pub fn failed(&self) -> u64 {
        self.requests - self.answered
    }
}

impl Store {
    /// Saves the requests proxies carried, in one transaction, and forgets
    /// the oldest beyond what is kept.
    pub fn save_proxy_uses(&mut self, uses: &[ProxyUse]) -> Result<()> {
        if uses.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO proxy_requests (proxy, at_ms, error_kind, ms) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for u in uses {
                insert.execute(params![
                    u.proxy,
                    u.at_ms,
                    u.error_kind.map(|k| k.as_str()),
                    u.ms
                ])?;
            }
            tx.execute(
                "DELETE FROM proxy_requests WHERE id <= (SELECT max(id) FROM proxy_requests) - ?1",
                [KEPT_PROXY_REQUESTS],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Every proxy's figures, by address.
    pub fn proxy_stats(&self) -> Result<Vec<ProxyStats>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT proxy, count(*), count(*) - count(error_kind), max(at_ms)
             FROM proxy_requests GROUP BY proxy ORDER BY proxy",
        )?;
        let mut all = stmt
            .query_map([], |r| {
                Ok(ProxyStats {
                    proxy: r.get(0)?,
                    requests: r.get(1)?,
                    answered: r.get(2)?,
                    failures: Vec::new(),
                    median_ms: None,
                    last_used_ms: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut failures = self.conn.prepare_cached(
            "SELECT error_kind, count(*) FROM proxy_requests
             WHERE proxy = ?1 AND error_kind IS NOT NULL
             GROUP BY error_kind ORDER BY count(*) DESC, error_kind",
        )?;
        let mut median = self.conn.prepare_cached(
            "SELECT ms FROM proxy_requests WHERE proxy = ?1 ORDER BY ms LIMIT 1 OFFSET ?2",
        )?;
        for stats in &mut all {
            stats.failures = failures
                .query_map([&stats.proxy], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            stats.median_ms = median
                .query_row(params![stats.proxy, stats.requests / 2], |r| r.get(0))
                .ok();
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ErrorKind;

    fn used(proxy: &str, error_kind: Option<ErrorKind>, ms: u64) -> ProxyUse {
        ProxyUse {
            proxy: proxy.into(),
            at_ms: 1_000,
            error_kind,
            ms,
        }
    }

    #[test]
    fn each_proxy_is_counted_with_its_failures_by_kind_and_median() {
        let mut store = Store::open_in_memory().unwrap();
        store
            .save_proxy_uses(&[
                used("http://a:1", None, 40),
                used("http://a:1", None, 10),
                used("http://a:1", Some(ErrorKind::Timeout), 900),
                used("http://a:1", Some(ErrorKind::Connect), 2),
                used("http://a:1", Some(ErrorKind::Timeout), 800),
                used("socks5h://b:2", None, 7),
            ])
            .unwrap();
        let stats = store.proxy_stats().unwrap();
        assert_eq!(stats.len(), 2);
        let a = &stats[0];
        assert_eq!(
            (a.proxy.as_str(), a.requests, a.answered),
            ("http://a:1", 5, 2)
        );
        assert_eq!(a.failed(), 3);
        assert_eq!(
            a.failures,
            [("timeout".to_string(), 2), ("connect".to_string(), 1)]
        );
        assert_eq!(a.median_ms, Some(40));
        assert_eq!((stats[1].requests, stats[1].median_ms), (1, Some(7)));
    }
}
