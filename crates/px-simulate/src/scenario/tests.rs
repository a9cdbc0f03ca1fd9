#![allow(clippy::unwrap_used)]

use super::*;
use crate::calendar::DAY_MICROS;

const HOUR: i64 = 3_600_000_000;

fn invalid_field(text: &str) -> String {
    match Scenario::from_toml(text) {
        Err(e) => e.field().map(str::to_string).unwrap_or_else(|| e.to_string()),
        Ok(s) => panic!("accepted: {s:?}"),
    }
}

#[test]
fn every_field_is_read() {
    let s = Scenario::from_toml(
        r#"
        name = "all"
        description = "every field"

        [[friction]]
        kind = "step_failure"
        start = "day 5"
        end = "2025-05-20T12:00:00Z"
        step = "signup_completed"
        probability = 0.3
        segment = { browser = "safari", os = "iOS", device_type = "mobile", country = "BR", plan = "free", app_version = "1.4.1" }

        [[friction]]
        kind = "slow_page"
        start = "5d 12h"
        page = "/app/reports"
        factor = 3.0
        bounce = 0.1

        [[friction]]
        kind = "rage_clicks"
        start = "90m"
        page = "/checkout/payment"
        element = "button#pay-now"
        probability = 0.2

        [[friction]]
        kind = "conversion_drop"
        start = "2025-05-06T00:00:00+02:00"
        factor = 0.5

        [[friction]]
        kind = "feedback_theme"
        start = "day 0"
        theme = "password_reset"
        rate = 0.05
        texts = [{ en = "can't reset password", pt_br = "não consigo redefinir a senha" }]
        "#,
    )
    .unwrap();
    assert_eq!((s.name.as_str(), s.description.as_str(), s.len()), ("all", "every field", 5));
    let f = &s.frictions;
    assert_eq!(f[0].effect, Effect::StepFailure { step: Step::SignupCompleted, probability: 0.3 });
    assert_eq!(f[0].start, When::Offset(5 * DAY_MICROS));
    assert_eq!(f[0].end, Some(When::At(1_747_742_400_000_000)));
    assert_eq!(
        f[0].segment,
        Segment {
            browser: Some(Browser::Safari),
            os: Some(Os::Ios),
            device_type: Some(DeviceType::Mobile),
            country: Some("BR"),
            plan: Some(Plan::Free),
            app_version: Some(1),
        }
    );
    assert_eq!(f[1].effect, Effect::SlowPage { page: Page::Reports, factor: 3.0, bounce: 0.1 });
    assert_eq!(f[1].start, When::Offset(5 * DAY_MICROS + 12 * HOUR));
    assert_eq!(f[1].end, None);
    assert_eq!(f[1].segment, Segment::default());
    let Effect::RageClicks { page, element, probability } = &f[2].effect else { panic!("{:?}", f[2]) };
    assert_eq!((*page, element.selector, *probability), (Page::Payment, "button#pay-now", 0.2));
    assert_eq!(f[2].start, When::Offset(90 * 60_000_000));
    assert_eq!(f[3].effect, Effect::ConversionDrop { step: Step::CheckoutCompleted, factor: 0.5 });
    assert_eq!(f[3].start, When::At(1_746_482_400_000_000));
    let Effect::FeedbackTheme { theme, texts, rate } = &f[4].effect else { panic!("{:?}", f[4]) };
    assert_eq!(
        (theme.as_str(), *rate, texts[0].pt_br.as_str()),
        ("password_reset", 0.05, "não consigo redefinir a senha")
    );
}

