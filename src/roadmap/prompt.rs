//! What Gemini is told: the system instruction, the outline prompt, and the batch prompt (the plan,
//! the sliding window of the last days done, the weeks wanted), ending with a machine-readable
//! `TASK:` line. `userId` is never part of any prompt.

use super::model::{Day, OutlineWeek, Phase, Week};

pub const SYSTEM_INSTRUCTION: &str = "You are an expert curriculum designer. You write practical, \
week-by-week and day-by-day learning roadmaps for people preparing for a job role.\n\
Reply with JSON only, in exactly the shape asked for: no markdown, no code fences, no commentary.\n\
Every week has exactly 7 days numbered 1 to 7. Every day has a short title, 2 to 5 concrete, doable tasks, \
1 to 3 resources (official docs, books, courses or tools, by name) and the hours to spend.\n\
Follow the plan you are given: keep each week's title and phase, build on the days the learner has just \
finished, and never repeat earlier material.";

/// Who the roadmap is for.
#[derive(Debug, Clone, Copy)]
pub struct Learner<'a> {
    pub role: &'a str,
    pub total_weeks: u32,
    pub level: Option<&'a str>,
    pub hours_per_day: Option<f64>,
}

/// What a batch prompt needs besides the learner.
#[derive(Debug, Clone, Copy)]
pub struct WeeksRequest<'a> {
    pub phases: &'a [Phase],
    pub outline: &'a [OutlineWeek],
    pub first: u32,
    pub last: u32,
    /// The last finished week before `first`; its last `context_days` days form the window.
    pub previous: Option<&'a Week>,
    pub context_days: usize,
    /// The week after `last`, when it is already written (regenerating one week).
    pub next: Option<&'a Week>,
    /// "week 5 had 6 days": asks for the week again, saying what was wrong.
    pub correction: Option<&'a str>,
}

/// The planned weeks on either side of a request, for a batch that runs without the previous batch's days
/// (the parallel strategy): their titles and phases say where the request starts and where it must stop.
#[derive(Debug, Clone, Copy, Default)]
pub struct Neighbours<'a> {
    pub before: Option<&'a OutlineWeek>,
    pub after: Option<&'a OutlineWeek>,
}

/// At most this many week titles in a batch prompt: every title up to 12 weeks; beyond that, the titles
/// around the request. The phases already give the whole arc, so prompts stay the same size at 12 weeks
/// and at 52 instead of growing with the roadmap.
pub const MAX_TITLES: u32 = 12;
/// Of those, how many come after the request (the rest come before it).
pub const TITLES_AFTER: u32 = 3;

/// The weeks whose titles a prompt for `first..=last` lists (all of them when the roadmap is short).
pub fn title_window(first: u32, last: u32, total: u32) -> (u32, u32) {
    if total <= MAX_TITLES {
        return (1, total);
    }
    let to = (last + TITLES_AFTER).min(total);
    (first.min((to + 1).saturating_sub(MAX_TITLES).max(1)), to)
}

/// A planned week as the prompts name it: `Week 5 (Terraform Basics, phase Infrastructure as Code)`.
/// Inlined: as a call of its own it made the wasm 0.1 KB bigger.
#[inline(always)]
fn planned_week(s: &mut String, w: &OutlineWeek) {
    put!(s, "Week ", w.week, " (", &w.title, ", phase ", &w.phase, ')');
}

fn header(l: &Learner) -> String {
    let mut s = cat!("Role: ", l.role, '\n');
    if let Some(level) = l.level {
        put!(s, "Level: ", level, '\n');
    }
    if let Some(h) = l.hours_per_day {
        put!(s, "Hours per day: ", crate::json::num::f64_to_string(h), '\n');
    }
    put!(s, "Total weeks: ", l.total_weeks, '\n');
    s
}

