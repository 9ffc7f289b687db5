//! Table-driven tests for `repair_json` (input → exact output text, in the style of
//! josdejong/jsonrepair), plus repairs/truncation reporting, error positions and a linear-time
//! guard on pathological inputs.
#![cfg(not(target_arch = "wasm32"))]

use gemini_roadmap::json::{repair_json, Repair, Repaired};
use serde_json::Value;

#[track_caller]
fn check(input: &str, expected: &str) {
    match repair_json(input) {
        Ok(r) => {
            assert_eq!(r.json, expected, "input: {input:?}");
            assert!(
                serde_json::from_str::<Value>(&r.json).is_ok(),
                "not valid JSON: {:?}",
                r.json
            );
        }
        Err(e) => panic!("input {input:?}: unexpected error {e}"),
    }
}

fn repaired(input: &str) -> Repaired {
    repair_json(input).unwrap_or_else(|e| panic!("input {input:?}: {e}"))
}

#[test]
fn valid_json_is_unchanged() {
    for s in [
        "{}",
        "[]",
        "{\"a\":2.3e100,\"b\":\"str\",\"c\":null,\"d\":false,\"e\":[1,2,3]}",
        "[1, \"hi\", true, false, null, {}, []]",
        "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u260E\\ud83d\\ude00\"",
        "{\n  \"a\": [\n    1,\n    -2.5e-3\n  ],\n  \"b\": \"[1,2,3,]\"\n}",
        "\"{a:2,} // not a comment ```json\"",
        "\"```json\\n{\\\"a\\\": 1}\\n```\"",
        "-0",
        "\"Rounded \u{201c} quote\"",
    ] {
        let r = repaired(s);
        assert_eq!(
            r,
            Repaired {
                json: s.to_string(),
                repairs: vec![],
                truncated: false
            }
        );
    }
    // Surrounding whitespace is trimmed, nothing else.
    assert_eq!(repaired("  \n{\"a\": 1}\n\t").json, "{\"a\": 1}");
}

#[test]
fn fences_and_prose() {
    check("```json\n{\"a\":\"b\"}\n```", "{\"a\":\"b\"}");
    check("```\n[1,2,3]\n```", "[1,2,3]");
    check("```JSON\n{\"a\":1}\n```\n", "{\"a\":1}");
    check("```{\"a\":\"b\"}```", "{\"a\":\"b\"}");
    check("\n{\"a\":\"b\"}\n```", "{\"a\":\"b\"}");
    check(
        "Here is your roadmap:\n```json\n{\"weeks\": [{\"week\": 1}]}\n```\nLet me know if you want changes!",
        "{\"weeks\": [{\"week\": 1}]}",
    );
    check(
        "Sure! Here it is: {\"a\": 1} Hope this helps.",
        "{\"a\": 1}",
    );
    check("The plan [v2] below:\n[{\"week\": 1}]", "[{\"week\": 1}]");
    check("Hello {name}, the JSON is {\"a\": [1]}", "{\"a\": [1]}");
    // Unclosed opening fence: the model ran out of tokens.
    check(
        "```json\n{\"weeks\": [{\"week\": 1, \"title\": \"Own",
        "{\"weeks\": [{\"week\": 1, \"title\": \"Own\"}]}",
    );
    // A closing fence ends a broken value too.
    check("```json\n{\"a\": [1, 2\n```\nDone.", "{\"a\": [1, 2]}");
    check("{\"a\": [1, 2\n```\nDone.", "{\"a\": [1, 2]}");
    // Backticks inside strings are content, not fences.
    check(
        "{\"code\": \"```rust\\nfn main() {}\\n```\"}",
        "{\"code\": \"```rust\\nfn main() {}\\n```\"}",
    );
    // The first complete value wins.
    check("{\"a\": \"b\"} and also {\"c\": \"d\"}", "{\"a\": \"b\"}");
}

