//! `responseJsonSchema` for the outline and for a batch of weeks: standard JSON Schema, every field
//! required, exactly as many weeks as asked and exactly 7 days per week.

use crate::json::Value;

const STR: &str = r#"{"type":"string"}"#;
const INT: &str = r#"{"type":"integer"}"#;

fn obj(props: &[(&str, &str)]) -> String {
    let mut p = String::new();
    let mut r = String::new();
    for (i, (k, v)) in props.iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        put!(p, sep, '"', *k, "\":", *v);
        put!(r, sep, '"', *k, '"');
    }
    cat!(r#"{"type":"object","properties":{"#, p, r#"},"required":["#, r, "]}")
}

fn array(items: &str, min: u32, max: Option<u32>) -> String {
    let max = max.map(|m| cat!(",\"maxItems\":", m)).unwrap_or_default();
    cat!(r#"{"type":"array","items":"#, items, r#","minItems":"#, min, max, '}')
}

fn parse(s: String) -> Value {
    // Built from the constants above, so always valid; a test parses every schema.
    Value::parse(&s).unwrap_or_default()
}

/// `{"phases":[{name,startWeek,endWeek,goal}],"weeks":[{week,title,phase}] x total}`.
pub fn outline_schema(total: u32) -> Value {
    let phase = obj(&[("name", STR), ("startWeek", INT), ("endWeek", INT), ("goal", STR)]);
    let week = obj(&[("week", INT), ("title", STR), ("phase", STR)]);
    parse(obj(&[("phases", &array(&phase, 1, Some(total))), ("weeks", &array(&week, total, Some(total)))]))
}

/// `[{day,title,tasks,resources,hours}] x count`.
fn days(count: u32) -> String {
    let day = obj(&[
        ("day", INT),
        ("title", STR),
        ("tasks", &array(STR, 1, None)),
        ("resources", &array(STR, 0, None)),
        ("hours", r#"{"type":"number"}"#),
    ]);
    array(&day, count, Some(count))
}

/// `{"weeks":[{week,title,phase,days:[{day,title,tasks,resources,hours}] x 7}] x count}`.
pub fn weeks_schema(count: u32) -> Value {
    let week = obj(&[("week", INT), ("title", STR), ("phase", STR), ("days", &days(7))]);
    parse(obj(&[("weeks", &array(&week, count, Some(count)))]))
}

/// `{"days":[{day,title,tasks,resources,hours}] x count}`: one part of a week.
pub fn days_schema(count: u32) -> Value {
    parse(obj(&[("days", &days(count))]))
}

/// `schema` without its item counts (`minItems`, `maxItems`), at every depth. Gemini refuses some schemas with
/// array bounds, nested ones most of all, with a bare 400 (or "too many states for serving"); the counts are
/// checked on every answer anyway, and the prompt states them.
pub fn without_counts(schema: &mut Value) {
    match schema {
        Value::Object(m) => {
            m.0.retain(|(k, _)| k != "minItems" && k != "maxItems");
            m.0.iter_mut().for_each(|(_, v)| without_counts(v));
        }
        Value::Array(items) => items.iter_mut().for_each(without_counts),
        _ => {}
    }
}
