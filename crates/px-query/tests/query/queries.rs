//! Hand-written query cases against a real DuckDB store; every expected
//! number is worked out in the comments.

use crate::common::*;
use serde_json::json;

const NOW: &str = "2026-11-23T12:00:00Z";

#[tokio::test]
async fn trend_counts_fill_gaps_and_total_over_the_range() {
    let mut f = Fixture::new();
    // signup: u1 twice on the 20th, u2 once on the 22nd; a view that must not count.
    f.add(ev("signup", "u1", "2026-11-20T10:00:00Z"))
        .add(ev("signup", "u1", "2026-11-20T11:00:00Z"))
        .add(ev("signup", "u2", "2026-11-22T09:00:00Z"))
        .add(ev("view", "u3", "2026-11-22T09:00:00Z"))
        // Another project's signups never count.
        .add(ev("signup", "x", "2026-11-22T09:00:00Z").scope(OTHER));
    let a = f
        .run(
            NOW,
            json!({"kind":"trend","series":[{"event":"signup","math":"total"},{"event":"signup","math":"unique_persons"}],
                   "date_range":{"from":"-7d"},"interval":"day"}),
        )
        .await;
    // -7d covers the 16th through today, the 23rd: 8 days.
    assert_eq!(a["buckets"].as_array().unwrap().len(), 8);
    assert_eq!(a["buckets"][4], "2026-11-20");
    assert_eq!(nums(&a["series"][0]["data"]), vec![0., 0., 0., 0., 2., 0., 1., 0.]);
    assert_eq!(a["series"][0]["total"], 3.0);
    // Unique persons: 1 on the 20th, 1 on the 22nd, 2 over the range (not 1+1 by accident: u1 and u2).
    assert_eq!(nums(&a["series"][1]["data"]), vec![0., 0., 0., 0., 1., 0., 1., 0.]);
    assert_eq!(a["series"][1]["total"], 2.0);
}

#[tokio::test]
async fn trend_breakdown_keeps_the_top_values_and_folds_the_rest() {
    let mut f = Fixture::new();
    // Chrome 3 events, Firefox 2, Safari 1, no browser 1.
    for (i, b) in ["Chrome", "Chrome", "Chrome", "Firefox", "Firefox", "Safari"].iter().enumerate() {
        f.add(ev("view", &format!("u{i}"), "2026-11-22T10:00:00Z").browser(b));
    }
    f.add(ev("view", "u9", "2026-11-22T10:00:00Z"));
    let a = f
        .run(
            NOW,
            json!({"kind":"trend","series":[{"event":"view"}],"date_range":{"from":"-1d"},
                   "breakdown":{"key":"browser","type":"column"},"breakdown_limit":2}),
        )
        .await;
    let s = a["series"].as_array().unwrap();
    let got: Vec<(serde_json::Value, bool, f64)> = s
        .iter()
        .map(|x| (x["breakdown_value"].clone(), x["is_other"].as_bool().unwrap(), x["total"].as_f64().unwrap()))
        .collect();
    // Top 2 by count: Chrome (3), Firefox (2); Safari and the unset one fold into other (2).
    assert_eq!(got, vec![(json!("Chrome"), false, 3.0), (json!("Firefox"), false, 2.0), (json!(null), true, 2.0)]);
    // PostHog's `$browser` names the same column.
    let b = f
        .run(
            NOW,
            json!({"kind":"trend","series":[{"event":"view","filters":[{"key":"$browser","operator":"eq","value":"Safari"}]}],
                   "date_range":{"from":"-1d"}}),
        )
        .await;
    assert_eq!(b["series"][0]["total"], 1.0);
}