#[test]
fn bad_input_names_the_field() {
    let base = "name = \"x\"\n[[friction]]\n";
    let cases = [
        ("kind = \"teleport\"\nstart = \"day 1\"", "friction[0].kind"),
        ("kind = \"conversion_drop\"\nstart = \"tomorrow\"\nfactor = 0.5", "friction[0].start"),
        ("kind = \"conversion_drop\"\nstart = \"day 3\"\nend = \"day 2\"\nfactor = 0.5", "friction[0].end"),
        ("kind = \"conversion_drop\"\nstart = \"day 1\"\nfactor = 1.5", "friction[0].factor"),
        ("kind = \"conversion_drop\"\nstart = \"day 1\"", "friction[0].factor"),
        ("kind = \"conversion_drop\"\nstart = \"day 1\"\nfactor = 0.5\nprobability = 0.1", "friction[0].probability"),
        ("kind = \"step_failure\"\nstart = \"day 1\"\nstep = \"login\"\nprobability = 0.1", "friction[0].step"),
        (
            "kind = \"step_failure\"\nstart = \"day 1\"\nstep = \"signup_completed\"\nprobability = 2",
            "friction[0].probability",
        ),
        ("kind = \"slow_page\"\nstart = \"day 1\"\npage = \"/nope\"\nfactor = 2", "friction[0].page"),
        (
            "kind = \"rage_clicks\"\nstart = \"day 1\"\npage = \"/\"\nelement = \"#x\"\nprobability = 0.1",
            "friction[0].element",
        ),
        ("kind = \"feedback_theme\"\nstart = \"day 1\"\ntheme = \"t\"\nrate = 0.1\ntexts = []", "friction[0].texts"),
        (
            "kind = \"conversion_drop\"\nstart = \"day 1\"\nfactor = 0.5\nsegment = { country = \"ZZ\" }",
            "friction[0].segment.country",
        ),
        (
            "kind = \"conversion_drop\"\nstart = \"day 1\"\nfactor = 0.5\nsegment = { app_version = \"9.9\" }",
            "friction[0].segment.app_version",
        ),
    ];
    for (body, field) in cases {
        assert_eq!(invalid_field(&format!("{base}{body}")), field, "{body}");
    }
    // Syntax-level problems: toml names the key in its message.
    let unknown = Scenario::from_toml("name = \"x\"\ncolour = \"red\"").unwrap_err().to_string();
    assert!(unknown.contains("colour"), "{unknown}");
    let segment = Scenario::from_toml(&format!(
        "{base}kind = \"conversion_drop\"\nstart = \"day 1\"\nfactor = 0.5\nsegment = {{ city = \"Rio\" }}"
    ))
    .unwrap_err()
    .to_string();
    assert!(segment.contains("city"), "{segment}");
    assert!(Scenario::from_toml("description = \"no name\"").unwrap_err().to_string().contains("name"));
}

#[test]
fn new_kinds_and_run_settings_are_read() {
    let s = Scenario::from_toml(
        r#"
        name = "new"
        builtin_frictions = true

        [run]
        days = 21
        visitors_per_day = 800
        seed = 7
        start = "2025-03-03"

        [[friction]]
        kind = "error_loop"
        start = "day 2"
        page = "/signup"
        probability = 0.4
        segment = { country = "IN" }

        [[friction]]
        kind = "error_loop"
        start = "day 3"
        page = "/app/settings"
        message = "ValidationError: Project name is too long"
        probability = 0.2
        repeats = 6

        [[friction]]
        kind = "traffic_spike"
        start = "day 8"
        end = "day 9"
        factor = 4
        channel = "Hacker-News"

        [[friction]]
        kind = "traffic_spike"
        start = "day 10"
        factor = 1.5

        [[friction]]
        kind = "conversion_drop"
        start = "day 1"
        step = "signup_completed"
        factor = 0.4
        "#,
    )
    .unwrap();
    assert!(s.builtin_frictions);
    let march_3 = 1_740_960_000_000_000;
    assert_eq!(s.run(), RunSettings { days: 21, visitors_per_day: 800, seed: 7, start: Some(march_3) });
    assert_eq!(s.run().config(0).start_micros, march_3);
    let f = &s.frictions;
    let Effect::ErrorLoop { form, message, probability, repeats } = &f[0].effect else { panic!("{:?}", f[0]) };
    assert_eq!((form.page, message.as_str(), *probability, *repeats), (Page::Signup, form.default_message, 0.4, 4));
    assert_eq!(f[0].segment.country, Some("IN"));
    let Effect::ErrorLoop { form, message, repeats, .. } = &f[1].effect else { panic!("{:?}", f[1]) };
    assert_eq!(
        (form.page, form.submit.selector, message.as_str(), *repeats),
        (Page::Settings, "button.save-settings", "ValidationError: Project name is too long", 6)
    );
    assert_eq!(f[2].effect, Effect::TrafficSpike { factor: 4.0, channel: Some(11) });
    assert_eq!(crate::catalog::channels::CHANNELS[11].name, "hacker-news");
    assert_eq!(f[3].effect, Effect::TrafficSpike { factor: 1.5, channel: None });
    assert_eq!(f[4].effect, Effect::ConversionDrop { step: Step::SignupCompleted, factor: 0.4 });
    assert_eq!(
        f.iter().map(|f| f.effect.insight_type()).collect::<Vec<_>>(),
        ["friction", "friction", "anomaly", "anomaly", "friction"]
    );
}

