//! Turns parsed model JSON into weeks and an outline: lenient about shapes (numbers as strings, task
//! objects), strict about what matters (week numbers, exactly 7 days numbered 1..7, titles, tasks).

use crate::json::{num, Value};

use super::model::{Day, OutlineWeek, Phase, Week};

/// Why a requested week is not usable (yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Days(usize),
    DayNumbers,
    NoTitle(u32),
    NoTasks(u32),
    /// The week came with the planned title of another week (that number): a model that lost its place
    /// writes an earlier week again.
    Repeats(u32),
    /// The answer did not contain the week.
    Missing,
    /// The answer was cut before the week was complete.
    Cut,
    /// The answer could not be read as JSON weeks.
    Unreadable,
}

impl Problem {
    /// For a correction prompt: "Week 5 had 6 days".
    pub fn had(&self) -> String {
        match self {
            Problem::Days(n) => cat!("had ", n, " days"),
            Problem::DayNumbers => "had days not numbered 1 to 7".into(),
            Problem::NoTitle(d) => cat!("had no title on day ", d),
            Problem::NoTasks(d) => cat!("had no tasks on day ", d),
            Problem::Repeats(w) => cat!("repeated week ", w, " instead of following the plan"),
            Problem::Missing => "was missing".into(),
            Problem::Cut => "was cut off".into(),
            Problem::Unreadable => "was not readable JSON".into(),
        }
    }

    /// For a fallback warning: "the model returned 6 days".
    pub fn model_did(&self) -> String {
        match self {
            Problem::Days(n) => cat!("the model returned ", n, " days"),
            Problem::DayNumbers => "the model numbered the days wrongly".into(),
            Problem::NoTitle(d) => cat!("the model returned day ", d, " without a title"),
            Problem::NoTasks(d) => cat!("the model returned day ", d, " without tasks"),
            Problem::Repeats(w) => cat!("the model wrote week ", w, " again"),
            Problem::Missing => "the model left the week out".into(),
            Problem::Cut => "the answer was cut off before the week was complete".into(),
            Problem::Unreadable => "the answer was not readable JSON".into(),
        }
    }

    /// Whether a precise correction prompt can fix it (a week that came but is wrong).
    pub fn correctable(&self) -> bool {
        matches!(self, Problem::Days(_) | Problem::DayNumbers | Problem::NoTitle(_) | Problem::NoTasks(_) | Problem::Repeats(_))
    }
}

/// A stable sort by a `u32` key, like `sort_by_key`, with one instance of the sort code for every type:
/// `(key, index)` pairs are all distinct, so any sort orders them the same way.
fn sort_by_number<T>(v: &mut Vec<T>, key: impl Fn(&T) -> u32) {
    let mut order: Vec<(u32, usize)> = v.iter().map(key).zip(0..).collect();
    heapsort(&mut order);
    let mut slots: Vec<Option<T>> = v.drain(..).map(Some).collect();
    v.extend(order.iter().filter_map(|&(_, i)| slots[i].take()));
}

/// In place, O(n log n) for any input. `core`'s sort costs ~4 KB of wasm for lists of a few dozen items.
pub fn heapsort(a: &mut [(u32, usize)]) {
    fn sift(a: &mut [(u32, usize)], mut root: usize, end: usize) {
        loop {
            let mut child = 2 * root + 1;
            if child >= end {
                return;
            }
            if child + 1 < end && a[child] < a[child + 1] {
                child += 1;
            }
            if a[root] >= a[child] {
                return;
            }
            a.swap(root, child);
            root = child;
        }
    }
    for i in (0..a.len() / 2).rev() {
        sift(a, i, a.len());
    }
    for end in (1..a.len()).rev() {
        a.swap(0, end);
        sift(a, 0, end);
    }
}

/// The number a week object gives itself, if any.
pub fn week_number(v: &Value) -> Option<u32> {
    number(v.get("week"))
}

fn number(v: Option<&Value>) -> Option<u32> {
    match v? {
        Value::Number(n) => num::whole(*n),
        Value::String(s) => {
            let digits: String =
                s.chars().skip_while(|c| !c.is_ascii_digit()).take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        }
        _ => None,
    }
    .and_then(|n| u32::try_from(n).ok())
}

/// A title or a name, on one line: each is shown in later prompts, one per line, and in a page's headings.
fn title(v: Option<&Value>) -> String {
    super::options::one_line(&text(v))
}

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => num::f64_to_string(*n),
        Some(Value::Object(o)) => ["title", "task", "name", "description", "text", "url"]
            .iter()
            .find_map(|k| o.get(k).and_then(Value::as_str))
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

