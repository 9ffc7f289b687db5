//! The crate's own JSON layer (`json::Value`, `FromJson`/`ToJson`, `json::num`) against serde_json and the
//! serde derives that generate the TypeScript types: what JavaScript receives must be exactly what the
//! `.d.ts` describes, and what it sends must be read the same way (or rejected naming the field).
#![cfg(not(target_arch = "wasm32"))]

mod fuzz_support;
mod support;

use fuzz_support::{first_difference, same_value};
use gemini_roadmap::gemini::{GenerationConfig, Usage};
use gemini_roadmap::Error;
use gemini_roadmap::json::num::{f64_to_string, parse_f64, seconds_1dp};
use gemini_roadmap::json::{decode, DecodeError, FromJson, ToJson, Value as Ours};
use gemini_roadmap::roadmap::{Day, ProgressEvent, Roadmap, RoadmapOptions, Strategy as RunStrategy, Week};
use proptest::prelude::*;
use proptest::strategy::Strategy;
use serde_json::{json, Value};
use support::*;

/// `x` written by our `ToJson` means the same as `x` written by its serde derive.
#[track_caller]
fn same_as_serde<T: ToJson + serde::Serialize>(x: &T) {
    let text = x.to_json();
    let ours = Ours::parse(&text).unwrap_or_else(|e| panic!("our output is not JSON ({e:?}): {text}"));
    let serde = serde_json::to_value(x).unwrap();
    assert!(same_value(&ours, &serde), "ours differs from serde: {:?}", first_difference(&ours, &serde, ""));
    // And serde_json reads our text as the same value (not just the same shape).
    let reread: Value = serde_json::from_str(&text).unwrap();
    assert!(same_value(&ours, &reread), "serde_json reads our text otherwise: {:?}", first_difference(&ours, &reread, ""));
}

fn roadmap_and_events(o: &RoadmapOptions) -> (Roadmap, Vec<ProgressEvent>) {
    let t = gemini_roadmap::gemini::replay::ReplayTransport::with_responder(vec![], gemini());
    ok(&t, o)
}

#[test]
fn roadmaps_and_events_are_written_as_the_serde_derives_write_them() {
    let mut o = opts(7);
    o.user_id = Some("u-1".into());
    o.level = Some("Junior \"quoted\" \u{1F600}".into());
    o.hours_per_day = Some(1.75);
    for o in [opts(12), o] {
        let (rm, events) = roadmap_and_events(&o);
        same_as_serde(&rm);
        assert!(events.len() > 10);
        for e in &events {
            same_as_serde(e);
        }
        // Read back, as `resumeFrom` and `regenerateWeek` do: the same roadmap.
        assert_eq!(decode::<Roadmap>(&rm.to_json()).unwrap(), rm);
        assert_eq!(decode::<Roadmap>(&serde_json::to_string(&rm).unwrap()).unwrap(), rm);
    }
    same_as_serde(&Usage { prompt_tokens: 1, output_tokens: 2, thoughts_tokens: 3, cached_tokens: 4, total_tokens: 10, requests: 1 });
}

#[test]
fn options_are_read_as_serde_reads_them() {
    let o: RoadmapOptions = decode(
        r#"{"apiKey":"k","role":"DevOps","weeks":12,"batchWeeks":2,"contextDays":0,"maxRetries":1,"userId":"u",
            "level":"junior","hoursPerDay":1.5,"log":false,"history":"full","stream":false,"timeoutMs":5000,
            "strategy":"parallel","concurrency":3,"model":null,"baseUrl":"http://localhost:1","maxOutputTokens":8192}"#,
    )
    .unwrap();
    let via_serde: RoadmapOptions = serde_json::from_value(serde_json::to_value(&o).unwrap()).unwrap();
    assert_eq!(o, via_serde);
    assert_eq!((o.strategy, o.concurrency, o.hours_per_day, o.model), (Some(RunStrategy::Parallel), Some(3.0), Some(1.5), None));
    assert_eq!(o.max_output_tokens, Some(8192.0));
    // With a resumed roadmap inside.
    let (rm, _) = roadmap_and_events(&opts(3));
    let text = format!(r#"{{"apiKey":"k","role":"r","weeks":3,"resumeFrom":{}}}"#, rm.to_json());
    assert_eq!(decode::<RoadmapOptions>(&text).unwrap().resume_from, Some(rm));
}

