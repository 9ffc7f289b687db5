//! The placeholder for a week the model never delivered: deterministic, built from the outline title,
//! marked `fallback: true` so the app can offer to regenerate it.

use super::model::{Day, OutlineWeek, Week};

const DAYS: [(&str, &str); 7] = [
    ("Overview", "Read an introduction to {} and write down the key ideas in your own words."),
    ("Core concepts", "Study the core concepts of {} in the official documentation."),
    ("Guided practice", "Follow a hands-on tutorial on {} step by step."),
    ("Going deeper", "Work through a more advanced example of {} and note what surprised you."),
    ("Mini-project", "Build a small project that applies {}."),
    ("Practice and troubleshooting", "Solve practice exercises on {} and fix what breaks."),
    ("Review", "Review the week on {}, list open questions and plan next week."),
];

pub fn fallback_week(o: &OutlineWeek, hours: f64) -> Week {
    let days = DAYS
        .iter()
        .zip(1..)
        .map(|(&(title, task), day)| Day {
            day,
            title: cat!(title, ": ", &o.title),
            tasks: vec![crate::text::replace(task, "{}", &o.title)],
            resources: vec![cat!("Official documentation on ", &o.title)],
            hours,
        })
        .collect();
    Week { week: o.week, title: o.title.clone(), phase: o.phase.clone(), fallback: true, days }
}