#[tokio::test]
async fn trend_math_compare_and_formula() {
    let mut f = Fixture::new();
    // This week (from -6d = the 17th): purchases of 10, 20, 60 on the 22nd; last week one of 5 on the 12th.
    for (d, amount) in [("u1", 10), ("u2", 20), ("u3", 60)] {
        f.add(ev("purchase", d, "2026-11-22T10:00:00Z").props(json!({"amount": amount})));
    }
    f.add(ev("purchase", "u4", "2026-11-12T10:00:00Z").props(json!({"amount": 5})));
    f.add(ev("view", "u1", "2026-11-22T09:00:00Z")).add(ev("view", "u2", "2026-11-22T09:00:00Z"));
    f.add(ev("view", "u5", "2026-11-21T09:00:00Z")).add(ev("view", "u6", "2026-11-21T09:00:00Z"));
    let a = f
        .run(
            NOW,
            json!({"kind":"trend","date_range":{"from":"-6d"},"compare":true,"formula":"A / B * 100",
                   "series":[{"event":"purchase","math":"sum","property":{"key":"amount"}},
                             {"event":"purchase","math":"median","property":{"key":"amount"}},
                             {"event":"purchase","math":"p90","property":{"key":"amount"}}]}),
        )
        .await;
    assert_eq!(a["series"][0]["total"], 90.0);
    // Median of 10, 20, 60 is 20; p90 interpolates: 20 + 0.8 * (60 - 20) = 52.
    assert_eq!(a["series"][1]["total"], 20.0);
    assert!((a["series"][2]["total"].as_f64().unwrap() - 52.0).abs() < 1e-9);
    // The previous 7 days (the 10th to the 16th) hold the purchase of 5.
    assert_eq!(a["series"][0]["compare"]["total"], 5.0);
    // Formula A / B * 100 = 90 / 20 * 100 over the totals.
    assert_eq!(a["formula"]["series"][0]["total"], 450.0);
    // A bucket with no purchases divides 0 by 0: 0, not an error.
    assert_eq!(a["formula"]["series"][0]["data"][0], 0.0);

    // Conversion-style formula: purchasers / viewers per day on the 22nd = 3 / 2 * 100.
    let b = f
        .run(
            NOW,
            json!({"kind":"trend","date_range":{"from":"-1d"},"formula":"A / B * 100",
                   "series":[{"event":"purchase","math":"unique_persons"},{"event":"view","math":"unique_persons"}]}),
        )
        .await;
    assert_eq!(b["formula"]["series"][0]["data"][0], 150.0);
}

#[tokio::test]
async fn filters_cover_every_operator_and_groups() {
    let mut f = Fixture::new();
    let rows = [
        ("u1", json!({"plan":"pro","n":5,"email":"a@x.io"})),
        ("u2", json!({"plan":"free","n":15})),
        ("u3", json!({"plan":"Pro Max","n":"25"})),
        ("u4", json!({"n":null})),
    ];
    for (d, p) in rows {
        f.add(ev("e", d, "2026-11-22T10:00:00Z").props(p));
    }
    let count = |filters: serde_json::Value| json!({"kind":"trend","series":[{"event":"e"}],"date_range":{"from":"-1d"},"filters":filters});
    let cases = [
        (json!([{"key":"plan","operator":"eq","value":"pro"}]), 1.0),
        // neq keeps the unset ones (u4), as PostHog does: u2, u3, u4.
        (json!([{"key":"plan","operator":"neq","value":"pro"}]), 3.0),
        (json!([{"key":"plan","operator":"in","value":["pro","free"]}]), 2.0),
        (json!([{"key":"plan","operator":"not_in","value":["pro","free"]}]), 2.0),
        // contains ignores case: "pro" and "Pro Max".
        (json!([{"key":"plan","operator":"contains","value":"PRO"}]), 2.0),
        (json!([{"key":"plan","operator":"not_contains","value":"pro"}]), 2.0),
        (json!([{"key":"plan","operator":"regex","value":"^P.*x$"}]), 1.0),
        // Numbers compare as numbers, numeric strings included: 15 and "25".
        (json!([{"key":"n","operator":"gt","value":10}]), 2.0),
        (json!([{"key":"n","operator":"lte","value":15}]), 2.0),
        (json!([{"key":"n","operator":"is_set"}]), 3.0),
        // JSON null is unset.
        (json!([{"key":"n","operator":"is_not_set"}]), 1.0),
        (json!([{"or":[{"key":"plan","operator":"eq","value":"free"},{"key":"n","operator":"gte","value":25}]}]), 2.0),
        (
            json!([{"and":[{"key":"plan","operator":"is_set"},{"or":[{"key":"n","operator":"lt","value":6},{"key":"plan","operator":"eq","value":"free"}]}]}]),
            2.0,
        ),
    ];
    for (filters, want) in cases {
        let a = f.run(NOW, count(filters.clone())).await;
        assert_eq!(a["series"][0]["total"], want, "{filters}");
    }
}

