//! Failures keep exactly the finished weeks; `resumeFrom` finishes the job without asking for them
//! (or for the outline) again. `regenerate_week` rewrites one week with one request.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use serde_json::json;
use support::*;

/// Runs 12 weeks where every request for `first..` fails with a 400, then resumes from the partial.
fn fail_then_resume(first: u32) -> (RoadmapError, ReplayTransport, Roadmap, Vec<ProgressEvent>) {
    let t = ReplayTransport::with_responder(
        vec![],
        gemini_with(move |_, _, task| {
            matches!(task, Task::Weeks { first: f, .. } if f == first)
                .then(|| Scripted::status(400, error_body(400, "INVALID_ARGUMENT", "bad", json!([]))))
        }),
    );
    let (e, _) = err(&t, &opts(12));
    // Through JSON, as the app would store it.
    let stored = serde_json::to_string(e.partial.as_ref().unwrap()).unwrap();
    let mut o = opts(12);
    o.resume_from = Some(serde_json::from_str(&stored).unwrap());
    let t2 = ReplayTransport::with_responder(vec![], gemini());
    let (rm, events) = ok(&t2, &o);
    assert_complete(&rm, 12);
    (e, t2, rm, events)
}

/// A resumed run numbers its batches from 1 (as its `batch-start` events do), so a warning saying "Batch 1" named
/// weeks 10-12 in a roadmap whose first batch is weeks 1-3: warnings name their weeks instead.
#[test]
fn warnings_of_a_resumed_run_name_their_weeks() {
    let (e, _, _, _) = fail_then_resume(10);
    let mut o = opts(12);
    o.resume_from = e.partial;
    let t = ReplayTransport::with_responder(
        vec![],
        gemini_with(|req, _, task| match task {
            Task::Weeks { first, last, .. } => {
                let mut v = weeks_value(first, last, 12);
                let again = v["weeks"][0].clone();
                v["weeks"].as_array_mut().unwrap().push(again);
                Some(answer(req, &pretty(&v), "STOP"))
            }
            _ => None,
        }),
    );
    let (rm, _) = ok(&t, &o);
    assert_complete(&rm, 12);
    assert_eq!(rm.warnings, ["Weeks 10-12: dropped a duplicate of week 10"]);
    assert_eq!((rm.batches[3].start_week, rm.batches[3].end_week), (10, 12), "the batch it names");
}

#[test]
fn failure_in_the_first_batch_resumes_without_a_new_outline() {
    let (e, t, rm, _) = fail_then_resume(1);
    assert_eq!(e.batch, Some(1));
    assert!(week_numbers(e.partial.as_ref().unwrap()).is_empty());
    assert_eq!(asked(&t), ["GET", "WEEKS 1-3", "WEEKS 4-6", "WEEKS 7-9", "WEEKS 10-12"]);
    assert_eq!(rm.usage.requests, 3 + 5, "usage adds up across both runs");
}

#[test]
fn failure_in_a_middle_batch_resumes_with_only_the_missing_weeks() {
    let (e, t, rm, events) = fail_then_resume(7);
    let p = e.partial.as_ref().unwrap();
    assert_eq!(e.batch, Some(3));
    assert_eq!(week_numbers(p), [1, 2, 3, 4, 5, 6]);
    assert_eq!(asked(&t), ["GET", "WEEKS 7-9", "WEEKS 10-12"]);
    assert_eq!(&rm.weeks[..6], &p.weeks[..], "resumed weeks are kept as they were");
    assert_eq!(rm.outline, p.outline);
    assert_eq!(
        rm.batches.iter().map(|b| (b.start_week, b.status)).collect::<Vec<_>>(),
        [(1, BatchStatus::Resumed), (4, BatchStatus::Resumed), (7, BatchStatus::Ok), (10, BatchStatus::Ok)]
    );
    assert_eq!(rm.usage.requests, 5 + 3);
    assert!(rm.usage.prompt_tokens > p.usage.prompt_tokens);
    // Only the requested weeks are announced; batches are numbered among the requested ones.
    assert_eq!(week_events(&events), [7, 8, 9, 10, 11, 12]);
    assert!(events
        .iter()
        .any(|e| matches!(e, ProgressEvent::BatchStart { batch: 1, total_batches: 2, start_week: 7, .. })));
    // The window for week 7 comes from resumed week 6.
    assert!(last_user_text(&posts(&t)[0]).contains("The learner has just finished these days of week 6"));
    assert_eq!(t.logs.borrow().last().unwrap(), "Completed all 2 batches successfully");
}