fn texts(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a.iter().map(|x| text(Some(x))).filter(|s| !s.is_empty()).collect(),
        Some(other) => Some(text(Some(other))).filter(|s| !s.is_empty()).into_iter().collect(),
        None => Vec::new(),
    }
}

fn hours(v: Option<&Value>, default: f64) -> f64 {
    let h = match v {
        Some(Value::Number(n)) => Some(*n),
        // "2.5 hours", "3h": the number the text starts with.
        Some(Value::String(s)) => {
            let s = s.trim_start();
            num::parse_f64(crate::text::slice(s, ..s.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(s.len())))
        }
        _ => None,
    };
    h.filter(|h| (0.0..=DAY_HOURS).contains(h)).unwrap_or(default)
}

/// The most hours a day can hold: a model's figure above it is no plan, and is read as the default.
pub const DAY_HOURS: f64 = 24.0;

/// The first problem of a week, or `None` when it is complete.
pub fn week_problem(w: &Week) -> Option<Problem> {
    if w.days.len() != 7 {
        return Some(Problem::Days(w.days.len()));
    }
    for (d, i) in w.days.iter().zip(1..) {
        if d.day != i {
            return Some(Problem::DayNumbers);
        }
        if let Some(p) = day_problem(d) {
            return Some(p);
        }
    }
    None
}

/// A day without a title or without a task (named by its own number).
fn day_problem(d: &Day) -> Option<Problem> {
    if d.title.trim().is_empty() {
        Some(Problem::NoTitle(d.day))
    } else if d.tasks.iter().all(|t| t.trim().is_empty()) {
        Some(Problem::NoTasks(d.day))
    } else {
        None
    }
}

fn read_day_list(v: Option<&Value>, default_hours: f64) -> Vec<Day> {
    let Some(Value::Array(a)) = v else { return Vec::new() };
    a.iter()
        .map(|d| Day {
            day: number(d.get("day")).unwrap_or(0),
            title: title(d.get("title")),
            tasks: texts(d.get("tasks")),
            resources: texts(d.get("resources")),
            hours: hours(d.get("hours"), default_hours),
        })
        .collect()
}

/// Days numbered `first..` in some order are put in order; numbered otherwise, they are renumbered by position.
fn number_days(days: &mut Vec<Day>, first: u32) {
    let bit = |n: u32| 1u64.checked_shl(n).unwrap_or(0);
    // Each number sets its bit: the same bits as first..first+len means exactly those numbers, in some order.
    let want = (first..first + days.len() as u32).fold(0, |m, i| m | bit(i));
    if days.iter().fold(0, |m, d| m | bit(d.day)) == want {
        sort_by_number(days, |d| d.day);
    } else {
        days.iter_mut().zip(first..).for_each(|(d, i)| d.day = i);
    }
}

/// Days `first..=last` of a week written in parts: `{"days":[..]}`, a bare array, or a week object.
/// Exactly that many days, each with a title and a task, numbered in order (renumbered by position when the
/// model numbered them otherwise, e.g. from 1); `None` when the answer is not usable.
pub fn read_days(v: &Value, first: u32, last: u32, default_hours: f64) -> Option<Vec<Day>> {
    let list = match v {
        Value::Array(_) => Some(v),
        _ => v.get("days").or_else(|| week_values(v)?.first()?.get("days")),
    };
    let mut days = read_day_list(list, default_hours);
    if days.len() != (last + 1 - first) as usize {
        return None;
    }
    number_days(&mut days, first);
    days.iter().all(|d| day_problem(d).is_none()).then_some(days)
}

/// One week object as the model wrote it: its own number (if any), the week, and its problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub number: Option<u32>,
    pub week: Week,
    pub problem: Option<Problem>,
}

/// Reads a week leniently. Seven days numbered otherwise are put in order or renumbered by position.
pub fn read_week(v: &Value, default_hours: f64) -> Candidate {
    let num = number(v.get("week"));
    let mut days = read_day_list(v.get("days"), default_hours);
    if days.len() == 7 {
        number_days(&mut days, 1);
    }
    let week = Week {
        week: num.unwrap_or(0),
        title: title(v.get("title")),
        phase: text(v.get("phase")),
        fallback: false,
        days,
    };
    let problem = week_problem(&week);
    Candidate { number: num, week, problem }
}

/// The week objects in an answer: `{"weeks":[..]}`, a bare array, or a single week object.
pub fn week_values(v: &Value) -> Option<Vec<&Value>> {
    match v {
        Value::Array(a) => Some(a.iter().filter(|x| x.is_object()).collect()),
        Value::Object(o) => match o.get("weeks") {
            Some(Value::Array(a)) => Some(a.iter().filter(|x| x.is_object()).collect()),
            _ if o.contains_key("days") => Some(vec![v]),
            _ => o.values().find_map(|x| if x.is_object() { week_values(x) } else { None }),
        },
        _ => None,
    }
}