#[test]
fn commas() {
    check("[1,2,3,]", "[1,2,3]");
    check("{\"a\":2,}", "{\"a\":2}");
    check("{\"a\":2  ,  }", "{\"a\":2    }");
    check("[1,2,3,\n]", "[1,2,3\n]");
    check("{\"a\":1}, ", "{\"a\":1}");
    check("[,1,2]", "[1,2]");
    check("{,\"a\":1}", "{\"a\":1}");
    check("[1,,2]", "[1,2]");
    check("[1 2 3]", "[1, 2, 3]");
    check("{\"a\":2\n\"b\":3\n}", "{\"a\":2,\n\"b\":3\n}");
    check("{\"array\": [{}{}]}", "{\"array\": [{},{}]}");
    check(
        "[\n  {\"a\": 1}\n  {\"a\": 2}\n]",
        "[\n  {\"a\": 1},\n  {\"a\": 2}\n]",
    );
    check("[\"a\" \"b\"]", "[\"a\", \"b\"]");
}

#[test]
fn comments() {
    check("/* lead */ {\"a\": 1}", "{\"a\": 1}");
    check("{\"a\": 1 // one\n}", "{\"a\": 1\n}");
    check(
        "{\"a\": 1, # python style\n\"b\": 2}",
        "{\"a\": 1,\n\"b\": 2}",
    );
    check("{\"flag\":/*boolean*/true}", "{\"flag\":true}");
    check("[1, 2 /* unterminated", "[1, 2]");
    check("\"/* not a comment */\"", "\"/* not a comment */\"");
}

#[test]
fn quotes() {
    check("{'a': 'b'}", "{\"a\": \"b\"}");
    check(
        "{\u{201c}smart\u{201d}: \u{201c}quotes\u{201d}}",
        "{\"smart\": \"quotes\"}",
    );
    check("{\u{2018}a\u{2019}: \u{2018}b\u{2019}}", "{\"a\": \"b\"}");
    check("['Double \" quote']", "[\"Double \\\" quote\"]");
    check("{'a': 'it\\'s'}", "{\"a\": \"it's\"}");
    check(
        "{\"title\": \"He said \"hello\" to me\", \"n\": 1}",
        "{\"title\": \"He said \\\"hello\\\" to me\", \"n\": 1}",
    );
    check(
        "{\"t\": \"Learn \"ownership\", borrowing and lifetimes\", \"n\": 1}",
        "{\"t\": \"Learn \\\"ownership\\\", borrowing and lifetimes\", \"n\": 1}",
    );
    check(
        "{ \"height\": \"(5'3\")\" }",
        "{ \"height\": \"(5'3\\\")\" }",
    );
    // Missing end quote inside a complete document.
    check("[\"hello, world]", "[\"hello\", \"world\"]");
    check("{\"a\":\"b,\"c\":\"d\"}", "{\"a\":\"b\",\"c\":\"d\"}");
    check(
        "{\"url\":\"https://example.com/}",
        "{\"url\":\"https://example.com/\"}",
    );
    check("[\n\"abc,\n\"def\"\n]", "[\n\"abc\",\n\"def\"\n]");
    // Missing start quote.
    check("{a\":\"foo\"}", "{\"a\":\"foo\"}");
}

#[test]
fn unquoted_keys_and_values() {
    check("{a: 1, b_c: 2, $d: 3}", "{\"a\": 1, \"b_c\": 2, \"$d\": 3}");
    check("{\n  name: \"x\"\n}", "{\n  \"name\": \"x\"\n}");
    check("{greeting: hello world}", "{\"greeting\": \"hello world\"}");
    check("[a, b]", "[\"a\", \"b\"]");
    check(
        "{url: https://example.com/a, id: 2}",
        "{\"url\": \"https://example.com/a\", \"id\": 2}",
    );
    check(
        "{\"date\": 2024-10-18T18:35:22Z}",
        "{\"date\": \"2024-10-18T18:35:22Z\"}",
    );
    check("{\"a\" 1}", "{\"a\": 1}");
    check("{a = 1}", "{\"a\" : 1}");
}