#[test]
fn failure_in_the_last_batch_resumes_with_one_request() {
    let (e, t, _, _) = fail_then_resume(10);
    assert_eq!(week_numbers(e.partial.as_ref().unwrap()), (1..=9).collect::<Vec<_>>());
    assert_eq!(asked(&t), ["GET", "WEEKS 10-12"]);
}

#[test]
fn weeks_streamed_before_a_failure_are_kept_and_not_asked_again() {
    // Batch 2's stream delivers week 4 whole, then Google sends an error event.
    let t = ReplayTransport::with_responder(
        vec![],
        gemini_with(|_, _, task| {
            matches!(task, Task::Weeks { first: 4, .. }).then(|| {
                let full = pretty(&weeks_value(4, 6, 12));
                let at = full.find("W5D1 title").unwrap();
                let mut events = sse_events(&full[..at], None, 100, 3);
                events.push(
                    json!({"error": {"code": 500, "message": "Internal error", "status": "INTERNAL"}}).to_string(),
                );
                Scripted::sse(&events)
            })
        }),
    );
    let mut o = opts(12);
    o.max_retries = Some(0.0);
    let (e, events) = err(&t, &o);
    assert_eq!(e.error.status(), Some(500));
    let p = e.partial.unwrap();
    assert_eq!(week_numbers(&p), [1, 2, 3, 4]);
    assert_eq!(week_events(&events), [1, 2, 3, 4]);

    let t = ReplayTransport::with_responder(vec![], gemini());
    o.resume_from = Some(p);
    let (rm, _) = ok(&t, &o);
    assert_complete(&rm, 12);
    assert_eq!(asked(&t), ["GET", "WEEKS 5-7", "WEEKS 8-10", "WEEKS 11-12"]);
}

#[test]
fn a_resumed_roadmap_is_checked() {
    let (e, _, _, _) = fail_then_resume(7);
    let mut p = e.partial.unwrap();
    p.weeks[2].days.truncate(5);
    let mut o = opts(12);
    o.resume_from = Some(p.clone());
    let t = ReplayTransport::new(vec![]);
    let (e, _) = err(&t, &o);
    assert!(
        matches!(&e.error, Error::InvalidInput { field, message } if field == "resumeFrom.weeks[2]" && message.contains("week 3 had 5 days"))
    );
    assert_eq!(t.request_count(), 0);
    // A week with no title or a day with hours outside 0-24, which no run writes, is not a finished week either (found
    // by an exploratory test: both were copied into the result).
    let finished = fail_then_resume(7).0.partial.unwrap();
    let mut untitled = finished.clone();
    untitled.weeks[1].title = "  ".into();
    let mut negative = finished.clone();
    negative.weeks[0].days[3].hours = -1.0;
    let mut endless = finished.clone();
    endless.weeks[2].days[0].hours = 1e308;
    // Each named by its path in the roadmap (it was `resumeFrom` alone; found by an exploratory test).
    for (bad, at, needle) in [
        (untitled, "resumeFrom.weeks[1].title", "week 2 has no title"),
        (negative, "resumeFrom.weeks[0].days[3].hours", "week 1 has hours outside 0-24 on day 4"),
        (endless, "resumeFrom.weeks[2].days[0].hours", "week 3 has hours outside 0-24 on day 1"),
    ] {
        let o = RoadmapOptions { resume_from: Some(bad), ..opts(12) };
        let (e, _) = err(&t, &o);
        assert!(
            matches!(&e.error, Error::InvalidInput { field, message } if field == at && message == needle),
            "{needle}: {:?}",
            e.error
        );
    }
    assert_eq!(t.request_count(), 0);
    // Another role is another roadmap.
    o.role = "Data Engineer".into();
    p.weeks.clear();
    o.resume_from = Some(p);
    assert!(matches!(err(&t, &o).0.error, Error::InvalidInput { .. }));
    assert_eq!(t.request_count(), 0);
}