#[tokio::test]
async fn hostile_names_and_values_stay_data() {
    let mut f = Fixture::new();
    let key = "x'); DROP TABLE events; --";
    f.add(ev("e", "u1", "2026-11-22T10:00:00Z").props(json!({ key: "v'\"\\", "a.b": 1, "q\"k": 2 })));
    for (k, op, v, want) in [
        (key, "eq", json!("v'\"\\"), 1.0),
        (key, "eq", json!("' OR 1=1 --"), 0.0),
        ("a.b", "eq", json!(1), 1.0),
        ("q\"k", "eq", json!(2), 1.0),
        ("$.a", "is_set", json!(null), 0.0),
    ] {
        let filter =
            if op == "is_set" { json!([{"key":k,"operator":op}]) } else { json!([{"key":k,"operator":op,"value":v}]) };
        let a = f
            .run(NOW, json!({"kind":"trend","series":[{"event":"e"}],"date_range":{"from":"-1d"},"filters":filter}))
            .await;
        assert_eq!(a["series"][0]["total"], want, "{k} {op}");
    }
    // The events table is still there.
    let a = f.run(NOW, json!({"kind":"trend","series":[{"event":"e"}],"date_range":{"from":"-1d"}})).await;
    assert_eq!(a["series"][0]["total"], 1.0);
    // An event name with SQL in it is only a name.
    let a = f.run(NOW, json!({"kind":"trend","series":[{"event":"e' OR '1'='1"}],"date_range":{"from":"-1d"}})).await;
    assert_eq!(a["series"][0]["total"], 0.0);
}

#[tokio::test]
async fn bad_queries_name_the_field() {
    let mut f = Fixture::new();
    let steps = |n: usize| (0..n).map(|i| json!({"event": format!("s{i}")})).collect::<Vec<_>>();
    let cases = [
        (json!({"kind":"funnel","steps":steps(0)}), "steps"),
        (json!({"kind":"funnel","steps":steps(1)}), "steps"),
        (json!({"kind":"funnel","steps":steps(21)}), "steps"),
        (json!({"kind":"funnel","steps":steps(2),"window":"7x"}), "window"),
        (
            json!({"kind":"trend","series":[{"event":"e","filters":[{"key":"a","operator":"regex","value":"(unclosed"}]}]}),
            "series[0].filters[0].value",
        ),
        (json!({"kind":"trend","series":[{"event":"e","math":"sum"}]}), "series[0].property"),
        (json!({"kind":"trend","series":[{"event":"e"}],"formula":"A + B"}), "formula"),
        (json!({"kind":"trend","series":[{"event":"e"}],"date_range":{"from":"last tuesday"}}), "date_range.from"),
        (json!({"kind":"trend","series":[{"event":"e"}],"timezone":"Mars/Base"}), "timezone"),
        (json!({"kind":"trend","series":[{"event":"e"}],"breakdown":{"key":"nope","type":"column"}}), "breakdown.key"),
        (json!({"kind":"trend","series":[{"event":"e"}],"interval":"minute","date_range":{"from":"-30d"}}), "interval"),
        (json!({"kind":"retention","start_event":{},"return_event":{},"periods":0}), "periods"),
    ];
    for (q, field) in cases {
        match f.try_run(NOW, q.clone()).await {
            Err(px_query::QueryError::Invalid { field: got, .. }) => assert_eq!(got, field, "{q}"),
            other => panic!("{q}: expected a 400 naming {field}, got {other:?}"),
        }
    }
    // Unknown kinds and fields fail at decoding.
    assert!(f.try_run(NOW, json!({"kind":"bogus"})).await.is_err());
    assert!(f.try_run(NOW, json!({"kind":"trend","series":[{"event":"e"}],"seris":1})).await.is_err());
}