/// `written`: weeks finished before there was a plan (a resumed run whose outline never completed), whose
/// titles the plan must keep.
pub fn outline_prompt(l: &Learner, written: &[&Week]) -> String {
    let n = l.total_weeks;
    let mut s = cat!(
        header(l),
        "\nPlan a ",
        n,
        "-week learning roadmap for this role. Split the weeks into consecutive phases (3 to 6, never more than ",
        n,
        ") that together cover weeks 1 to ",
        n,
        " in order without gaps or overlaps; give each phase a name, startWeek, endWeek and a one-sentence goal. \
         Then give every week from 1 to ",
        n,
        " a distinct, specific title and the name of its phase.\n\
         Return {\"phases\":[{\"name\",\"startWeek\",\"endWeek\",\"goal\"}],\"weeks\":[{\"week\",\"title\",\"phase\"}]} \
         with exactly ",
        n,
        " weeks.\n",
    );
    if !written.is_empty() {
        s.push_str("\nThese weeks are already written: keep their titles exactly, and plan the other weeks around them.\n");
        for w in written {
            put!(s, w.week, ". ", &w.title, '\n');
        }
    }
    s.push_str("\nTASK: OUTLINE");
    s
}

fn days_line(s: &mut String, days: &[Day], tasks: bool) {
    for d in days {
        put!(s, "Day ", d.day, ": ", &d.title);
        if tasks && !d.tasks.is_empty() {
            put!(s, " — ", crate::text::join(d.tasks.iter().map(String::as_str), "; "));
        }
        s.push('\n');
    }
}

pub fn weeks_prompt(l: &Learner, r: &WeeksRequest) -> String {
    weeks_prompt_with(l, r, &Neighbours::default())
}

fn plan_lines(s: &mut String, phases: &[Phase]) {
    s.push_str("\nThe plan:\n");
    for p in phases {
        put!(s, "- ", &p.name, " (weeks ", p.start_week, '-', p.end_week, "): ", &p.goal, '\n');
    }
}

fn window_lines(s: &mut String, w: &Week, context_days: usize) {
    let k = context_days.min(w.days.len());
    put!(s, "\nThe learner has just finished these days of week ", w.week, " (", &w.title, "):\n");
    days_line(s, &w.days[w.days.len() - k..], true);
}

const DAY_FIELDS: &str =
    "\"day\", \"title\", \"tasks\" (2 to 5 concrete tasks), \"resources\" (1 to 3 named docs, books or \
     courses) and \"hours\" (a number).";

fn pitch(s: &mut String, l: &Learner) {
    if let Some(level) = l.level {
        put!(s, " Pitch it at ", level, " level.");
    }
    if let Some(h) = l.hours_per_day {
        put!(s, " Plan about ", crate::json::num::f64_to_string(h), " hours per day.");
    }
}

/// [`weeks_prompt`] plus the planned neighbouring weeks (used when `previous` is not available).
pub fn weeks_prompt_with(l: &Learner, r: &WeeksRequest, n: &Neighbours) -> String {
    let mut s = header(l);
    plan_lines(&mut s, r.phases);
    s.push_str("Week titles:\n");
    let (from, to) = title_window(r.first, r.last, l.total_weeks.max(r.outline.len() as u32));
    for o in r.outline.iter().filter(|o| (from..=to).contains(&o.week)) {
        put!(s, o.week, ". ", &o.title, '\n');
    }
    if from > 1 || (to as usize) < r.outline.len() {
        s.push_str("(Only the weeks around this request are listed; the phases show the rest of the plan.)\n");
    }
    let window = r.previous.filter(|_| r.context_days > 0);
    if let Some(w) = window {
        window_lines(&mut s, w, r.context_days);
    } else if let Some(b) = n.before {
        s.push('\n');
        planned_week(&mut s, b);
        s.push_str(" comes just before and is written separately: start where it leaves off, without repeating it.\n");
    }
    if let (Some(a), None) = (n.after, r.next) {
        let gap = if window.is_none() && n.before.is_none() { "\n" } else { "" };
        s.push_str(gap);
        planned_week(&mut s, a);
        s.push_str(" comes just after and is written separately: leave its material to it.\n");
    }
    if let Some(w) = r.next {
        let k = r.context_days.clamp(1, 7).min(w.days.len());
        put!(s, "\nWeek ", w.week, " (", &w.title, ") follows and begins with:\n");
        days_line(&mut s, &w.days[..k], false);
    }
    let (a, b) = (r.first, r.last);
    let (what, task) = if a == b {
        (cat!("week ", a), cat!("WEEK ", a))
    } else {
        (cat!("weeks ", a, '-', b), cat!("WEEKS ", a, '-', b))
    };
    put!(
        s,
        "\nWrite ",
        what,
        " in full, following the plan titles and continuing from where the learner is. Return {\"weeks\":[...]} \
         with exactly ",
        if a == b { "1 week".to_string() } else { cat!(b - a + 1, " weeks") },
        ", numbered ",
        a,
        " to ",
        b,
        " in order. Each week has \"week\" (its number), \"title\", \"phase\" and \"days\": exactly 7 days numbered \
         1 to 7, each with ",
        DAY_FIELDS,
    );
    pitch(&mut s, l);
    if let Some(c) = r.correction {
        put!(
            s,
            "\nCorrection: ",
            c,
            ". Return it again with exactly 7 days numbered 1 to 7, each with a title and at least one concrete task.",
        );
    }
    put!(s, "\n\nTASK: ", task);
    s
}