/// `regenerateWeek` asks for one week: a stream cut on the way (no finishReason) holds no complete week to keep, and
/// it was asked again at once until its attempts were spent, then failed `MALFORMED`, not retryable. It is asked
/// again after a backoff, as a transport failure is.
#[test]
fn regenerate_week_asks_a_stream_cut_on_the_way_again_after_a_backoff() {
    let t = ReplayTransport::with_responder(vec![], gemini());
    let (rm, _) = ok(&t, &opts(6));
    let cut_stream = |req: &HttpRequest, _: Task| {
        let text = pretty(&weeks_value(3, 3, 6));
        assert!(req.url.contains("alt=sse"));
        Scripted::sse(&sse_events(&text[..text.find("W3D4 title").unwrap()], None, 100, 3))
    };
    let only_key = RoadmapOptions { api_key: "test-key-123".into(), ..Default::default() };
    let t = ReplayTransport::with_responder(vec![], first_times(1, |t| matches!(t, Task::Weeks { .. }), cut_stream));
    let mut events = vec![];
    let new = block_on(regenerate_week(&t, &rm, 3, &only_key, &mut |e| events.push(e.clone()))).unwrap();
    assert_eq!(asked(&t), ["WEEK 3", "WEEK 3"]);
    assert_eq!(retries(&events).iter().map(|r| (r.0, r.1)).collect::<Vec<_>>(), [(1, 2)]);
    assert_eq!(t.sleeps.borrow().len(), 1, "after a backoff");
    assert_complete(&new, 6);
    // Cut every time: after the retries, a NETWORK error, worth trying again later (it was MALFORMED, final).
    let t = ReplayTransport::with_responder(vec![], first_times(99, |t| matches!(t, Task::Weeks { .. }), cut_stream));
    let e = block_on(regenerate_week(&t, &rm, 3, &only_key, &mut |_| {})).unwrap_err();
    assert_eq!(t.request_count(), 4, "maxRetries 3: four requests");
    assert_eq!(t.sleeps.borrow().len(), 3);
    assert_eq!(e.error.code(), "NETWORK", "{}", e.error);
    assert!(e.error.is_transient());
}