#[tokio::test]
async fn retention_counts_cohorts_and_whole_last_period() {
    let mut f = Fixture::new();
    // Daily, 3 periods ending today (the 23rd): cohorts 21, 22, 23.
    // u1: starts on the 21st, returns the 22nd and 23rd. u2: starts the 21st, returns the 23rd.
    // u3: starts the 22nd and the 23rd (recurring: in both cohorts), returns the 23rd.
    for (d, day) in [("u1", 21), ("u2", 21), ("u3", 22), ("u3", 23)] {
        f.add(ev("signup", d, &format!("2026-11-{day}T08:00:00Z")));
    }
    for (d, day) in [("u1", 22), ("u1", 23), ("u2", 23), ("u3", 23)] {
        f.add(ev("login", d, &format!("2026-11-{day}T20:00:00Z")));
    }
    let q = |t: &str| {
        json!({"kind":"retention","start_event":{"event":"signup"},"return_event":{"event":"login"},
               "period":"day","periods":3,"retention_type":t})
    };
    // Now is 12:00 on the 23rd, yet the returns at 20:00 count: the last period counts whole.
    let a = f.run(NOW, q("recurring")).await;
    let values: Vec<Vec<i64>> = a["cohorts"].as_array().unwrap().iter().map(|c| ints(&c["values"])).collect();
    assert_eq!(values, vec![vec![2, 1, 2], vec![1, 1], vec![1]]);
    // Average curve, weighted: offset 1 = (1 + 1) / (2 + 1); offset 2 = 2 / 2.
    let avg = nums(&a["average"]);
    assert!((avg[1] - 200.0 / 3.0).abs() < 1e-9 && avg[2] == 100.0, "{avg:?}");
    // First time: u3 is only in the 22nd's cohort.
    let b = f.run(NOW, q("first_time")).await;
    let values: Vec<Vec<i64>> = b["cohorts"].as_array().unwrap().iter().map(|c| ints(&c["values"])).collect();
    assert_eq!(values, vec![vec![2, 1, 2], vec![1, 1], vec![0]]);
}

#[tokio::test]
async fn paths_follow_sessions_and_collapse_reloads() {
    let mut f = Fixture::new();
    let visit = |f: &mut Fixture, sid: &str, pages: &[&str]| {
        for (i, p) in pages.iter().enumerate() {
            f.add(ev("$pageview", sid, &format!("2026-11-22T10:00:0{i}Z")).path(p).session(sid));
        }
    };
    visit(&mut f, "a", &["/", "/pricing", "/pricing", "/signup"]);
    visit(&mut f, "b", &["/", "/pricing", "/docs"]);
    visit(&mut f, "c", &["/blog", "/", "/pricing"]);
    let a = f.run(NOW, json!({"kind":"paths","date_range":{"from":"-1d"},"start":"/","depth":3})).await;
    let edges: Vec<(i64, String, String, i64)> = a["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["step"].as_i64().unwrap(),
                e["source"].as_str().unwrap().into(),
                e["target"].as_str().unwrap().into(),
                e["weight"].as_i64().unwrap(),
            )
        })
        .collect();
    // From "/": all three go to /pricing (the reload in a is collapsed), then /signup or /docs.
    assert_eq!(
        edges,
        vec![
            (1, "/".into(), "/pricing".into(), 3),
            (2, "/pricing".into(), "/docs".into(), 1),
            (2, "/pricing".into(), "/signup".into(), 1),
        ]
    );
}

#[tokio::test]
async fn stickiness_and_lifecycle() {
    let mut f = Fixture::new();
    // u1 active 3 of the 3 days (21-23), u2 on 1 day (the 21st), u3 new on the 23rd.
    for day in [21, 22, 23] {
        f.add(ev("use", "u1", &format!("2026-11-{day}T08:00:00Z")));
    }
    f.add(ev("use", "u2", "2026-11-21T08:00:00Z"));
    f.add(ev("use", "u2", "2026-11-10T08:00:00Z"));
    f.add(ev("use", "u3", "2026-11-23T08:00:00Z"));
    let a = f.run(NOW, json!({"kind":"stickiness","series":[{"event":"use"}],"date_range":{"from":"-2d"}})).await;
    assert_eq!(ints(&a["series"][0]["data"]), vec![2, 0, 1]);
    // Lifecycle over the 21st-23rd. u1 was first seen the 21st: new; then returning twice.
    // u2: seen before (the 10th), inactive the 20th: resurrecting on the 21st, dormant the 22nd.
    // u3: new on the 23rd.
    let b = f.run(NOW, json!({"kind":"lifecycle","event":"use","date_range":{"from":"-2d"}})).await;
    let s = &b["series"];
    assert_eq!(ints(&s["new"]), vec![1, 0, 1]);
    assert_eq!(ints(&s["returning"]), vec![0, 1, 1]);
    assert_eq!(ints(&s["resurrecting"]), vec![1, 0, 0]);
    assert_eq!(ints(&s["dormant"]), vec![0, -1, 0]);
}

