//! When and how long to wait before trying a request again.
//! Only transient failures retry; Google's `RetryInfo` wins over our own backoff.

use crate::gemini::Transport;
use crate::Error;

/// The longest `RetryInfo.retryDelay` we wait out (per-minute quotas ask for up to a minute).
pub const MAX_RETRY_INFO_WAIT_MS: u64 = 5 * 60 * 1000;

/// Per-minute quota refusals waited out for one request before giving up (about a minute each), whatever else
/// failed in between.
pub const MAX_QUOTA_REFUSALS: u32 = 10;

/// One request's failed tries in a row. Failures count against `max_retries`; refusals by a per-minute quota
/// (a 429 that names its wait) only say "later", so they have a budget of their own: concurrent requests that
/// keep losing the race for a freed minute-slot must not fail the run.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tries {
    pub failures: u32,
    pub refusals: u32,
}

impl Tries {
    /// The number of the attempt about to run.
    pub fn next_attempt(&self) -> u32 {
        self.failures + self.refusals + 1
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub base_delay_ms: u64,
    pub max_delay_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_retries: 3, base_delay_ms: 1_000, max_delay_ms: 30_000 }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1-based), or `None` when `err` must not be retried.
    pub fn delay_ms(&self, retry: u32, err: &Error, random: f64) -> Option<u64> {
        if retry > self.max_retries || !err.is_transient() {
            return None;
        }
        if let Some(ms) = err.retry_delay_ms() {
            return asked_wait_ms(ms, random);
        }
        let exp = self.base_delay_ms.saturating_mul(1u64 << (retry - 1).min(20)).min(self.max_delay_ms);
        Some(exp / 2 + (random * (exp / 2) as f64) as u64)
    }

    /// Counts `err` in `tries` and returns the wait before trying again, or `None` to fail with it.
    pub fn next_delay_ms(&self, tries: &mut Tries, err: &Error, random: f64) -> Option<u64> {
        if is_minute_quota(err) {
            tries.refusals += 1;
            // Outside `max_retries`: even `maxRetries: 0` waits out a per-minute quota.
            return (tries.refusals <= MAX_QUOTA_REFUSALS).then(|| asked_wait_ms(err.retry_delay_ms()?, random)).flatten();
        }
        tries.failures += 1;
        self.delay_ms(tries.failures, err, random)
    }
}

/// The wait Google asked for, or `None` when it is too long to be more than a hiccup (a quota: fail now and let
/// the caller resume later). A little extra spreads concurrent clients without undercutting it.
fn asked_wait_ms(ms: u64, random: f64) -> Option<u64> {
    (ms <= MAX_RETRY_INFO_WAIT_MS).then(|| ms.saturating_add((random * 250.0) as u64))
}

/// A per-minute quota refusal that says how long to wait (a per-day or zero quota is not transient).
pub fn is_minute_quota(err: &Error) -> bool {
    matches!(err, Error::RateLimited { .. }) && err.is_transient() && err.retry_delay_ms().is_some()
}

/// What a retry looked like, for progress reports.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryNotice {
    /// The attempt about to run: the first retry is attempt 2.
    pub attempt: u32,
    pub delay_ms: u64,
    pub reason: String,
}

/// Runs `op` until it succeeds, fails for good, or the retries are spent; sleeps between tries.
pub async fn with_retries<T, R, F, Fut>(
    transport: &T,
    policy: &RetryPolicy,
    mut op: F,
    on_retry: &mut dyn FnMut(&RetryNotice),
) -> Result<R, Error>
where
    T: Transport,
    F: FnMut(u32) -> Fut,
    Fut: std::future::Future<Output = Result<R, Error>>,
{
    let mut tries = Tries::default();
    loop {
        match op(tries.next_attempt()).await {
            Ok(v) => return Ok(v),
            Err(err) => {
                let Some(delay_ms) = policy.next_delay_ms(&mut tries, &err, transport.random()) else {
                    return Err(err);
                };
                on_retry(&RetryNotice { attempt: tries.next_attempt(), delay_ms, reason: err.text() });
                transport.sleep(delay_ms).await?;
            }
        }
    }
}