#[test]
fn regenerate_week_rewrites_one_week_with_one_request() {
    // A roadmap whose week 5 is a placeholder.
    let t = ReplayTransport::with_responder(
        vec![],
        gemini_with(|req, _, task| match task {
            Task::Weeks { first, last, .. } if (first..=last).contains(&5) => {
                let mut v = weeks_value(first, last, 12);
                v["weeks"][(5 - first) as usize]["days"] = json!([]);
                Some(answer(req, &pretty(&v), "STOP"))
            }
            _ => None,
        }),
    );
    let mut o = opts(12);
    o.max_retries = Some(0.0);
    o.user_id = Some("u-1".into());
    let (rm, _) = ok(&t, &o);
    assert!(rm.weeks[4].fallback);
    assert_eq!(rm.warnings, ["Week 5: placeholder — the model returned 0 days once"]);

    // Resuming from it asks for the placeholder week again, and only for it (it was kept as a finished week and
    // its batch relabelled `resumed`, found by review); its warning goes with it.
    let t = ReplayTransport::with_responder(vec![], gemini());
    let (resumed, _) = ok(&t, &RoadmapOptions { resume_from: Some(rm.clone()), ..o.clone() });
    assert_eq!(asked(&t), ["GET", "WEEK 5"]);
    assert_complete(&resumed, 12);
    assert!(resumed.weeks.iter().all(|w| !w.fallback));
    assert!(resumed.warnings.is_empty(), "{:?}", resumed.warnings);
    assert_eq!(resumed.weeks.iter().filter(|w| w.week != 5).collect::<Vec<_>>(), rm.weeks.iter().filter(|w| w.week != 5).collect::<Vec<_>>());
    // Regenerating a week touches its own batch only: another batch reported failed though it holds all its weeks
    // (a run aborted on its last week) stays failed (a review found it relabelled `recovered`).
    let mut aborted = resumed.clone();
    aborted.batches[1].status = BatchStatus::Failed;
    let t = ReplayTransport::with_responder(vec![], gemini());
    let again = block_on(regenerate_week(&t, &aborted, 2, &o, &mut |_| {})).expect("week 2 written");
    assert_eq!(again.batches[1].status, BatchStatus::Failed, "{:?}", again.batches);
    assert_eq!(again.batches[0].status, aborted.batches[0].status);
    // A resumed run that fails before writing it again gives the placeholder back in `partial`, with its warning.
    let t = ReplayTransport::with_responder(
        vec![],
        gemini_with(|_, _, task| matches!(task, Task::Weeks { .. }).then(|| Scripted::status(400, error_body(400, "INVALID_ARGUMENT", "bad", json!([]))))),
    );
    let e = block_on(generate(&t, &RoadmapOptions { resume_from: Some(rm.clone()), ..o.clone() }, &mut |_| {})).unwrap_err();
    let partial = e.partial.expect("partial");
    assert_eq!(partial.weeks, rm.weeks, "every week it was given, the placeholder in its place");
    assert_eq!(partial.warnings, rm.warnings);

    let t = ReplayTransport::with_responder(
        vec![],
        gemini_with(|req, _, _| {
            let mut v = weeks_value(5, 5, 12);
            v["weeks"][0]["title"] = json!("Fresh week five");
            Some(answer(req, &pretty(&v), "STOP"))
        }),
    );
    let only_key = RoadmapOptions { api_key: "test-key-123".into(), ..Default::default() };
    let mut events = vec![];
    let new = block_on(regenerate_week(&t, &rm, 5, &only_key, &mut |e| events.push(e.clone()))).unwrap();
    assert_eq!(asked(&t), ["WEEK 5"], "one request, no lookup");
    let prompt = last_user_text(&posts(&t)[0]);
    assert!(prompt.contains("The learner has just finished these days of week 4 (Topic 4: Skill 4):"));
    assert!(
        prompt.contains("Week 6 (Topic 6: Skill 6) follows and begins with:\nDay 1: W6D1 title\nDay 2: W6D2 title\n")
    );
    assert!(prompt.contains("\n5. Topic 5: Skill 5\n"));
    assert!(!prompt.contains("u-1"));
    let cfg = &body_json(&posts(&t)[0])["generationConfig"];
    assert_eq!(cfg["thinkingConfig"]["thinkingLevel"], "minimal");
    assert_eq!(cfg["maxOutputTokens"], serde_json::Value::Null, "no lookup, so no limit is known");
    assert_eq!(new.weeks[4].title, "Fresh week five");
    assert!(!new.weeks[4].fallback);
    assert!(new.warnings.is_empty(), "the week's warnings are cleared");
    assert_eq!(
        new.weeks.iter().filter(|w| w.week != 5).collect::<Vec<_>>(),
        rm.weeks.iter().filter(|w| w.week != 5).collect::<Vec<_>>()
    );
    assert_eq!(new.usage.requests, rm.usage.requests + 1);
    assert!(new.usage.prompt_tokens > rm.usage.prompt_tokens);
    // Its batch held a placeholder; now it holds none (it said `fallback` after regenerating, found by review).
    assert_eq!(rm.batches[1].status, BatchStatus::Fallback);
    assert_eq!(new.batches[1].status, BatchStatus::Recovered);
    // And it counts the request and its answer (found by an exploratory test: `attempts` stayed as they were).
    assert_eq!(new.batches[1].attempts, rm.batches[1].attempts + 1);
    let chars = new.weeks[4].title.len() as u64; // at least the new title's
    assert!(new.batches[1].response_chars >= rm.batches[1].response_chars + chars);
    assert_eq!(new.batches[0], rm.batches[0]);
    assert_eq!(new.batches[2..], rm.batches[2..]);
    // `onProgress` sees a run of one batch (it was ignored).
    let kinds: Vec<&str> = events.iter().map(|e| match e {
        ProgressEvent::BatchStart { .. } => "batch-start",
        ProgressEvent::Week { .. } => "week",
        ProgressEvent::BatchDone { .. } => "batch-done",
        _ => "other",
    }).collect();
    assert_eq!(kinds, ["batch-start", "week", "batch-done"]);
    assert!(matches!(&events[1], ProgressEvent::Week { week } if week.week == 5 && week.title == "Fresh week five"));
    assert_eq!(new.user_id.as_deref(), Some("u-1"));

    // `maxOutputTokens` caps the one request as it caps a run's, and the model's own limit caps it in turn: Gemini
    // refuses a cap above the model's limit with a 400 (the options of a run that passed were refused, found by an
    // audit), so with a cap the model is looked up first.
    for (cap, sent) in [(4096.0, 4096), (1048576.0, 65536)] {
        let t2 = ReplayTransport::with_responder(
            vec![],
            gemini_with(|req, _, task| matches!(task, Task::Weeks { .. }).then(|| answer(req, &pretty(&weeks_value(5, 5, 12)), "STOP"))),
        );
        let o = RoadmapOptions { max_output_tokens: Some(cap), ..only_key.clone() };
        let new = block_on(regenerate_week(&t2, &rm, 5, &o, &mut |_| {})).unwrap();
        assert_eq!(asked(&t2), ["GET", "WEEK 5"]);
        assert_eq!(body_json(&posts(&t2)[0])["generationConfig"]["maxOutputTokens"], sent);
        assert_eq!(new.usage.requests, rm.usage.requests + 2, "every HTTP request counts, the lookup too");
    }

    // Out of range: nothing is sent.
    let t = ReplayTransport::new(vec![]);
    for week in [0, 13] {
        let e = block_on(regenerate_week(&t, &rm, week, &only_key, &mut |_| {})).unwrap_err();
        assert!(matches!(&e.error, Error::InvalidInput { field, .. } if field == "week"));
    }
    assert_eq!(t.request_count(), 0);
    // So is a roadmap whose weeks are out of range or repeated (edited, or stored by an older version).
    for (i, n) in [(3, 13), (3, 0), (3, 2)] {
        let mut bad = rm.clone();
        bad.weeks[i].week = n;
        let e = block_on(regenerate_week(&t, &bad, 5, &only_key, &mut |_| {})).unwrap_err();
        assert!(
            matches!(&e.error, Error::InvalidInput { field, message } if *field == format!("roadmap.weeks[{i}].week") && message.contains(&format!("week {n} "))),
            "{:?}",
            e.error
        );
    }
    assert_eq!(t.request_count(), 0);
    // And one it would hand back unfinished or broken, as it keeps the other weeks (both were accepted and came
    // back as they were: weeks 1, 2, 4, ... or a 6-day week).
    let mut partial = rm.clone();
    partial.weeks.remove(2);
    let mut six_days = rm.clone();
    six_days.weeks[0].days.pop();
    let mut no_task = rm.clone();
    no_task.weeks[1].days[3].tasks.clear();
    // The role, length and pace the roadmap states are its own, not options the caller gave: out of range, the
    // roadmap is named (found by an exploratory test: `role`, `weeks`, `hoursPerDay` were, though never passed).
    let long_role = Roadmap { role: "x".repeat(200), ..rm.clone() };
    let too_long = Roadmap { total_weeks: 53, ..rm.clone() };
    let too_busy = Roadmap { hours_per_day: Some(50.0), ..rm.clone() };
    for (bad, at, needle) in [
        (&partial, "roadmap", "has no week 3: finish it with"),
        (&six_days, "roadmap.weeks[0]", "week 1 had 6 days"),
        (&no_task, "roadmap.weeks[1]", "week 2 "),
        (&long_role, "roadmap", "`role` must be"),
        (&too_long, "roadmap", "`totalWeeks` must be"),
        (&too_busy, "roadmap", "`hoursPerDay` must be"),
    ] {
        let e = block_on(regenerate_week(&t, bad, 5, &only_key, &mut |_| {})).unwrap_err();
        assert!(
            matches!(&e.error, Error::InvalidInput { field, message } if field == at && message.contains(needle)),
            "{needle}: {:?}",
            e.error
        );
    }
    assert_eq!(t.request_count(), 0);
    // The week being written again may be anything, or missing: it is replaced.
    let t2 = ReplayTransport::with_responder(vec![], gemini_with(|req, _, task| match task {
        Task::Weeks { first, last, .. } => Some(answer(req, &pretty(&weeks_value(first, last, 12)), "STOP")),
        _ => None,
    }));
    assert!(block_on(regenerate_week(&t2, &six_days, 1, &only_key, &mut |_| {})).is_ok());
    let mut failed = partial.clone();
    failed.batches[0].status = BatchStatus::Failed;
    let whole = block_on(regenerate_week(&t2, &failed, 3, &only_key, &mut |_| {})).expect("week 3 written");
    assert_eq!(whole.weeks.iter().map(|w| w.week).collect::<Vec<_>>(), (1..=12).collect::<Vec<_>>());
    assert_eq!(whole.batches[0].status, BatchStatus::Recovered, "its batch no longer failed: it holds every week");
    // The level as its run was given it, spaces and all, is the roadmap's (stored on one line).
    let leveled = Roadmap { level: Some("Senior SRE".into()), ..rm.clone() };
    let given = RoadmapOptions { level: Some("  Senior   SRE ".into()), ..only_key.clone() };
    assert!(block_on(regenerate_week(&t2, &leveled, 2, &given, &mut |_| {})).is_ok());
    // Another level or pace than the roadmap's would make it misdescribe its other weeks: refused, as another role.
    let own = RoadmapOptions { role: " devops  ENGINEER".into(), weeks: 12.0, ..only_key.clone() };
    assert_eq!(rm.total_weeks, 12);
    assert!(block_on(regenerate_week(&t2, &rm, 2, &own, &mut |_| {})).is_ok(), "its own role, however spelt, and length");
    for (o, field) in [
        (RoadmapOptions { role: "Pastry Chef".into(), ..only_key.clone() }, "role"),
        (RoadmapOptions { weeks: 9.0, ..only_key.clone() }, "weeks"),
        (RoadmapOptions { level: Some("Advanced".into()), ..only_key.clone() }, "level"),
        (RoadmapOptions { hours_per_day: Some(6.0), ..only_key.clone() }, "hoursPerDay"),
    ] {
        let e = block_on(regenerate_week(&t, &rm, 5, &o, &mut |_| {})).unwrap_err();
        assert!(matches!(&e.error, Error::InvalidInput { field: f, .. } if f == field), "{:?}", e.error);
    }
    assert_eq!(t.request_count(), 0);

    // A week that stays wrong is an error; the roadmap comes back unchanged as `partial`.
    let t = ReplayTransport::with_responder(
        vec![],
        gemini_with(|req, _, _| {
            let mut v = weeks_value(5, 5, 12);
            v["weeks"][0]["days"].as_array_mut().unwrap().pop();
            Some(answer(req, &pretty(&v), "STOP"))
        }),
    );
    let e = block_on(regenerate_week(&t, &rm, 5, &RoadmapOptions { max_retries: Some(1.0), ..only_key }, &mut |_| {})).unwrap_err();
    assert_eq!(e.error.code(), "MALFORMED");
    assert_eq!(e.batch, Some(1), "the batch as its batch-start numbered it (it had none)");
    assert_eq!(asked(&t), ["WEEK 5", "WEEK 5"]);
    assert!(last_user_text(&posts(&t)[1]).contains("Correction: week 5 in your previous answer had 6 days."));
    let p = e.partial.unwrap();
    assert_eq!(p.weeks, rm.weeks);
    assert_eq!(p.usage.requests, rm.usage.requests + 2);
}