#[test]
fn literals() {
    check(
        "{\"a\": True, \"b\": False, \"c\": None}",
        "{\"a\": true, \"b\": false, \"c\": null}",
    );
    check(
        "[undefined, NaN, Infinity, -Infinity]",
        "[null, null, null, null]",
    );
    check("[trueish, nullable]", "[\"trueish\", \"nullable\"]");
    check("True", "true");
}

#[test]
fn escapes_and_control_chars() {
    check(
        "{\"text\": \"line1\nline2\ttab\"}",
        "{\"text\": \"line1\\nline2\\ttab\"}",
    );
    check("\"a\u{1}b\"", "\"a\\u0001b\"");
    check("\"bad \\q escape\"", "\"bad q escape\"");
    check("\"lone \\ud83d surrogate\"", "\"lone \\ufffd surrogate\"");
    check("\"pair \\ud83d\\ude00\"", "\"pair \\ud83d\\ude00\"");
    check("\"bad \\uZ000\"", "\"bad uZ000\"");
    check("\"first\\\nsecond\"", "\"first\\nsecond\"");
    check("{\"key\nafter\": 1}", "{\"key\\nafter\": 1}");
}

#[test]
fn numbers() {
    check("[.5, -.5, 2., 1e, 1e+, -]", "[0.5, -0.5, 2, 1, 1, 0]");
    check("{\"zip\": 01234}", "{\"zip\": \"01234\"}");
    check("[0.0.1, 1.2.3]", "[\"0.0.1\", \"1.2.3\"]");
    check("[1e999]", "[\"1e999\"]");
    check(
        "[1.8e308, 0.5e309, 17976931348623157e292]",
        "[\"1.8e308\", \"0.5e309\", 17976931348623157e292]",
    );
    check(
        "[1.7976931348623157e308, 5e-324]",
        "[1.7976931348623157e308, 5e-324]",
    );
}

#[test]
fn brackets() {
    check("{\"a\": [1, 2}, \"b\": 3}", "{\"a\": [1, 2], \"b\": 3}");
    check(
        "{\"a\": {\"b\": 1], \"c\": 2}",
        "{\"a\": {\"b\": 1}, \"c\": 2}",
    );
    check("{\"a\":1}}}", "{\"a\":1}");
    check("[{\"i\":1{\"i\":2}]", "[{\"i\":1},{\"i\":2}]");
    check("[1,[}]", "[1,[]]");
    check("{\"a\":}", "{\"a\":null}");
    check("{\"a\":,\"b\":2}", "{\"a\":null,\"b\":2}");
    check("[1, 2, ...]", "[1, 2 ]");
    check("{\"a\": 1, ...}", "{\"a\": 1 }");
}