#[test]
fn run_settings_default_when_absent() {
    let s = Scenario::from_toml("name = \"x\"").unwrap();
    assert_eq!(s.run(), RunSettings { days: 14, visitors_per_day: 500, seed: 42, start: None });
    assert_eq!(s.run(), RunSettings::default());
    assert!(!s.builtin_frictions);
    let partial = Scenario::from_toml("name = \"x\"\n[run]\nseed = 9").unwrap();
    assert_eq!(partial.run(), RunSettings { seed: 9, ..RunSettings::default() });
    assert_eq!(partial.run().config(123).start_micros, 123);
}

#[test]
fn bad_new_input_names_the_field() {
    let cases = [
        ("[run]\ndays = 5", "run.days"),
        ("[run]\ndays = 91", "run.days"),
        ("[run]\nvisitors_per_day = 0", "run.visitors_per_day"),
        ("[run]\nstart = \"2025-13-01\"", "run.start"),
        ("[run]\nstart = \"2025-05-05T00:00:00Z\"", "run.start"),
        (
            "[run]\ndays = 10\n[[friction]]\nkind = \"conversion_drop\"\nstart = \"day 10\"\nfactor = 0.5",
            "friction[0].start",
        ),
        (
            "[[friction]]\nkind = \"error_loop\"\nstart = \"day 1\"\npage = \"/pricing\"\nprobability = 0.1",
            "friction[0].page",
        ),
        (
            "[[friction]]\nkind = \"error_loop\"\nstart = \"day 1\"\npage = \"/login\"\nprobability = 0.1\nrepeats = 1",
            "friction[0].repeats",
        ),
        (
            "[[friction]]\nkind = \"error_loop\"\nstart = \"day 1\"\npage = \"/login\"\nprobability = 0.1\nmessage = \" \"",
            "friction[0].message",
        ),
        ("[[friction]]\nkind = \"error_loop\"\nstart = \"day 1\"\npage = \"/login\"", "friction[0].probability"),
        (
            "[[friction]]\nkind = \"error_loop\"\nstart = \"day 1\"\npage = \"/login\"\nprobability = 0.1\nfactor = 2",
            "friction[0].factor",
        ),
        ("[[friction]]\nkind = \"traffic_spike\"\nstart = \"day 1\"\nfactor = 1.2", "friction[0].factor"),
        ("[[friction]]\nkind = \"traffic_spike\"\nstart = \"day 1\"\nfactor = 25", "friction[0].factor"),
        (
            "[[friction]]\nkind = \"traffic_spike\"\nstart = \"day 1\"\nfactor = 3\nchannel = \"myspace\"",
            "friction[0].channel",
        ),
        (
            "[[friction]]\nkind = \"traffic_spike\"\nstart = \"day 1\"\nfactor = 3\nsegment = { country = \"US\" }",
            "friction[0].segment",
        ),
        (
            "[[friction]]\nkind = \"conversion_drop\"\nstart = \"day 1\"\nfactor = 0.5\nstep = \"login\"",
            "friction[0].step",
        ),
        (
            "[[friction]]\nkind = \"slow_page\"\nstart = \"day 1\"\npage = \"/\"\nfactor = 2\nchannel = \"bing\"",
            "friction[0].channel",
        ),
    ];
    for (body, field) in cases {
        assert_eq!(invalid_field(&format!("name = \"x\"\n{body}")), field, "{body}");
    }
    let unknown = Scenario::from_toml("name = \"x\"\n[run]\nhours = 3").unwrap_err().to_string();
    assert!(unknown.contains("hours"), "{unknown}");
    let message = Scenario::from_toml("name = \"x\"\n[run]\ndays = 100").unwrap_err().to_string();
    assert_eq!(message, "run.days: 100 is not between 7 and 90");
}

/// Every shipped file parses, is a run of at least a week, and the set has
/// clean scenarios (for false insights) and every kind of friction.
#[test]
fn shipped_scenarios_parse() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
    let (mut kinds, mut clean, mut names) = (Vec::new(), 0, std::collections::HashSet::new());
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let s = Scenario::from_toml(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(s.run().days >= 7, "{}", path.display());
        assert!(!s.description.trim().is_empty(), "{}", path.display());
        assert!(names.insert(s.name.clone()), "two scenarios named {}", s.name);
        clean += usize::from(s.is_empty());
        kinds.extend(s.frictions.iter().map(|f| f.effect.kind()));
    }
    assert!(names.len() >= 14, "{}", names.len());
    assert!(clean >= 3, "{clean} clean scenarios");
    kinds.sort_unstable();
    kinds.dedup();
    let all = [
        "conversion_drop",
        "error_loop",
        "feedback_theme",
        "rage_clicks",
        "slow_page",
        "step_failure",
        "traffic_spike",
    ];
    assert_eq!(kinds, all);
}