/// The week `regenerateWeek` asks for, streamed whole, with only the closing event lost (Gemini 3 ends a stream with
/// an event of its own: the `thoughtSignature` part and the `finishReason`). The week closed and was taken while it
/// streamed; the missing `finishReason` made the request count as cut all the same: a retry was announced and waited
/// for although nothing was asked again, and with `maxRetries: 0` the call rejected `NETWORK`, the week it had
/// received (and paid for) thrown away.
#[test]
fn regenerate_week_keeps_a_week_that_closed_before_the_stream_was_cut() {
    let t = ReplayTransport::with_responder(vec![], gemini());
    let (rm, _) = ok(&t, &opts(6));
    let closed_then_cut = |req: &HttpRequest, _: Task| {
        let mut v = weeks_value(3, 3, 6);
        v["weeks"][0]["title"] = json!("Fresh week three");
        Scripted::sse(&sse_events(&pretty(&v), None, prompt_tokens(req), 3))
    };
    let only_key = RoadmapOptions { api_key: "test-key-123".into(), ..Default::default() };
    for max_retries in [0.0, 3.0] {
        let t = ReplayTransport::with_responder(vec![], first_times(99, |t| matches!(t, Task::Weeks { .. }), closed_then_cut));
        let o = RoadmapOptions { max_retries: Some(max_retries), ..only_key.clone() };
        let mut events = vec![];
        let r = block_on(regenerate_week(&t, &rm, 3, &o, &mut |e| events.push(e.clone())));
        let new = r.unwrap_or_else(|e| panic!("maxRetries {max_retries}: rejected {} although week 3 came whole", e.error));
        assert_eq!(new.weeks[2].title, "Fresh week three");
        assert_eq!(asked(&t), ["WEEK 3"]);
        assert!(retries(&events).is_empty(), "maxRetries {max_retries}: a retry announced for nothing: {events:?}");
        assert!(t.sleeps.borrow().is_empty(), "maxRetries {max_retries}: waited {:?} for nothing", t.sleeps.borrow());
    }
}