/// Judges a usable candidate as week `n` of the plan, as the streamed weeks and [`read_batch`] both take it: one
/// that came with another week's planned title repeats that week.
pub fn check_in_plan(c: &mut Candidate, n: u32, outline: &[OutlineWeek]) {
    if c.problem.is_none() {
        c.problem = repeats(&c.week.title, n, outline).map(Problem::Repeats);
    }
}

/// The other week whose planned title week `n` came with, when that is not (the start of) its own: the
/// model wrote that week again. An outline that repeats a title plans it for both weeks, so it passes.
fn repeats(title: &str, n: u32, outline: &[OutlineWeek]) -> Option<u32> {
    let title = title.trim().as_bytes();
    let own = outline.get((n as usize).checked_sub(1)?)?.title.trim().as_bytes();
    if title.is_empty() || own.get(..title.len()).is_some_and(|start| start.eq_ignore_ascii_case(title)) {
        return None;
    }
    outline.iter().find(|o| o.title.trim().as_bytes().eq_ignore_ascii_case(title)).map(|o| o.week)
}

/// Sets the number, and takes the title (if empty) and the phase from the plan.
pub fn finish_week(mut w: Week, number: u32, outline: &[OutlineWeek]) -> Week {
    w.week = number;
    if let Some(o) = outline.get(number as usize - 1) {
        if w.title.is_empty() {
            w.title = o.title.clone();
        }
        w.phase = o.phase.clone();
    }
    w
}

/// What one answer gave for the weeks `first..=last` it was asked for.
#[derive(Debug, Default, PartialEq)]
pub struct BatchRead {
    /// Complete weeks, numbered within the request.
    pub weeks: Vec<Week>,
    /// Requested weeks that came but are wrong.
    pub problems: Vec<(u32, Problem)>,
    /// What was renumbered or dropped (for warnings).
    pub notes: Vec<String>,
}

/// Reads the week objects of an answer for the request `first..=last`.
/// Count right but numbers off (in increasing order) → renumbered in order, unless the titles say the
/// numbers were right: more weeks carry the planned title of their number than of their place, or as many
/// and some numbers are requested ones. Otherwise weeks outside the request and repeats are dropped (the
/// first usable copy wins).
pub fn read_batch(items: &[&Value], first: u32, last: u32, outline: &[OutlineWeek], default_hours: f64) -> BatchRead {
    let mut out = BatchRead::default();
    let mut cands: Vec<Candidate> = items.iter().map(|v| read_week(v, default_hours)).collect();
    let count = (last - first + 1) as usize;
    let numbers: Vec<u32> = cands.iter().filter_map(|c| c.number).collect();
    let in_order = numbers.windows(2).all(|p| p[0] < p[1]);
    let expected = cands.iter().zip(first..).all(|(c, n)| c.number == Some(n));
    let planned = |c: &Candidate, n: u32| {
        let title = c.week.title.trim();
        !title.is_empty()
            && (n as usize).checked_sub(1).and_then(|i| outline.get(i)).is_some_and(|o| o.title.trim().eq_ignore_ascii_case(title))
    };
    let by_place = cands.iter().zip(first..).filter(|(c, n)| planned(c, *n)).count();
    let by_number = cands.iter().filter(|c| c.number.is_some_and(|n| planned(c, n))).count();
    let requested = numbers.iter().any(|n| (first..=last).contains(n));
    let numbers_right = by_number > by_place || (by_number == by_place && requested);
    if cands.len() == count && in_order && !expected && !numbers_right {
        let got: Vec<String> = cands.iter().map(|c| c.number.map_or("?".into(), |n| num::u64_to_string(n.into()))).collect();
        out.notes.push(cat!("renumbered weeks ", crate::text::join(got.iter().map(String::as_str), ", "), " to ", first, '-', last));
        cands.iter_mut().zip(first..).for_each(|(c, n)| c.number = Some(n));
    }
    for c in &mut cands {
        if let Some(n) = c.number.filter(|n| (first..=last).contains(n)) {
            check_in_plan(c, n, outline);
        }
    }
    let mut taken = vec![false; count];
    let mut used = vec![false; cands.len()];
    // Usable copies first, so that a broken duplicate never hides a good one.
    for pass in [true, false] {
        for (c, used) in cands.iter().zip(used.iter_mut()) {
            let Some(n) = c.number.filter(|n| (first..=last).contains(n)) else { continue };
            let slot = &mut taken[(n - first) as usize];
            if *used || *slot || c.problem.is_none() != pass {
                continue;
            }
            (*slot, *used) = (true, true);
            match &c.problem {
                None => out.weeks.push(finish_week(c.week.clone(), n, outline)),
                Some(p) => out.problems.push((n, p.clone())),
            }
        }
    }
    for (c, _) in cands.iter().zip(&used).filter(|(_, u)| !**u) {
        out.notes.push(match c.number {
            Some(n) if (first..=last).contains(&n) => cat!("dropped a duplicate of week ", n),
            Some(n) => cat!("dropped week ", n, ", which was not requested"),
            None => "dropped a week without a week number".into(),
        });
    }
    sort_by_number(&mut out.weeks, |w| w.week);
    out
}

