use super::*;
use proptest::prelude::*;

fn assert_close(got: f64, want: f64, tol: f64) {
    assert!((got - want).abs() <= tol, "got {got}, want {want} within {tol}");
}

#[test]
fn median_and_quantile_on_hand_arrays() {
    assert_eq!(median(&[]), None);
    assert_eq!(median(&[f64::NAN]), None);
    assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
    assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    // NaN is skipped, not sorted to an end.
    assert_eq!(median(&[f64::NAN, 5.0, 1.0, f64::NAN, 3.0]), Some(3.0));

    // Type 7 on [1, 2, 3, 4, 10]: h = (n - 1) q.
    let xs = [10.0, 1.0, 3.0, 2.0, 4.0];
    assert_eq!(quantile(&xs, 0.0), Some(1.0));
    assert_eq!(quantile(&xs, 1.0), Some(10.0));
    // q = 0.9: h = 3.6 -> 4 + 0.6 (10 - 4) = 7.6.
    assert_close(quantile(&xs, 0.9).unwrap(), 7.6, 1e-12);
    // q = 0.1: h = 0.4 -> 1 + 0.4 (2 - 1) = 1.4.
    assert_close(quantile(&xs, 0.1).unwrap(), 1.4, 1e-12);
    assert_eq!(quantile(&xs, 1.5), None);
    assert_eq!(quantile(&xs, f64::NAN), None);
}

#[test]
fn mad_is_scaled_and_ignores_the_outlier() {
    // [1, 2, 3, 4, 100]: median 3, deviations [2, 1, 0, 1, 97] -> median 1.
    assert_close(mad(&[1.0, 2.0, 3.0, 4.0, 100.0]).unwrap(), 1.4826, 1e-12);
    assert_eq!(mad(&[7.0, 7.0, 7.0]), Some(0.0));
    assert_eq!(mad(&[]), None);
}