/// `resumeFrom` a roadmap with every week finished and its outline: nothing is left to write, yet the model is
/// looked up (a request, counted in `usage.requests`), and when that lookup fails (the model retired, offline) the
/// call rejects instead of handing back the finished roadmap.
#[test]
fn resuming_a_finished_roadmap_sends_nothing() {
    let (done, _) = ok(&ReplayTransport::with_responder(vec![], gemini()), &opts(6));
    for parallel in [false, true] {
        let mut o = RoadmapOptions { resume_from: Some(done.clone()), ..opts(6) };
        if parallel {
            o.strategy = Some(Strategy::Parallel);
        }
        let t = ReplayTransport::with_responder(
            vec![],
            gemini_with(|_, _, task| {
                matches!(task, Task::ModelInfo)
                    .then(|| Scripted::status(404, error_body(404, "NOT_FOUND", "models/x is not found", json!([]))))
            }),
        );
        let (r, _) = run(&t, &o);
        assert_eq!(asked(&t), Vec::<String>::new(), "parallel {parallel}: nothing to write, nothing to ask");
        let rm = r.unwrap_or_else(|e| panic!("parallel {parallel}: rejected {:?} with every week finished", e.error));
        assert_eq!(rm.weeks, done.weeks);
        assert_eq!(rm.usage.requests, done.usage.requests);
    }
}

