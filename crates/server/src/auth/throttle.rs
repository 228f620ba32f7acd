//! In-memory limits: login back-off per username and per client address,
//! and a token bucket for the public API. Per instance, which is enough to
//! make guessing slow; a proxy in front can add more.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures before back-off starts, and the longest wait.
const FREE_FAILURES: u32 = 3;
const MAX_WAIT: Duration = Duration::from_mins(15);

/// Failures of one key (an address, or an account tried from devices it
/// does not know), and whether a refusal of the current wait was reported.
struct Failures {
    count: u32,
    last: Instant,
    refusal_reported: bool,
}

#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, Failures>>,
}

impl LoginThrottle {
    /// How long the key must still wait before another attempt.
    pub fn wait(&self, key: &str, now: Instant) -> Option<Duration> {
        let map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let f = map.get(key)?;
        let delay = backoff(f.count)?;
        let allowed_at = f.last + delay;
        (allowed_at > now).then(|| allowed_at - now)
    }

    /// Notes an attempt refused while `key` waits; `true` only for the
    /// first refusal since its last failure, so that a flood of refused
    /// attempts writes one log line and one audit row, not one each.
    pub fn refused(&self, key: &str) -> bool {
        let mut map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get_mut(key)
            .is_some_and(|f| !std::mem::replace(&mut f.refusal_reported, true))
    }

    pub fn failed(&self, key: &str, now: Instant) {
        let mut map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Forget keys that stopped failing long ago, so the map stays small.
        if map.len() > 10_000 {
            map.retain(|_, f| now.duration_since(f.last) < MAX_WAIT);
        }
        let entry = map.entry(key.to_owned()).or_insert(Failures {
            count: 0,
            last: now,
            refusal_reported: false,
        });
        entry.count += 1;
        entry.last = now;
        entry.refusal_reported = false;
    }

    pub fn succeeded(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(key);
    }
}

/// 1 s after the fourth failure, doubling up to fifteen minutes.
fn backoff(failures: u32) -> Option<Duration> {
    if failures < FREE_FAILURES {
        return None;
    }
    let exp = (failures - FREE_FAILURES).min(10);
    Some(Duration::from_secs(1u64 << exp).min(MAX_WAIT))
}

/// A token bucket per key: `burst` requests at once, refilled at `per_minute`.
pub struct RateLimit {
    burst: f64,
    per_second: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimit {
    pub fn new(burst: u32, per_minute: u32) -> Self {
        Self {
            burst: f64::from(burst),
            per_second: f64::from(per_minute) / 60.0,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token; `Err(wait)` when the bucket is empty.
    pub fn take(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut map = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() > 100_000 {
            map.clear();
        }
        let (tokens, last) = map.entry(key.to_owned()).or_insert((self.burst, now));
        let refill = now.duration_since(*last).as_secs_f64() * self.per_second;
        *tokens = (*tokens + refill).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / self.per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_failures_back_off_and_success_forgives() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..3 {
            t.failed("anna", now);
        }
        assert!(t.wait("anna", now).is_some());
        assert!(t.wait("anna", now + Duration::from_secs(2)).is_none());
        for _ in 0..5 {
            t.failed("anna", now);
        }
        assert!(t.wait("anna", now + Duration::from_secs(20)).is_some());
        t.succeeded("anna");
        assert!(t.wait("anna", now).is_none());
    }

    #[test]
    fn only_the_first_refusal_of_a_wait_is_reported() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..3 {
            t.failed("addr:1", now);
        }
        assert!(t.refused("addr:1"));
        assert!(!t.refused("addr:1"));
        t.failed("addr:1", now);
        assert!(t.refused("addr:1"), "a new failure starts a new wait");
        assert!(!t.refused("addr:unknown"));
    }

    #[test]
    fn a_bucket_empties_and_refills() {
        let r = RateLimit::new(2, 60);
        let now = Instant::now();
        assert!(r.take("ip", now).is_ok());
        assert!(r.take("ip", now).is_ok());
        assert!(r.take("ip", now).is_err());
        assert!(r.take("ip", now + Duration::from_secs(1)).is_ok());
        assert!(r.take("other", now).is_ok());
    }
}
