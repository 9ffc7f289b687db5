//! When and how long to wait before trying a request again.
//! Only transient failures retry; Google's `RetryInfo` wins over our own backoff.

use crate::gemini::Transport;
use crate::Error;

/// The longest `RetryInfo.retryDelay` we wait out (per-minute quotas ask for up to a minute).
pub const MAX_RETRY_INFO_WAIT_MS: u64 = 5 * 60 * 1000;

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
            // A wait this long is a quota, not a hiccup: fail now and let the caller resume later.
            if ms > MAX_RETRY_INFO_WAIT_MS {
                return None;
            }
            // Google said how long; a little extra spreads concurrent clients without undercutting it.
            return Some(ms.saturating_add((random * 250.0) as u64));
        }
        let exp = self.base_delay_ms.saturating_mul(1u64 << (retry - 1).min(20)).min(self.max_delay_ms);
        Some(exp / 2 + (random * (exp / 2) as f64) as u64)
    }
}

/// What a retry looked like, for progress reports.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryNotice {
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
    let mut attempt = 1;
    loop {
        match op(attempt).await {
            Ok(v) => return Ok(v),
            Err(err) => {
                let Some(delay_ms) = policy.delay_ms(attempt, &err, transport.random()) else {
                    return Err(err);
                };
                on_retry(&RetryNotice { attempt, delay_ms, reason: err.text() });
                transport.sleep(delay_ms).await?;
                attempt += 1;
            }
        }
    }
}