#[test]
fn truncation() {
    check("{\"a\":1,\"b\"", "{\"a\":1}");
    check("{\"a\":1,\"b\":", "{\"a\":1}");
    check("{\"a\":1,\"b", "{\"a\":1}");
    check("{\"a\":1,", "{\"a\":1}");
    check("{\"a\":1,\"b\":tr", "{\"a\":1,\"b\":true}");
    check("{\"a\":1,\"b\":nu", "{\"a\":1,\"b\":null}");
    check("[1.", "[1]");
    check("[1e-", "[1]");
    check("{\"a\":\"x\\u00", "{\"a\":\"x\"}");
    check("{\"a\":\"x\\", "{\"a\":\"x\"}");
    check("[\"a\", \"b", "[\"a\", \"b\"]");
    check("[[[[", "[[[[]]]]");
    check("\"just a string", "\"just a string\"");
    check(
        "{\"text\": \"ends with a comma,",
        "{\"text\": \"ends with a comma,\"}",
    );
    check("{\"a\": [1, 2, 3,\n", "{\"a\": [1, 2, 3]}");
    // Cut inside a string whose text ends with a bracket: the partial text is kept, and brackets the model
    // wrote inside it are not read as JSON.
    check(r#"{"weeks":[{"week":7,"title":"Terraform: {locals}"#, r#"{"weeks":[{"week":7,"title":"Terraform: {locals}"}]}"#);
    check(r#"{"title":"IaC [part 1]"#, r#"{"title":"IaC [part 1]"}"#);
    check(r#"["x","{\"a\":1}"#, r#"["x","{\"a\":1}"]"#);
    assert!(repaired(r#"{"title":"IaC [part 1]"#).truncated);
}

const ROADMAP: &str = r#"{"weeks":[{"week":1,"title":"Rust basics","days":[{"day":1,"title":"Setup","tasks":["Install rustup","Hello world"],"resources":["https://rust-lang.org"],"hours":2}]}]}"#;

#[test]
fn truncated_roadmap_at_many_points() {
    let cut = |marker: &str| {
        let at = ROADMAP.find(marker).unwrap_or_else(|| panic!("{marker}")) + marker.len();
        repaired(&ROADMAP[..at])
    };
    let table = [
        ("{", "{}"),
        ("{\"weeks\":[", "{\"weeks\":[]}"),
        ("{\"weeks\":[{", "{\"weeks\":[{}]}"),
        ("\"week\":1", "{\"weeks\":[{\"week\":1}]}"),
        ("\"week\":1,", "{\"weeks\":[{\"week\":1}]}"),
        ("\"tit", "{\"weeks\":[{\"week\":1}]}"),
        ("\"title\"", "{\"weeks\":[{\"week\":1}]}"),
        ("\"title\":", "{\"weeks\":[{\"week\":1}]}"),
        ("\"Rust ba", "{\"weeks\":[{\"week\":1,\"title\":\"Rust ba\"}]}"),
        ("\"days\":[{\"day\":1,", "{\"weeks\":[{\"week\":1,\"title\":\"Rust basics\",\"days\":[{\"day\":1}]}]}"),
        (
            "\"tasks\":[\"Install rustup\",",
            "{\"weeks\":[{\"week\":1,\"title\":\"Rust basics\",\"days\":[{\"day\":1,\"title\":\"Setup\",\"tasks\":[\"Install rustup\"]}]}]}",
        ),
        (
            "\"Hel",
            "{\"weeks\":[{\"week\":1,\"title\":\"Rust basics\",\"days\":[{\"day\":1,\"title\":\"Setup\",\"tasks\":[\"Install rustup\",\"Hel\"]}]}]}",
        ),
        ("\"https:/", "{\"weeks\":[{\"week\":1,\"title\":\"Rust basics\",\"days\":[{\"day\":1,\"title\":\"Setup\",\"tasks\":[\"Install rustup\",\"Hello world\"],\"resources\":[\"https:/\"]}]}]}"),
        ("\"hours\":", "{\"weeks\":[{\"week\":1,\"title\":\"Rust basics\",\"days\":[{\"day\":1,\"title\":\"Setup\",\"tasks\":[\"Install rustup\",\"Hello world\"],\"resources\":[\"https://rust-lang.org\"]}]}]}"),
        ("\"hours\":2", "{\"weeks\":[{\"week\":1,\"title\":\"Rust basics\",\"days\":[{\"day\":1,\"title\":\"Setup\",\"tasks\":[\"Install rustup\",\"Hello world\"],\"resources\":[\"https://rust-lang.org\"],\"hours\":2}]}]}"),
        ("\"hours\":2}]}", "{\"weeks\":[{\"week\":1,\"title\":\"Rust basics\",\"days\":[{\"day\":1,\"title\":\"Setup\",\"tasks\":[\"Install rustup\",\"Hello world\"],\"resources\":[\"https://rust-lang.org\"],\"hours\":2}]}]}"),
    ];
    for (marker, expected) in table {
        let r = cut(marker);
        assert_eq!(r.json, expected, "cut after {marker:?}");
        assert!(r.truncated, "cut after {marker:?}");
    }
    // Every cut: valid JSON, reported truncated, and the first week survives once it is complete.
    let week_done = ROADMAP.find("\"week\":1,").unwrap() + "\"week\":1".len();
    for at in 1..ROADMAP.len() {
        let r = repaired(&ROADMAP[..at]);
        assert!(r.truncated, "cut at {at}");
        let v: Value = serde_json::from_str(&r.json)
            .unwrap_or_else(|e| panic!("cut at {at}: {e}: {}", r.json));
        if at >= week_done {
            assert_eq!(v["weeks"][0]["week"], 1, "cut at {at}: {}", r.json);
        }
    }
    let full = repaired(ROADMAP);
    assert_eq!(
        (full.json.as_str(), full.repairs.len(), full.truncated),
        (ROADMAP, 0, false)
    );
}

#[test]
fn truncated_pretty_roadmap_in_a_fence() {
    let pretty =
        serde_json::to_string_pretty(&serde_json::from_str::<Value>(ROADMAP).unwrap()).unwrap();
    let answer = format!("Here is the plan:\n```json\n{pretty}\n```\n");
    let cut = answer.find("\"Hello world\"").unwrap() + 4;
    let r = repaired(&answer[..cut]);
    let v: Value = serde_json::from_str(&r.json).unwrap();
    assert_eq!(
        v["weeks"][0]["days"][0]["tasks"],
        serde_json::json!(["Install rustup", "Hel"])
    );
    assert_eq!(
        r.repairs,
        [
            Repair::StrippedFence,
            Repair::StrippedProse,
            Repair::ClosedString,
            Repair::ClosedContainer
        ]
    );
    assert!(r.truncated);
}

#[test]
fn repairs_are_reported_once_in_first_seen_order() {
    let r = repaired("```json\n{a: 'x', \"b\": [1, 2,], c: True, \"d\": 1 // c\n \"e\": 2}\n```");
    assert_eq!(
        r.repairs,
        [
            Repair::StrippedFence,
            Repair::UnquotedKey,
            Repair::SingleQuotes,
            Repair::TrailingComma,
            Repair::PythonLiteral,
            Repair::Comment,
            Repair::MissingComma,
        ]
    );
    assert!(!r.truncated);
    let names: Vec<_> = r.repairs.iter().map(Repair::as_str).collect();
    assert_eq!(
        names,
        [
            "fence",
            "unquoted-key",
            "single-quotes",
            "trailing-comma",
            "python-literal",
            "comment",
            "missing-comma"
        ]
    );

    let r = repaired("{\"a\":1,\"b\"");
    assert_eq!(
        r.repairs,
        [Repair::DroppedDanglingMember, Repair::ClosedContainer]
    );
    assert!(r.truncated);
    let r = repaired("[\"x");
    assert_eq!(r.repairs, [Repair::ClosedString, Repair::ClosedContainer]);
    let r = repaired("{\"t\": \"a\nb\", \"u\": \"say \"hi\" now\"}");
    assert_eq!(
        r.repairs,
        [Repair::EscapedControlChar, Repair::UnescapedQuote]
    );
    assert!(!r.truncated);
    // A missing end quote in a complete document is a repair, not truncation... unless the
    // text really ends inside the string.
    assert!(!repaired("{\"a\":\"b,\"c\":1}").truncated);
    assert!(repaired("[1, 2").truncated);
    assert!(!repaired("[1, 2]]").truncated);
}

#[test]
fn errors_for_text_without_json() {
    let cases = [
        ("", 0, "No JSON value found"),
        ("   \n", 4, "No JSON value found"),
        (
            "I'm sorry, I can't help with that.",
            0,
            "No JSON value found",
        ),
        ("  Note: the answer is below", 2, "No JSON value found"),
        ("```json\n```", 8, "No JSON value found"),
        ("]", 0, "Unexpected character ']'"),
        ("foo [", 0, "No JSON value found"),
    ];
    for (input, position, message) in cases {
        let e = repair_json(input).expect_err(input);
        assert_eq!(
            (e.position, e.message.as_str()),
            (position, message),
            "input {input:?}"
        );
        assert_eq!(e.to_string(), format!("{message} at position {position}"));
    }
}

/// JavaScript callers index strings in UTF-16 code units: `in_utf16` moves the byte position there.
#[test]
fn error_positions_in_utf16_code_units() {
    let cases = [("// ééé", 9, 6), ("😀😀\n```json\n```", 17, 13), ("```json\n```", 8, 8)];
    for (input, bytes, units) in cases {
        let e = repair_json(input).expect_err(input);
        assert_eq!(e.position, bytes, "{input:?}");
        let moved = e.in_utf16(input);
        assert_eq!(moved.position, units, "{input:?}");
        assert_eq!(input.encode_utf16().count() - units, input.len() - bytes, "{input:?}: the same text after it");
    }
    // Inside a char (never a repair position, but the conversion must not fail): the chars that start before it.
    assert_eq!(gemini_roadmap::text::utf16_offset("é😀", 1), 1);
    assert_eq!(gemini_roadmap::text::utf16_offset("é😀", 3), 3);
    assert_eq!(gemini_roadmap::text::utf16_offset("é😀", 99), 3);
}

#[test]
fn pathological_inputs_finish_in_linear_time() {
    // Each would be quadratic (or overflow a recursive parser) with a naive approach.
    let n = 1 << 20;
    let inputs = [
        "[".repeat(n),
        "{\"a\":".repeat(n / 5),
        format!("[\" x\" y {}]", "\"z\" w ".repeat(n / 7)),
        format!("[\"{}]", "a\")".repeat(n / 3)),
        format!("[{}]", "\"a,\"b ".repeat(n / 6)),
        format!("[{}]", "\"a\", b, ".repeat(n / 8)),
        format!("[\"a\" {}", "/*\" ".repeat(n / 4)),
        "{x ".repeat(n / 3),
        format!("[{}]", "\\\"a\\\" b, ".repeat(n / 9)),
        format!("[\\\"{}]", "x\\\\\" ".repeat(n / 5)),
        format!("[{}", "/a, ".repeat(n / 4)),
        "a(".repeat(n / 2),
        format!("\"{}", "\\".repeat(n)),
    ];
    for s in &inputs {
        let start = std::time::Instant::now();
        let r = repair_json(s);
        let took = start.elapsed();
        assert!(
            took.as_secs() < 10,
            "{took:?} for input starting {:?}",
            &s[..20]
        );
        if let Ok(r) = r {
            assert!(!r.json.is_empty());
        }
    }
    // Deep nesting works without recursion (serde_json itself stops at depth 128).
    let deep = repaired(&"[".repeat(100_000));
    assert_eq!(deep.json.len(), 200_000);
    assert!(deep.json.ends_with("]]]"));
}

fn value(input: &str) -> Value {
    let r = repaired(input);
    serde_json::from_str(&r.json).unwrap_or_else(|e| panic!("input {input:?}: invalid {e}: {}", r.json))
}

/// Fenced JSON after prose that holds a bracket (a citation `[1]`, `weeks[0]`, an example list) was passed over:
/// the bracket was taken as the JSON. So was the JSON after a fenced block of something else, or after a comment
/// opening it (found by a review).
#[test]
fn the_fenced_json_is_found_past_brackets_in_prose_other_blocks_and_comments() {
    let want = serde_json::json!({"weeks": [{"week": 1}]});
    let body = "{\"weeks\": [{\"week\": 1}]}";
    for prose in [
        "Based on best practices [1], here is the roadmap:",
        "Note: `weeks[0]` is the first week.",
        "Each day lists tasks (e.g. [\"task 1\", \"task 2\"]):",
        "The format is {\"weeks\": [...]}:",
        "Sure! Below is the JSON for weeks [1, 2, 3]:",
        "Here's how to call it:\n```bash\ncurl https://example.com\n```\nAnd the JSON:",
        "Run:\n```\nnpm install\n```\nthen [1]:",
    ] {
        assert_eq!(value(&format!("{prose}\n```json\n{body}\n```")), want, "prose {prose:?}");
        assert_eq!(value(&format!("{prose}\n  ```\n{body}\n```\nDone [2].")), want, "prose {prose:?}, untagged");
    }
    // A fenced shell example and then the JSON unfenced; a bracket that starts its line is the JSON, not a later fence.
    assert_eq!(value(&format!("Call:\n```sh\ncurl x\n```\nResult: {body}")), want);
    assert_eq!(value("Here:\n[1, 2]\n```json\n{\"a\": 1}\n```"), serde_json::json!([1, 2]));
    // A comment right after the opening bracket: the outer value, not the first inner one.
    assert_eq!(
        value("Here is the roadmap:\n[\n  /* Week 1 */\n  {\"week\": 1},\n  {\"week\": 2}\n]"),
        serde_json::json!([{"week": 1}, {"week": 2}])
    );
    assert_eq!(value("Here is the roadmap:\n{\n  // generated\n  \"weeks\": [{\"week\": 1}]\n}"), want);
    assert_eq!(value("Here you go:\n{ // the plan\n  \"a\": 1, \"b\": 2}"), serde_json::json!({"a": 1, "b": 2}));
    assert_eq!(value("Here:\n[ /**/ 1, 2]"), serde_json::json!([1, 2]));
    // `/*/` opens a comment without closing it: the bracket before it is not taken as the JSON's start.
    assert_eq!(value("Note [ /*/ ] then {\"a\": 1}"), serde_json::json!({"a": 1}));
    // A citation in prose is no comment: the JSON after it is the value.
    assert_eq!(value("See [#12] for details\n{\"a\": 1}"), serde_json::json!({"a": 1}));
}

/// A line starting with ``` inside a string (a code sample written with raw line breaks) ended the fence: the
/// string was cut there, a key made up from the next line, the rest lost and the answer reported truncated.
#[test]
fn backticks_starting_a_line_inside_a_fenced_string_do_not_close_the_fence() {
    let r = repaired("```json\n{\"code\": \"```rust\nfn main() {}\n```\", \"n\": 1}\n```");
    let v: Value = serde_json::from_str(&r.json).unwrap();
    assert_eq!(v, serde_json::json!({"code": "```rust\nfn main() {}\n```", "n": 1}), "{}", r.json);
    assert!(!r.truncated);
    // On the last line, text after the fence is prose after it.
    assert_eq!(value("```json\n{\"a\": 1}\n``` Hope this helps!"), serde_json::json!({"a": 1}));
}

/// A `\ud83d\ude00` pair cut after its high half became U+FFFD, a character the model never wrote; a cut `\u26`
/// is dropped, and so is the cut pair now. A lone high surrogate inside the text stays U+FFFD.
#[test]
fn an_escaped_surrogate_pair_cut_in_half_is_dropped() {
    for input in ["{\"title\": \"Setup \\ud83d", "{\"title\": \"Setup \\ud83d\\u", "{\"title\": \"Setup \\ud83d\\ude0", "{\"title\": \"Setup \\uD83D\\uDE"] {
        assert_eq!(value(input), serde_json::json!({"title": "Setup "}), "input {input:?}");
    }
    assert_eq!(value("{\"title\": \"a\\ud83d b\"}"), serde_json::json!({"title": "a\u{fffd} b"}));
    assert_eq!(value("{\"title\": \"a\\ud83d\\u0041"), serde_json::json!({"title": "a\u{fffd}A"}));
}