/// Phases and per-week titles, normalised: phases clamped to cover `1..=total` in order without gaps,
/// a title for every week (from the phase name when missing), each week's phase from the ranges.
pub fn read_outline(v: &Value, total: u32) -> Option<(Vec<Phase>, Vec<OutlineWeek>, Vec<String>)> {
    let mut notes = Vec::new();
    let mut phases: Vec<Phase> = v
        .get("phases")?
        .as_array()?
        .iter()
        .map(|p| Phase {
            name: title(p.get("name")),
            start_week: number(p.get("startWeek")).unwrap_or(0),
            end_week: number(p.get("endWeek")).unwrap_or(0),
            goal: text(p.get("goal")),
        })
        .filter(|p| !p.name.is_empty())
        .collect();
    let items = v.get("weeks").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    if phases.is_empty() || items.is_empty() {
        return None;
    }
    sort_by_number(&mut phases, |p| p.start_week);
    let mut changed = false;
    let mut next = 1;
    phases.retain_mut(|p| {
        if next > total {
            changed = true;
            return false;
        }
        let end = p.end_week.clamp(next, total);
        changed |= p.start_week != next || p.end_week != end;
        p.start_week = next;
        p.end_week = end;
        next = end + 1;
        true
    });
    if let Some(last) = phases.last_mut() {
        changed |= last.end_week != total;
        last.end_week = total;
    }
    if changed {
        notes.push(cat!("Outline: phase ranges adjusted to cover weeks 1-", total, " in order"));
    }
    let positional = items.len() == total as usize;
    let mut titles = vec![String::new(); total as usize];
    for (i, item) in items.iter().enumerate() {
        let n = number(item.get("week")).or(positional.then_some(i as u32 + 1));
        if let Some(slot) = n.filter(|n| (1..=total).contains(n)).map(|n| &mut titles[n as usize - 1]) {
            if slot.is_empty() {
                *slot = title(item.get("title"));
            }
        }
    }
    let mut missing = Vec::new();
    // Over the titles, not `1..=total`: a `RangeInclusive`'s size hint may be unbounded, which links a panic.
    let outline = titles
        .into_iter()
        .zip(1..)
        .map(|(mut title, week)| {
            let phase = phases.iter().find(|p| p.end_week >= week).unwrap_or(&phases[0]);
            if title.is_empty() {
                // `num`'s writer, not `u32::to_string`: its own digit code would be one more copy in the wasm.
                missing.push(num::u64_to_string(week.into()));
                title = cat!(&phase.name, " (week ", week - phase.start_week + 1, ')');
            }
            OutlineWeek { week, title, phase: phase.name.clone() }
        })
        .collect();
    if !missing.is_empty() {
        notes.push(cat!("Outline: no title for week ", crate::text::join(missing.iter().map(String::as_str), ", "), "; used the phase name"));
    }
    Some((phases, outline, notes))
}

/// The part of a streaming outline that is already certain: `v` is the answer so far, closed after its last
/// complete week entry. Returns the phases (normalised as [`read_outline`] will normalise them in the end),
/// the outline as known so far, and `k`: weeks `1..=k` have their own numbered, titled entry. `None` while
/// the phases have not all arrived (they come first in the answer) or no week entry has.
pub fn read_outline_prefix(v: &Value, total: u32) -> Option<(Vec<Phase>, Vec<OutlineWeek>, u32)> {
    let items = v.get("weeks")?.as_array()?;
    let known = items
        .iter()
        .zip(1..=total)
        .take_while(|(item, n)| number(item.get("week")) == Some(*n) && !text(item.get("title")).is_empty())
        .count() as u32;
    if known == 0 {
        return None;
    }
    let (phases, outline, _) = read_outline(v, total)?;
    Some((phases, outline, known))
}
