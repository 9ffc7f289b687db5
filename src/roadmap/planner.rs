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
    let size = size.max(1);
    let mut out = Vec::new();
    let mut w = 1;
    while w <= total {
        let resumed = finished(w);
        let mut end = w;
        while end < total && end + 1 - w < size && finished(end + 1) == resumed {
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