#[tokio::test]
async fn people_timeline_and_sessions() {
    let mut f = Fixture::new();
    // anon browses, then identifies as user-1 with properties.
    f.add(ev("$pageview", "anon", "2026-11-22T10:00:00Z").path("/").session("s1"));
    f.add(ev("$pageview", "anon", "2026-11-22T10:00:30Z").path("/pricing").session("s1"));
    f.add(
        ev("$identify", "user-1", "2026-11-22T10:01:00Z")
            .identify("anon")
            .set(json!({"plan":"pro","email":"x@y.z"}))
            .session("s1"),
    );
    // A bounce: one page, 0 s.
    f.add(ev("$pageview", "u2", "2026-11-22T11:00:00Z").path("/blog").session("s2"));
    let t = f.run(NOW, json!({"kind":"timeline","distinct_id":"anon","limit":2})).await;
    assert_eq!(t["total"], 3, "the timeline spans both distinct ids");
    assert_eq!(t["events"].as_array().unwrap().len(), 2);
    assert!(t["next_cursor"].is_string());
    let p = f.run(NOW, json!({"kind":"persons","properties":[{"key":"plan","operator":"eq","value":"pro"}]})).await;
    assert_eq!(p["total"], 1);
    let ids: Vec<&str> =
        p["persons"][0]["distinct_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(ids, vec!["anon", "user-1"]);
    let p = f.run(NOW, json!({"kind":"persons","search":"USER-"})).await;
    assert_eq!(p["total"], 1);
    let s = f.run(NOW, json!({"kind":"sessions","date_range":{"from":"-1d"}})).await;
    // s1: 60 s, 2 page views, / -> /pricing; s2 bounced.
    assert_eq!(s["summary"]["sessions"], 2);
    assert_eq!(s["summary"]["bounce_rate"], 0.5);
    assert_eq!(s["summary"]["avg_duration_seconds"], 30.0);
    let s1 = s["sessions"].as_array().unwrap().iter().find(|x| x["session_id"] == "s1").unwrap();
    assert_eq!((s1["entry_path"].as_str(), s1["exit_path"].as_str()), (Some("/"), Some("/pricing")));
    assert_eq!(s1["duration_seconds"], 60.0);
    // Past the last page the summary still covers the whole range.
    let past = f.run(NOW, json!({"kind":"sessions","date_range":{"from":"-1d"},"offset":10})).await;
    assert_eq!(past["summary"]["sessions"], 2);
    assert_eq!(past["sessions"].as_array().unwrap().len(), 0);
    let mine = f.run(NOW, json!({"kind":"sessions","distinct_id":"user-1","date_range":{"from":"-1d"}})).await;
    assert_eq!(mine["summary"]["sessions"], 1);
}

#[tokio::test]
async fn time_zones_move_day_boundaries() {
    let mut f = Fixture::new();
    // 02:00 UTC on the 22nd is 23:00 on the 21st in São Paulo (UTC-3).
    f.add(ev("e", "u1", "2026-11-22T02:00:00Z"));
    let q = |tz: &str| json!({"kind":"trend","series":[{"event":"e"}],"date_range":{"from":"2026-11-21","to":"2026-11-22"},"timezone":tz});
    assert_eq!(nums(&f.run(NOW, q("UTC")).await["series"][0]["data"]), vec![0.0, 1.0]);
    assert_eq!(nums(&f.run(NOW, q("America/Sao_Paulo")).await["series"][0]["data"]), vec![1.0, 0.0]);
}

#[tokio::test]
async fn funnel_counts_persons_at_their_furthest_step() {
    let mut f = Fixture::new();
    // u1: view, signup, buy within a day: converts.
    f.add(ev("view", "u1", "2026-11-20T10:00:00Z").browser("Chrome"))
        .add(ev("signup", "u1", "2026-11-20T10:05:00Z"))
        .add(ev("buy", "u1", "2026-11-21T10:00:00Z"));
    // u2: view, signup: reaches step 2.
    f.add(ev("view", "u2", "2026-11-20T10:00:00Z").browser("Firefox")).add(ev("signup", "u2", "2026-11-20T11:00:00Z"));
    // u3: view, then signup 2 days later: outside the 1-day window, step 1 only.
    f.add(ev("view", "u3", "2026-11-18T10:00:00Z").browser("Chrome")).add(ev("signup", "u3", "2026-11-20T10:00:01Z"));
    // anon views, then identifies as u4 and signs up: one person, step 2.
    f.add(ev("view", "anon4", "2026-11-21T09:00:00Z").browser("Chrome"));
    f.add(ev("$identify", "u4", "2026-11-21T09:01:00Z").identify("anon4"));
    f.add(ev("signup", "u4", "2026-11-21T09:02:00Z"));
    let q = json!({"kind":"funnel","window":"1d","date_range":{"from":"-7d"},
                   "steps":[{"event":"view"},{"event":"signup"},{"event":"buy"}],
                   "breakdown":{"key":"browser","type":"column"},
                   "persons":{"step":2,"dropped":true}});
    let a = f.run(NOW, q).await;
    let counts: Vec<u64> = a["steps"].as_array().unwrap().iter().map(|s| s["count"].as_u64().unwrap()).collect();
    assert_eq!(counts, vec![4, 3, 1]);
    assert_eq!(a["steps"][1]["conversion_rate"], 75.0);
    // u1 took 1 day to buy: avg = median = 86400 s from step 1.
    assert_eq!(a["steps"][2]["median_time_to_convert_seconds"], 86400.0);
    // Chrome: u1, u3, u4 (first touch); Firefox: u2.
    let chrome = a["breakdown"].as_array().unwrap().iter().find(|b| b["breakdown_value"] == "Chrome").unwrap();
    let chrome_counts: Vec<u64> =
        chrome["steps"].as_array().unwrap().iter().map(|s| s["count"].as_u64().unwrap()).collect();
    assert_eq!(chrome_counts, vec![3, 2, 1]);
    // Dropped before step 2 (buy): u2 and u4.
    assert_eq!(a["persons"]["total"], 2);
}

#[tokio::test]
async fn funnel_orders_strictness_and_exclusions() {
    let mut f = Fixture::new();
    // u1: a, x, b. u2: a, b. u3: b, a (wrong order).
    f.add(ev("a", "u1", "2026-11-20T10:00:00Z")).add(ev("x", "u1", "2026-11-20T10:01:00Z")).add(ev(
        "b",
        "u1",
        "2026-11-20T10:02:00Z",
    ));
    f.add(ev("a", "u2", "2026-11-20T10:00:00Z")).add(ev("b", "u2", "2026-11-20T10:02:00Z"));
    f.add(ev("b", "u3", "2026-11-20T10:00:00Z")).add(ev("a", "u3", "2026-11-20T10:02:00Z"));
    let counts = |a: &serde_json::Value| -> Vec<u64> {
        a["steps"].as_array().unwrap().iter().map(|s| s["count"].as_u64().unwrap()).collect()
    };
    let q = |order: &str, exclusions: serde_json::Value| {
        json!({"kind":"funnel","order":order,"date_range":{"from":"-7d"},"exclusions":exclusions,
               "steps":[{"event":"a"},{"event":"b"}]})
    };
    // Ordered: u1 and u2 convert; u3 enters only.
    assert_eq!(counts(&f.run(NOW, q("ordered", json!([]))).await), vec![3, 2]);
    // Strict: x between a and b breaks u1.
    assert_eq!(counts(&f.run(NOW, q("strict", json!([]))).await), vec![3, 1]);
    // Unordered: u3's b then a converts too.
    assert_eq!(counts(&f.run(NOW, q("unordered", json!([]))).await), vec![3, 3]);
    // Excluding x between the steps spoils u1's attempt.
    assert_eq!(counts(&f.run(NOW, q("ordered", json!([{"event":"x"}]))).await), vec![3, 1]);
}