#[test]
fn mean_and_moments_skip_nan() {
    assert_eq!(mean(&[]), None);
    assert_eq!(mean(&[1.0, f64::NAN, 2.0, 6.0]), Some(3.0));
    let m = SampleMoments::from_slice(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
    assert_eq!(m.count, 8.0);
    assert_close(m.mean, 5.0, 1e-12);
    // Sum of squared deviations is 32; unbiased variance 32 / 7.
    assert_close(m.variance, 32.0 / 7.0, 1e-12);
}

#[test]
fn normal_cdf_at_known_points() {
    assert_eq!(normal_cdf(0.0), 0.5);
    assert_close(normal_cdf(1.96), 0.975_002_104_851_779_5, 1e-12);
    assert_close(normal_cdf(-3.0), 0.001_349_898_031_630_095_6, 1e-15);
    assert_close(normal_cdf(5.0), 0.999_999_713_348_428_1, 1e-12);
    // Deep lower tail keeps relative accuracy: Φ(-10) = 7.6198530241605e-24.
    let tail = normal_cdf(-10.0);
    assert!((tail / 7.619_853_024_160_593e-24 - 1.0).abs() < 1e-12, "{tail}");
}

#[test]
fn two_sided_p_at_known_points() {
    assert_close(two_sided_p(1.96), 0.049_995_790_296_440_87, 1e-12);
    assert_eq!(two_sided_p(-1.96), two_sided_p(1.96));
    assert_eq!(two_sided_p(0.0), 1.0);
    // 1 - Φ(10) would round to 0; the erfc form keeps 1.5239706e-23.
    let p = two_sided_p(10.0);
    assert!((p / 1.523_970_604_832_118_6e-23 - 1.0).abs() < 1e-12, "{p}");
    assert!(two_sided_p(f64::NAN).is_nan());
    // chi-square(1) upper tail at 3.841459 (the 5% critical value).
    assert_close(chi_square_1df_sf(3.841_459), 0.05, 1e-7);
    assert_eq!(chi_square_1df_sf(0.0), 1.0);
}

#[test]
fn two_proportion_test_textbook_example() {
    // 45/100 vs 60/100: pooled 105/200 = 0.525,
    // se = sqrt(0.525 * 0.475 * (1/100 + 1/100)) = 0.0706222,
    // z = (0.60 - 0.45) / se = 2.12398, p = 2 (1 - Φ(2.12398)) = 0.03367.
    let a = Proportion { successes: 45.0, trials: 100.0 };
    let b = Proportion { successes: 60.0, trials: 100.0 };
    let r = two_proportion_test(a, b).unwrap();
    assert_close(r.difference, 0.15, 1e-12);
    assert_close(r.z, 2.123_977, 1e-5);
    assert_close(r.p_value, 0.033_67, 1e-4);
    // Swapping the sides flips the sign, not the p-value.
    let swapped = two_proportion_test(b, a).unwrap();
    assert_close(swapped.z, -r.z, 1e-12);
    assert_close(swapped.p_value, r.p_value, 1e-15);
}

#[test]
fn two_proportion_test_refuses_what_it_cannot_test() {
    let ok = Proportion { successes: 5.0, trials: 10.0 };
    let empty = Proportion { successes: 0.0, trials: 0.0 };
    assert_eq!(two_proportion_test(ok, empty), None);
    let none = Proportion { successes: 0.0, trials: 50.0 };
    assert_eq!(two_proportion_test(none, none), None, "pooled variance 0");
    let bad = Proportion { successes: 11.0, trials: 10.0 };
    assert_eq!(bad.rate(), None);
    assert_eq!(two_proportion_test(ok, bad), None);
}

#[test]
fn welch_test_matches_a_worked_example() {
    // a: n = 10, mean 19.37, variance 1.449
    // b: n = 20, mean 21.59, variance 17.003053
    // se² = 1.449/10 + 17.003053/20 = 0.1449 + 0.8501526 = 0.9950526
    // t = (21.59 - 19.37) / sqrt(0.9950526) = 2.225512
    // df = 0.9950526² / (0.1449²/9 + 0.8501526²/19) = 24.5246
    // p = P(|T_24.52| >= 2.2255) = 0.035485 (numerical integration of the
    // t density).
    let a = [19.8, 20.4, 19.6, 17.8, 18.5, 18.9, 18.3, 18.9, 19.5, 22.0];
    let b = [
        28.2, 26.6, 20.1, 23.3, 25.2, 22.1, 17.7, 27.6, 20.6, 13.7, 23.2, 17.5, 20.6, 18.0, 23.9, 21.6, 24.3, 20.4,
        23.9, 13.3,
    ];
    let r = welch_test(&a, &b).unwrap();
    assert_close(r.difference, 2.22, 1e-9);
    assert_close(r.z, 2.225_512, 1e-5);
    assert_close(r.p_value, 0.035_485, 1e-5);
    // The normal approximation would say 0.026: too optimistic here.
    assert!(r.p_value > two_sided_p(r.z) + 0.005);
}

#[test]
fn welch_test_small_sample_closed_form() {
    // a = [1, 3], b = [4, 6]: variances 2 and 2, se = sqrt(2/2 + 2/2) = √2,
    // t = 3/√2, df = 2² / (1²/1 + 1²/1) = 2, and for df = 2
    // P(|T| > t) = 1 - t / sqrt(2 + t²) = 1 - 2.12132/2.54951 = 0.167950.
    let r = welch_test(&[1.0, 3.0], &[4.0, 6.0]).unwrap();
    let t = 3.0 / 2f64.sqrt();
    assert_close(r.z, t, 1e-12);
    assert_close(r.p_value, 1.0 - t / (2.0 + t * t).sqrt(), 1e-12);
    assert_eq!(welch_test(&[1.0], &[4.0, 6.0]), None, "one value has no spread");
    assert_eq!(welch_test(&[2.0, 2.0], &[5.0, 5.0]), None, "standard error 0");
}

#[test]
fn holm_known_example() {
    // Sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 -> max 0.06.
    let adjusted = holm(&[0.01, 0.04, 0.03, 0.005]);
    let want = [0.03, 0.06, 0.06, 0.02];
    for (got, want) in adjusted.iter().zip(want) {
        assert_close(*got, want, 1e-12);
    }
    assert!(holm(&[]).is_empty());
    assert_eq!(holm(&[0.6, 0.5]), vec![1.0, 1.0], "capped at 1");
    assert_eq!(holm(&[f64::NAN, 0.01]), vec![1.0, 0.02], "NaN is no evidence");
}

#[test]
fn bonferroni_scales_and_caps() {
    assert_close(bonferroni(0.01, 3), 0.03, 1e-15);
    assert_eq!(bonferroni(0.4, 3), 1.0);
    assert_eq!(bonferroni(0.02, 0), 0.02);
}

proptest! {
    #[test]
    fn holm_is_at_least_raw_at_most_one_and_monotone(
        ps in proptest::collection::vec(0.0f64..=1.0, 0..40)
    ) {
        let adjusted = holm(&ps);
        prop_assert_eq!(adjusted.len(), ps.len());
        for (p, a) in ps.iter().zip(&adjusted) {
            prop_assert!(a >= p && *a <= 1.0, "p {} adjusted {}", p, a);
        }
        for i in 0..ps.len() {
            for j in 0..ps.len() {
                if ps[i] < ps[j] {
                    prop_assert!(adjusted[i] <= adjusted[j]);
                }
            }
        }
    }

    #[test]
    fn quantile_stays_within_the_data_and_grows_with_q(
        xs in proptest::collection::vec(-1e6f64..1e6, 1..30),
        q1 in 0.0f64..=1.0,
        q2 in 0.0f64..=1.0,
    ) {
        let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (q1, q2) = if q1 <= q2 { (q1, q2) } else { (q2, q1) };
        let a = quantile(&xs, q1).unwrap();
        let b = quantile(&xs, q2).unwrap();
        // One ulp of interpolation rounding is allowed.
        let tol = 1e-9;
        prop_assert!(lo - tol <= a && a <= b + tol && b <= hi + tol);
    }
}
