//! The time that rules read: when a feed is next due, until when a server
//! asked to be left alone (`Retry-After`), when a failed image may be tried
//! again, and the start of a fetch record. A [`Clock`] is handed to whoever
//! applies such a rule, so that a test can move time forward instead of
//! sleeping. Durations that are only measured (milliseconds per stage) use
//! `std::time::Instant` and are not the clock's business.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// The wall clock, or a hand-set one in tests. Clones share their time.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// Milliseconds since the Unix epoch, when set by hand.
    manual: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system's wall clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A clock that stands at `start_ms` until it is moved.
    pub fn manual(start_ms: i64) -> Clock {
        Clock {
            manual: Some(Arc::new(AtomicI64::new(start_ms))),
        }
    }

    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        match &self.manual {
            Some(ms) => ms.load(Ordering::Relaxed),
            None => chrono::Utc::now().timestamp_millis(),
        }
    }

    /// Seconds since the Unix epoch.
    pub fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// Moves a hand-set clock (and its clones) forward; the system clock
    /// cannot be moved, so this panics on one.
    pub fn advance(&self, by: Duration) {
        let ms = self
            .manual
            .as_ref()
            .expect("only a manual clock can be moved");
        ms.fetch_add(by.as_millis() as i64, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_its_clones_follow() {
        let clock = Clock::manual(1_000_000);
        let clone = clock.clone();
        assert_eq!((clock.now_ms(), clock.now_secs()), (1_000_000, 1000));
        clock.advance(Duration::from_secs(3600));
        assert_eq!(clone.now_secs(), 1000 + 3600);
    }

    #[test]
    fn the_system_clock_is_the_wall_clock() {
        let before = chrono::Utc::now().timestamp_millis();
        let now = Clock::system().now_ms();
        assert!((before..before + 60_000).contains(&now));
    }
}
