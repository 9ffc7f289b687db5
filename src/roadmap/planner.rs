//! Which weeks go in which request: batches of `batchWeeks` over the missing weeks (finished weeks of
//! a resumed roadmap are skipped), and smaller contiguous requests for what a batch still lacks.

/// One planned batch: weeks `start..=end`, or a run of weeks taken from `resumeFrom`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planned {
    pub start: u32,
    pub end: u32,
    pub resumed: bool,
}

/// Cuts weeks `1..=total` into runs of finished / missing weeks, each cut into pieces of at most `size`.
pub fn plan(total: u32, size: u32, finished: &dyn Fn(u32) -> bool) -> Vec<Planned> {
    cut(total, size, finished, None)
}

/// [`plan`] with the first missing week in a batch of its own: the parallel strategy writes it in parts
/// ([`day_parts`]), so the first week arrives after a fraction of a week's output instead of a whole one.
pub fn plan_with_lead(total: u32, size: u32, finished: &dyn Fn(u32) -> bool) -> Vec<Planned> {
    cut(total, size, finished, (1..=total).find(|&w| !finished(w)))
}

fn cut(total: u32, size: u32, finished: &dyn Fn(u32) -> bool, alone: Option<u32>) -> Vec<Planned> {
    let size = size.max(1);
    let mut out = Vec::new();
    let mut w = 1;
    while w <= total {
        let resumed = finished(w);
        let mut end = w;
        while end < total && end + 1 - w < size && finished(end + 1) == resumed && Some(end) != alone {
            end += 1;
        }
        out.push(Planned { start: w, end, resumed });
        w = end + 1;
    }
    out
}

/// The next request for a batch whose weeks `missing` (ascending) are still to come: the first missing
/// week and the contiguous missing weeks after it, at most `size` in all.
pub fn next_range(missing: &[u32], size: u32) -> (u32, u32) {
    let first = missing[0];
    let mut end = first;
    for &w in &missing[1..] {
        if w != end + 1 || end + 1 - first >= size.max(1) {
            break;
        }
        end = w;
    }
    (first, end)
}

/// After a truncated answer: half as many weeks per request (rounded up), at least one.
pub fn halve(weeks: u32) -> u32 {
    weeks.div_ceil(2).max(1)
}

/// Days 1 to 7 in `parts` contiguous ranges (1 to 7 of them), the longer ranges first.
pub fn day_parts(parts: u32) -> Vec<(u32, u32)> {
    let parts = parts.clamp(1, 7);
    let mut first = 1;
    (0..parts)
        .map(|k| {
            let last = first + 7 / parts - u32::from(k >= 7 % parts);
            let range = (first, last);
            first = last + 1;
            range
        })
        .collect()
}