/// `resumeFrom` was checked for its outline ("must list weeks 1 to totalWeeks once each") and weeks, but not its
/// phases: a stored roadmap without phases (or with phases that leave weeks out) was taken, no outline was asked
/// for since the outline is complete, and the finished roadmap had no phase covering its weeks. It is refused now,
/// before any request; phases that do cover the weeks are taken as they are.
#[test]
fn a_resumed_roadmap_whose_phases_do_not_cover_its_weeks_is_refused() {
    let (done, _) = ok(&ReplayTransport::with_responder(vec![], gemini()), &opts(6));
    let p = |start_week, end_week| Phase { start_week, end_week, ..done.phases[0].clone() };
    for phases in [vec![], vec![p(1, 2)], vec![p(1, 2), p(4, 6)], vec![p(2, 6)], vec![p(1, 4), p(3, 6)], vec![p(1, 7)]] {
        let mut from = done.clone();
        from.weeks.truncate(3);
        from.phases = phases.clone();
        let t = ReplayTransport::with_responder(vec![], gemini());
        let (r, _) = run(&t, &RoadmapOptions { resume_from: Some(from), ..opts(6) });
        match r {
            Err(e) => assert!(
                matches!(&e.error, Error::InvalidInput { field, message } if field == "resumeFrom.phases" && message.contains("phases")),
                "phases {phases:?}: {:?}",
                e.error
            ),
            Ok(rm) => panic!("phases {phases:?} taken as they were: {:?}", rm.phases),
        }
        assert_eq!(asked(&t), Vec::<String>::new(), "phases {phases:?}: nothing may be sent");
    }
    // Covering phases, in any number, are kept; and without an outline the phases are planned again with it.
    let mut from = done.clone();
    from.weeks.truncate(3);
    from.phases = vec![p(1, 1), p(2, 5), p(6, 6)];
    let (r, _) = run(&ReplayTransport::with_responder(vec![], gemini()), &RoadmapOptions { resume_from: Some(from.clone()), ..opts(6) });
    assert_eq!(r.unwrap_or_else(|e| panic!("{:?}", e.error)).phases, from.phases);
    from.phases.clear();
    from.outline.clear();
    let t = ReplayTransport::with_responder(vec![], gemini());
    let (r, _) = run(&t, &RoadmapOptions { resume_from: Some(from), ..opts(6) });
    assert_eq!(r.unwrap_or_else(|e| panic!("{:?}", e.error)).phases, done.phases);
    assert!(asked(&t).contains(&"OUTLINE".to_string()), "{:?}", asked(&t));
}
