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
    assert_eq!(f[3].effect, Effect::ConversionDrop { factor: 0.5 });
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
fn shipped_scenarios_parse() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
    let mut kinds = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let s = Scenario::from_toml(&std::fs::read_to_string(&path).unwrap()).unwrap();
        kinds.extend(s.frictions.iter().map(|f| f.effect.kind()));
    }
    kinds.sort_unstable();
    assert_eq!(kinds, ["conversion_drop", "feedback_theme", "rage_clicks", "slow_page", "step_failure"]);
}