#[track_caller]
fn decode_err<T: FromJson + std::fmt::Debug>(text: &str) -> DecodeError {
    decode::<T>(text).expect_err(text)
}

#[test]
fn decoding_errors_name_the_exact_field() {
    let base = r#""apiKey":"k","role":"r","weeks":3"#;
    let cases: [(String, &str, &str); 9] = [
        (format!("{{{base},\"wekks\":3}}"), "wekks", "unknown field; expected one of apiKey, role, weeks"),
        (r#"{"apiKey":"k","weeks":3}"#.into(), "role", "missing field"),
        (format!("{{{base},\"history\":\"everything\"}}"), "history", "expected one of windowed, full"),
        (format!("{{{base},\"stream\":\"yes\"}}"), "stream", "invalid type: expected a boolean, got a string"),
        (format!("{{{base},\"weeks\":\"3\"}}"), "weeks", "invalid type: expected a number, got a string"),
        (format!("{{{base},\"resumeFrom\":{{\"role\":\"r\"}}}}"), "resumeFrom.totalWeeks", "missing field"),
        (format!("{{{base},\"resumeFrom\":[]}}"), "resumeFrom", "invalid type: expected an object, got an array"),
        ("[1]".into(), "", "invalid type: expected an object, got an array"),
        ("{".into(), "", "expected a string key"),
    ];
    for (text, path, message) in cases {
        let e = decode_err::<RoadmapOptions>(&text);
        assert_eq!(e.path, path, "{text}");
        assert!(e.message.starts_with(message), "{text}: {}", e.message);
    }
    let (rm, _) = roadmap_and_events(&opts(3));
    let mut v: Value = serde_json::to_value(&rm).unwrap();
    v["weeks"][1]["days"][6]["day"] = json!(-1);
    assert_eq!(decode_err::<Roadmap>(&v.to_string()).path, "weeks[1].days[6].day");
    v["weeks"][1]["days"][6]["day"] = json!(7.5);
    assert_eq!(decode_err::<Roadmap>(&v.to_string()).path, "weeks[1].days[6].day");
    v["weeks"] = json!([{"week": 1}]);
    assert_eq!(decode_err::<Roadmap>(&v.to_string()).path, "weeks[0].title");
    assert_eq!(decode_err::<Vec<Day>>(r#"[{"day":1,"title":"t","tasks":[1]}]"#).path, "[0].tasks[0]");
    assert_eq!(decode_err::<u32>("4294967296").message, "expected a whole number from 0 to 2^32 - 1");
    assert_eq!(decode_err::<u64>("-1").message, "expected a whole number from 0 to 2^53");
    assert_eq!(decode_err::<u64>("1.5").message, "expected a whole number from 0 to 2^53");
    assert_eq!(decode::<u64>("9007199254740992"), Ok(1 << 53));
}

#[test]
fn generation_config_keeps_what_it_does_not_model_in_order() {
    let text = r#"{"topP":0.9,"temperature":0.5,"stopSequences":["x"],"thinkingConfig":{"thinkingBudget":-1},"seed":7}"#;
    let g: GenerationConfig = decode(text).unwrap();
    assert_eq!(g.temperature, Some(0.5));
    assert_eq!(g.thinking_config.as_ref().and_then(|t| t.thinking_budget), Some(-1));
    assert_eq!(g.to_json(), r#"{"temperature":0.5,"thinkingConfig":{"thinkingBudget":-1},"topP":0.9,"stopSequences":["x"],"seed":7}"#);
    assert_eq!(decode_err::<GenerationConfig>(r#"{"maxOutputTokens":-1}"#).path, "maxOutputTokens");
    // Inside `thinkingConfig` too: a misspelt `thinkingBudgett: 0` was dropped, leaving thinking on (and billed)
    // where Google would have refused the name (found by an exploratory test).
    let text = r#"{"thinkingConfig":{"thinkingBudgett":0,"includeThoughts":true,"futureKnob":{"a":1}}}"#;
    let g: GenerationConfig = decode(text).unwrap();
    assert_eq!(g.to_json(), r#"{"thinkingConfig":{"includeThoughts":true,"thinkingBudgett":0,"futureKnob":{"a":1}}}"#);
    assert_eq!(decode_err::<GenerationConfig>(r#"{"thinkingConfig":{"thinkingBudget":"x"}}"#).path, "thinkingConfig.thinkingBudget");
}

/// Google reads a proto field by its own (snake_case) name too: a budget and a level given under either spelling
/// are both set, which it refuses (400). They passed the local check, and each call failed at Google.
#[test]
fn a_budget_and_a_level_under_either_spelling_are_refused_before_sending() {
    let check = |thinking: &str| decode::<GenerationConfig>(&format!(r#"{{"thinkingConfig":{thinking}}}"#)).unwrap().check();
    for both in [
        r#"{"thinkingBudget":0,"thinkingLevel":"low"}"#,
        r#"{"thinking_budget":0,"thinkingLevel":"low"}"#,
        r#"{"thinkingBudget":0,"thinking_level":"LOW"}"#,
        r#"{"thinking_budget":1024,"thinking_level":"high"}"#,
    ] {
        let Err(Error::InvalidInput { field, .. }) = check(both) else { panic!("{both} passed") };
        assert_eq!(field, "generationConfig.thinkingConfig", "{both}");
    }
    // Google reads `generationConfig`'s own members under both names too (found by a review).
    for both in [r#"{"thinking_config":{"thinkingBudget":0,"thinkingLevel":"low"}}"#, r#"{"thinking_config":{"thinking_budget":0,"thinking_level":"low"}}"#] {
        let Err(Error::InvalidInput { field, .. }) = decode::<GenerationConfig>(both).unwrap().check() else { panic!("{both} passed") };
        assert_eq!(field, "generationConfig.thinkingConfig", "{both}");
    }
    assert!(decode::<GenerationConfig>(r#"{"max_output_tokens":0}"#).unwrap().check().is_err());
    // Read as the one field they are: sent under its JSON name, so that `sendJson`'s own `responseMimeType` is not
    // added beside a `response_mime_type`; both names at once are refused, naming the second.
    let g: GenerationConfig = decode(r#"{"response_mime_type":"text/plain","top_p":0.5,"thinking_config":{"include_thoughts":true}}"#).unwrap();
    assert_eq!(g.response_mime_type.as_deref(), Some("text/plain"));
    assert_eq!(g.to_json(), r#"{"responseMimeType":"text/plain","thinkingConfig":{"includeThoughts":true},"top_p":0.5}"#);
    let e = decode_err::<GenerationConfig>(r#"{"maxOutputTokens":5000,"max_output_tokens":6000}"#);
    assert_eq!((e.path.as_str(), e.message.as_str()), ("max_output_tokens", "names the same field as `maxOutputTokens`: give one of them"));
    assert_eq!(decode_err::<GenerationConfig>(r#"{"thinkingConfig":{"thinking_level":"low","thinkingLevel":"low"}}"#).path, "thinkingConfig.thinking_level");
    // One of them, or a level left unspecified (or null), is fine.
    for one in [
        r#"{"thinking_budget":0}"#,
        r#"{"thinking_level":"low","includeThoughts":true}"#,
        r#"{"thinkingBudget":0,"thinking_level":"THINKING_LEVEL_UNSPECIFIED"}"#,
        r#"{"thinking_budget":0,"thinkingLevel":"thinking_level_unspecified"}"#,
        r#"{"thinking_budget":0,"thinking_level":null}"#,
    ] {
        assert!(check(one).is_ok(), "{one}");
    }
}

#[test]
fn strict_parse_errors_are_positioned() {
    let cases = [
        ("", 0, "unexpected end of JSON"),
        ("{\"a\":1,}", 7, "expected a string key"),
        ("[1 2]", 3, "expected `,` or `]`"),
        ("{\"a\" 1}", 5, "expected `:`"),
        ("\"a\\x\"", 2, "bad escape in string"),
        ("\"a\nb\"", 2, "control character in string"),
        ("01", 0, "bad number"),
        ("1.", 0, "bad number"),
        ("-", 0, "bad number"),
        ("1e999", 0, "number out of range"),
        ("nul", 0, "expected a JSON value"),
        ("{} x", 3, "unexpected text after the JSON value"),
        ("\"abc", 4, "unterminated string"),
    ];
    for (text, position, message) in cases {
        let e = Ours::parse(text).expect_err(text);
        assert_eq!((e.position, e.message), (position, message), "{text:?}");
    }
    let deep = format!("{}{}", "[".repeat(129), "]".repeat(129));
    assert_eq!(Ours::parse(&deep).unwrap_err().message, "JSON nested too deeply");
    assert!(Ours::parse(&format!("{}{}", "[".repeat(128), "]".repeat(128))).is_ok());
    // Duplicate keys: the last one wins, as in `JSON.parse`.
    assert_eq!(Ours::parse(r#"{"a":1,"a":2}"#).unwrap().get("a").and_then(Ours::as_f64), Some(2.0));
    // Surrogate pairs join; a lone surrogate becomes U+FFFD.
    assert_eq!(Ours::parse(r#""\ud83d\ude00 \ud800x""#).unwrap().as_str(), Some("\u{1F600} \u{FFFD}x"));
}

#[test]
fn numbers_read_and_write_like_javascript() {
    for (text, want) in [
        ("5", Some(5.0)),
        ("-5", Some(-5.0)),
        ("+5", Some(5.0)),
        ("5.", Some(5.0)),
        (".5", Some(0.5)),
        ("1e3", Some(1000.0)),
        ("1.5E-2", Some(0.015)),
        ("123456789012345678", Some(123456789012345678.0)),
        ("", None),
        ("-", None),
        ("e5", None),
        ("1e", None),
        ("inf", None),
        ("0x10", None),
        ("1 ", None),
    ] {
        assert_eq!(parse_f64(text), want, "{text:?}");
    }
    for (n, want) in [(0.0, "0"), (-0.0, "0"), (7.0, "7"), (-7.0, "-7"), (1.5, "1.5"), (0.1, "0.1"), (f64::NAN, "null")] {
        assert_eq!(f64_to_string(n), want);
    }
    assert_eq!(f64_to_string(9007199254740993.0), "9007199254740992");
    assert_eq!(parse_f64(&f64_to_string(1e300)), Some(1e300));
    assert_eq!([seconds_1dp(0), seconds_1dp(49), seconds_1dp(50), seconds_1dp(1234), seconds_1dp(30_000)], ["0.0", "0.0", "0.1", "1.2", "30.0"]);
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[\"\\\\\\u{0}-\\u{1f}\\u{7f}\\u{2028}a-z ]{0,12}"]
}

prop_compose! {
    fn day()(day in 0u32..9, title in text(), tasks in prop::collection::vec(text(), 0..3),
             resources in prop::collection::vec(text(), 0..2), hours in prop_oneof![0.0..24.0f64, any::<f64>()]) -> Day {
        Day { day, title, tasks, resources, hours: if hours.is_finite() { hours } else { 1.0 } }
    }
}

prop_compose! {
    fn week()(week in 1u32..53, title in text(), phase in text(), fallback in any::<bool>(),
              days in prop::collection::vec(day(), 0..8)) -> Week {
        Week { week, title, phase, fallback, days }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_week_round_trips_and_matches_serde(w in week()) {
        same_as_serde(&w);
        prop_assert_eq!(decode::<Week>(&w.to_json()).unwrap(), w);
    }

    #[test]
    fn any_json_text_serde_writes_is_read_the_same(v in json_value()) {
        let text = v.to_string();
        let ours = Ours::parse(&text).unwrap();
        prop_assert!(same_value(&ours, &v));
        // Written back: serde_json reads the same value.
        prop_assert!(same_value(&ours, &serde_json::from_str(&ours.to_json()).unwrap()));
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((text(), inner), 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