/// One part of a week that is written in parts, by concurrent requests (the parallel strategy's first week).
#[derive(Debug, Clone, Copy)]
pub struct DaysRequest<'a> {
    pub phases: &'a [Phase],
    pub week: &'a OutlineWeek,
    /// The planned week after it, if any.
    pub next: Option<&'a OutlineWeek>,
    /// The week before, when it was finished before the run (a resumed roadmap): the window comes from it.
    pub previous: Option<&'a Week>,
    pub context_days: usize,
    pub from: u32,
    pub to: u32,
}

/// The prompt for days `from..=to` of one week. It lists only the phases and the week's own plan, so it can be
/// sent as soon as the outline has streamed that far.
pub fn days_prompt(l: &Learner, r: &DaysRequest) -> String {
    let mut s = header(l);
    plan_lines(&mut s, r.phases);
    let (w, a, b) = (r.week, r.from, r.to);
    s.push('\n');
    planned_week(&mut s, w);
    s.push_str(
        " is written in parts, by separate requests at the same time. Its days go from the week's fundamentals \
         on day 1, through hands-on practice, to a review on day 7.\n",
    );
    if let Some(p) = r.previous.filter(|_| r.context_days > 0) {
        window_lines(&mut s, p, r.context_days);
    }
    if a > 1 {
        put!(s, days_come(1, a - 1), " before and written separately: build on them without repeating them.\n");
    }
    if b < 7 {
        put!(s, days_come(b + 1, 7), " after and written separately: leave the rest of the week to them.\n");
    }
    if let Some(n) = r.next {
        put!(s, "Week ", n.week, " (", &n.title, ") comes after this week: leave its material to it.\n");
    }
    let (what, task) = if a == b {
        (cat!("day ", a), cat!("DAY ", a))
    } else {
        (cat!("days ", a, '-', b), cat!("DAYS ", a, '-', b))
    };
    put!(
        s,
        "\nWrite ",
        what,
        " of week ",
        w.week,
        " in full. Return {\"days\":[...]} with exactly ",
        if a == b { "1 day".to_string() } else { cat!(b - a + 1, " days") },
        " numbered ",
        a,
        " to ",
        b,
        " in order, each with ",
        DAY_FIELDS,
    );
    pitch(&mut s, l);
    put!(s, "\n\nTASK: WEEK ", w.week, ' ', task);
    s
}

/// "Day 7 comes" or "Days 4-7 come".
fn days_come(a: u32, b: u32) -> String {
    if a == b {
        cat!("Day ", a, " comes")
    } else {
        cat!("Days ", a, '-', b, " come")
    }
}

/// `a` or `a-b`.
pub fn span(a: u32, b: u32) -> String {
    if a == b {
        crate::json::num::u64_to_string(a.into())
    } else {
        cat!(a, '-', b)
    }
}
