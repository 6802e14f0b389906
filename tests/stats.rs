//! `scenario_lab::stats` against scipy and statsmodels: every case of
//! `tests/fixtures/stats/reference.json` (made by `scripts/stats-reference.py`, whose
//! library versions the fixture records) runs through our function, and every number must
//! agree to 1e-9 relative. A `null` expectation means our function must return `None`.
//!
//! Each test collects all its mismatches before failing, naming the case, the field and both
//! values, so that one run shows the whole picture.

use scenario_lab::stats::{self, Test};
use serde_json::Value;

/// Relative tolerance for every real number.
const REL: f64 = 1e-9;
/// Absolute tolerance for statistics that are zero in exact arithmetic (t of identical samples).
const ABS: f64 = 1e-12;
/// p-values below this may underflow differently in the two implementations.
const TINY: f64 = 1e-300;

#[allow(clippy::disallowed_methods)] // a test may read its own fixture
fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/stats/reference.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("reference.json is JSON")
}

/// Collects comparisons and mismatches for one group of cases.
struct Check {
    what: &'static str,
    compared: usize,
    failures: Vec<String>,
    /// The largest relative difference seen, and where: printed, to show the margin.
    worst: (f64, String),
    /// The same for the numbers checked to an absolute tolerance (group-sequential designs).
    worst_abs: (f64, String),
}

impl Check {
    fn new(what: &'static str) -> Self {
        Check {
            what,
            compared: 0,
            failures: Vec::new(),
            worst: (0.0, String::new()),
            worst_abs: (0.0, String::new()),
        }
    }

    fn fail(&mut self, case: &str, field: &str, ours: String, expected: String) {
        self.failures.push(format!(
            "{} / {case} / {field}: ours {ours}, expected {expected}",
            self.what
        ));
    }

    fn note(&mut self, case: &str, field: &str, ours: f64, e: f64) {
        let rel = (ours - e).abs() / ours.abs().max(e.abs());
        if rel > self.worst.0 {
            self.worst = (rel, format!("{case} / {field}"));
        }
    }

    /// A real number: 1e-9 relative, or 1e-12 absolute.
    fn num(&mut self, case: &str, field: &str, ours: f64, expected: &Value) {
        self.compared += 1;
        let e = expected
            .as_f64()
            .unwrap_or_else(|| panic!("{case}/{field}: {expected} is not a number"));
        if ours.abs().max(e.abs()) > 1e-9 {
            self.note(case, field, ours, e);
        }
        let ok = ours == e
            || (ours - e).abs() <= ABS
            || (ours - e).abs() <= REL * ours.abs().max(e.abs());
        if !ok {
            self.fail(case, field, format!("{ours:e}"), format!("{e:e}"));
        }
    }

    /// A p-value: 1e-9 relative however small, unless both are below 1e-300.
    fn p(&mut self, case: &str, field: &str, ours: f64, expected: &Value) {
        self.compared += 1;
        let e = expected.as_f64().expect("p is a number");
        if ours >= TINY || e >= TINY {
            self.note(case, field, ours, e);
        }
        let ok = (ours < TINY && e < TINY) || (ours - e).abs() <= REL * ours.abs().max(e.abs());
        if !ok {
            self.fail(case, field, format!("{ours:e}"), format!("{e:e}"));
        }
    }

    /// A real number to an absolute tolerance: for the group-sequential references, which
    /// come from quasi-Monte Carlo integration rather than from a closed form.
    fn within(&mut self, case: &str, field: &str, ours: f64, expected: &Value, tol: f64) {
        self.compared += 1;
        let e = expected
            .as_f64()
            .unwrap_or_else(|| panic!("{case}/{field}: {expected} is not a number"));
        let diff = (ours - e).abs();
        if diff > self.worst_abs.0 {
            self.worst_abs = (diff, format!("{case} / {field}"));
        }
        if diff > tol || diff.is_nan() {
            self.fail(case, field, format!("{ours:e}"), format!("{e:e} ± {tol:e}"));
        }
    }

    fn int(&mut self, case: &str, field: &str, ours: Option<usize>, expected: &Value) {
        self.compared += 1;
        if ours.map(|n| n as u64) != expected.as_u64() {
            self.fail(case, field, format!("{ours:?}"), expected.to_string());
        }
    }

    /// `Some` must meet a non-null expectation and `None` a null one; true when both are there.
    fn presence<T: std::fmt::Debug>(
        &mut self,
        case: &str,
        ours: &Option<T>,
        expected: &Value,
    ) -> bool {
        self.compared += 1;
        match (ours, expected.is_null()) {
            (Some(_), false) => true,
            (None, true) => false,
            (o, _) => {
                self.fail(case, "presence", format!("{o:?}"), expected.to_string());
                false
            }
        }
    }

    fn pair(&mut self, case: &str, field: &str, ours: Option<(f64, f64)>, expected: &Value) {
        if self.presence(case, &ours, expected) {
            let (lo, hi) = ours.unwrap();
            self.num(case, &format!("{field}.0"), lo, &expected[0]);
            self.num(case, &format!("{field}.1"), hi, &expected[1]);
        }
    }

    fn opt_num(&mut self, case: &str, field: &str, ours: Option<f64>, expected: &Value) {
        if self.presence(case, &ours, expected) {
            self.num(case, field, ours.unwrap(), expected);
        }
    }

    fn test(&mut self, case: &str, ours: Option<Test>, expected: &Value) {
        if self.presence(case, &ours, expected) {
            let t = ours.unwrap();
            self.num(case, "statistic", t.statistic, &expected["statistic"]);
            self.opt_num(case, "df", t.df, &expected["df"]);
            self.opt_num(case, "df2", t.df2, &expected["df2"]);
            self.p(case, "p", t.p, &expected["p"]);
        }
    }

    fn effect(&mut self, case: &str, ours: Option<stats::Effect>, expected: &Value) {
        if self.presence(case, &ours, expected) {
            let e = ours.unwrap();
            self.num(case, "g", e.g, &expected["g"]);
            self.pair(case, "ci95", Some(e.ci95), &expected["ci95"]);
        }
    }

    fn finish(self) {
        println!(
            "{}: {} comparisons, largest relative difference {:.1e} ({})",
            self.what, self.compared, self.worst.0, self.worst.1
        );
        if !self.worst_abs.1.is_empty() {
            println!(
                "{}: largest absolute difference {:.1e} ({})",
                self.what, self.worst_abs.0, self.worst_abs.1
            );
        }
        assert!(self.compared > 0, "{}: no cases in the fixture", self.what);
        assert!(
            self.failures.is_empty(),
            "{} mismatches:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

fn cases<'a>(fx: &'a Value, key: &str) -> &'a [Value] {
    fx[key]
        .as_array()
        .unwrap_or_else(|| panic!("fixture has no {key}"))
}

fn name(case: &Value) -> &str {
    case["name"].as_str().unwrap_or("?")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn groups(v: &Value) -> Vec<Vec<f64>> {
    v.as_array().expect("array").iter().map(floats).collect()
}

fn uint(v: &Value) -> usize {
    v.as_u64().expect("unsigned") as usize
}

#[test]
fn fixture_records_its_reference_versions() {
    let fx = fixture();
    for lib in ["python", "numpy", "scipy", "statsmodels"] {
        assert!(fx["versions"][lib].is_string(), "versions.{lib}");
    }
}

#[test]
fn describe_and_running_match_numpy_and_scipy() {
    let fx = fixture();
    let mut c = Check::new("describe");
    for case in cases(&fx, "describe") {
        let (n, values, e) = (name(case), floats(&case["values"]), &case["expected"]);
        let ours = stats::describe(&values);
        if c.presence(n, &ours, e) {
            let s = ours.unwrap();
            c.int(n, "n", Some(s.n), &e["n"]);
            for (field, v) in [
                ("mean", s.mean),
                ("min", s.min),
                ("max", s.max),
                ("median", s.median),
                ("q1", s.q1),
                ("q3", s.q3),
            ] {
                c.num(n, field, v, &e[field]);
            }
            c.opt_num(n, "sd", s.sd, &e["sd"]);
            c.pair(n, "ci95", s.ci95, &e["ci95"]);
        }
        // Running sees the same values one at a time.
        let mut r = stats::Running::default();
        values.iter().for_each(|&v| r.push(v));
        let run = format!("{n} (Running)");
        // Indexing a null expectation gives null, which is what an empty Running must return.
        c.int(
            &run,
            "n",
            Some(r.n()),
            &Value::from(e["n"].as_u64().unwrap_or(0)),
        );
        c.opt_num(&run, "mean", r.mean(), &e["mean"]);
        c.opt_num(&run, "sd", r.sd(), &e["sd"]);
        c.pair(&run, "ci95", r.ci95(), &e["ci95"]);
    }
    c.finish();
}

#[test]
fn mean_ci_matches_scipy_t_interval() {
    let fx = fixture();
    let mut c = Check::new("mean_ci");
    for case in cases(&fx, "mean_ci") {
        let ours = stats::mean_ci(
            uint(&case["n"]),
            case["mean"].as_f64().unwrap(),
            case["sd"].as_f64().unwrap(),
            case["level"].as_f64().unwrap(),
        );
        c.pair(name(case), "ci", ours, &case["expected"]);
    }
    c.finish();
}

#[test]
fn wilson_matches_scipy_binomtest() {
    let fx = fixture();
    let mut c = Check::new("wilson");
    for case in cases(&fx, "wilson") {
        let ours = stats::wilson(
            uint(&case["successes"]),
            uint(&case["n"]),
            case["level"].as_f64().unwrap(),
        );
        c.pair(name(case), "ci", ours, &case["expected"]);
    }
    c.finish();
}

#[test]
fn two_sample_tests_match_scipy() {
    let fx = fixture();
    let mut c = Check::new("two_sample");
    for case in cases(&fx, "two_sample") {
        let (n, a, b) = (name(case), floats(&case["a"]), floats(&case["b"]));
        c.test(
            &format!("{n} welch_t"),
            stats::welch_t(&a, &b),
            &case["welch_t"],
        );
        c.test(
            &format!("{n} mann_whitney"),
            stats::mann_whitney(&a, &b),
            &case["mann_whitney"],
        );
        c.pair(
            &format!("{n} welch_ci"),
            "ci95",
            stats::welch_ci(&a, &b, 0.95),
            &case["welch_ci"],
        );
        let g = stats::hedges_g(&a, &b);
        let (gn, e) = (format!("{n} hedges_g"), &case["hedges_g"]);
        if c.presence(&gn, &g, e) {
            let g = g.unwrap();
            c.num(&gn, "g", g.g, &e["g"]);
            c.pair(&gn, "ci95", Some(g.ci95), &e["ci95"]);
        }
    }
    c.finish();
}

#[test]
fn k_sample_tests_match_scipy() {
    let fx = fixture();
    let mut c = Check::new("groups");
    for case in cases(&fx, "groups") {
        let owned = groups(&case["groups"]);
        let refs: Vec<&[f64]> = owned.iter().map(Vec::as_slice).collect();
        let n = name(case);
        c.test(
            &format!("{n} welch_anova"),
            stats::welch_anova(&refs),
            &case["welch_anova"],
        );
        c.test(
            &format!("{n} kruskal_wallis"),
            stats::kruskal_wallis(&refs),
            &case["kruskal_wallis"],
        );
    }
    c.finish();
}

#[test]
fn holm_matches_statsmodels_multipletests() {
    let fx = fixture();
    let mut c = Check::new("holm");
    for case in cases(&fx, "holm") {
        let ours = stats::holm(&floats(&case["p"]));
        let expected = case["expected"].as_array().unwrap();
        c.compared += 1;
        if ours.len() != expected.len() {
            c.fail(
                name(case),
                "len",
                ours.len().to_string(),
                expected.len().to_string(),
            );
            continue;
        }
        for (i, (o, e)) in ours.iter().zip(expected).enumerate() {
            c.num(name(case), &format!("[{i}]"), *o, e);
        }
    }
    c.finish();
}

#[test]
fn fisher_exact_matches_scipy() {
    let fx = fixture();
    let mut c = Check::new("fisher_exact");
    for case in cases(&fx, "fisher_exact") {
        let t: Vec<u64> = case["table"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        c.p(
            name(case),
            "p",
            stats::fisher_exact(t[0], t[1], t[2], t[3]),
            &case["expected"],
        );
    }
    for row in cases(&fx, "fisher_exact_sweep") {
        let t: Vec<u64> = row.as_array().unwrap()[..4]
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        let label = format!("sweep {t:?}");
        c.p(
            &label,
            "p",
            stats::fisher_exact(t[0], t[1], t[2], t[3]),
            &row[4],
        );
    }
    c.finish();
}

#[test]
fn two_proportions_matches_statsmodels() {
    let fx = fixture();
    let mut c = Check::new("two_proportions");
    for case in cases(&fx, "two_proportions") {
        let ours = stats::two_proportions(
            uint(&case["s1"]),
            uint(&case["n1"]),
            uint(&case["s2"]),
            uint(&case["n2"]),
        );
        c.test(name(case), ours, &case["expected"]);
    }
    c.finish();
}

#[test]
fn power_and_sample_sizes_match_statsmodels() {
    let fx = fixture();
    let mut c = Check::new("power");
    for case in cases(&fx, "power_two_sample") {
        let d = case["d"].as_f64().unwrap();
        let ours = stats::power_two_sample(d, uint(&case["n"]), case["alpha"].as_f64().unwrap());
        c.num(name(case), "power", ours, &case["expected"]);
    }
    for case in cases(&fx, "n_for_power") {
        let ours = stats::n_for_power(
            case["d"].as_f64().unwrap(),
            case["alpha"].as_f64().unwrap(),
            case["power"].as_f64().unwrap(),
        );
        if c.presence(name(case), &ours, &case["expected"]) {
            c.int(name(case), "n", ours, &case["expected"]);
        }
    }
    for case in cases(&fx, "n_for_half_width") {
        let ours = stats::n_for_half_width(
            case["sd"].as_f64().unwrap(),
            case["half_width"].as_f64().unwrap(),
            case["level"].as_f64().unwrap(),
        );
        if c.presence(name(case), &ours, &case["expected"]) {
            c.int(name(case), "n", ours, &case["expected"]);
        }
    }
    c.finish();
}

#[test]
fn two_way_anova_matches_statsmodels_type_iii() {
    let fx = fixture();
    let mut c = Check::new("two_way_anova");
    for case in cases(&fx, "two_way_anova") {
        let cells: Vec<Vec<Vec<f64>>> = case["cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(groups)
            .collect();
        let (n, e) = (name(case), &case["expected"]);
        let ours = stats::two_way_anova(&cells);
        if c.presence(n, &ours, e) {
            let r = ours.unwrap();
            c.test(&format!("{n} a"), Some(r.a), &e["a"]);
            c.test(&format!("{n} b"), Some(r.b), &e["b"]);
            c.test(
                &format!("{n} interaction"),
                Some(r.interaction),
                &e["interaction"],
            );
        }
    }
    c.finish();
}

#[test]
fn paired_tests_match_scipy() {
    let fx = fixture();
    let mut c = Check::new("paired");
    for case in cases(&fx, "paired") {
        let (n, x, y) = (name(case), floats(&case["x"]), floats(&case["y"]));
        c.test(
            &format!("{n} paired_t"),
            stats::paired_t(&x, &y),
            &case["paired_t"],
        );
        for (level, key) in [(0.95, "paired_ci95"), (0.90, "paired_ci90")] {
            c.pair(
                &format!("{n} {key}"),
                "ci",
                stats::paired_ci(&x, &y, level),
                &case[key],
            );
        }
        c.test(
            &format!("{n} wilcoxon"),
            stats::wilcoxon(&x, &y),
            &case["wilcoxon"],
        );
        c.effect(
            &format!("{n} cohen_dz"),
            stats::cohen_dz(&x, &y),
            &case["cohen_dz"],
        );
    }
    c.finish();
}

#[test]
fn mcnemar_matches_statsmodels_exact() {
    let fx = fixture();
    let mut c = Check::new("mcnemar");
    for case in cases(&fx, "mcnemar") {
        let (a, b) = (
            case["only_x"].as_u64().unwrap(),
            case["only_y"].as_u64().unwrap(),
        );
        c.p(name(case), "p", stats::mcnemar(a, b), &case["expected"]);
    }
    c.finish();
}

#[test]
fn rm_anova_matches_statsmodels_anova_rm() {
    let fx = fixture();
    let mut c = Check::new("rm_anova");
    for case in cases(&fx, "rm_anova_one_way") {
        let ours = stats::rm_anova_one_way(&groups(&case["blocks"]));
        c.test(&format!("{} one_way", name(case)), ours, &case["expected"]);
    }
    for case in cases(&fx, "rm_anova_two_way") {
        let blocks: Vec<Vec<Vec<f64>>> = case["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .map(groups)
            .collect();
        let (n, e) = (format!("{} two_way", name(case)), &case["expected"]);
        let ours = stats::rm_anova_two_way(&blocks);
        if c.presence(&n, &ours, e) {
            let r = ours.unwrap();
            c.test(&format!("{n} a"), Some(r.a), &e["a"]);
            c.test(&format!("{n} b"), Some(r.b), &e["b"]);
            c.test(
                &format!("{n} interaction"),
                Some(r.interaction),
                &e["interaction"],
            );
        }
    }
    c.finish();
}

#[test]
fn spending_and_z_from_t_match_scipy() {
    let fx = fixture();
    let mut c = Check::new("spending");
    for case in cases(&fx, "obf_spending") {
        let (alpha, t) = (case["alpha"].as_f64().unwrap(), case["t"].as_f64().unwrap());
        c.p(
            name(case),
            "alpha(t)",
            stats::obf_spending(alpha, t),
            &case["expected"],
        );
    }
    for case in cases(&fx, "z_from_t") {
        let (t, df) = (case["t"].as_f64().unwrap(), case["df"].as_f64().unwrap());
        c.num(name(case), "z", stats::z_from_t(t, df), &case["expected"]);
    }
    c.finish();
}

/// Boundaries and drift against the same design solved from the multivariate normal
/// distribution of (Z_1..Z_K) by quasi-Monte Carlo, to the tolerances the fixture states
/// (1e-4 on boundaries and drift: the QMC error, not ours); stage-wise p-values of the
/// fixture's own boundaries to 1e-6.
#[test]
fn group_sequential_matches_the_multivariate_normal() {
    let fx = fixture();
    let mut c = Check::new("group_sequential");
    for case in cases(&fx, "group_sequential") {
        let (n, e) = (name(case), &case["expected"]);
        let (alpha, power) = (
            case["alpha"].as_f64().unwrap(),
            case["power"].as_f64().unwrap(),
        );
        let fractions = floats(&case["fractions"]);
        let ours = stats::group_sequential(alpha, power, &fractions);
        if !c.presence(n, &ours, e) {
            continue;
        }
        let d = ours.unwrap();
        let tol = &case["tolerance"];
        let (tb, td, tp) = (
            tol["boundary"].as_f64().unwrap(),
            tol["drift"].as_f64().unwrap(),
            tol["p"].as_f64().unwrap(),
        );
        c.compared += 1;
        if d.fractions != fractions || d.efficacy.len() != fractions.len() {
            c.fail(
                n,
                "fractions",
                format!("{d:?}"),
                fractions.len().to_string(),
            );
            continue;
        }
        for k in 0..fractions.len() {
            c.within(
                n,
                &format!("efficacy[{k}]"),
                d.efficacy[k],
                &e["efficacy"][k],
                tb,
            );
            c.within(
                n,
                &format!("futility[{k}]"),
                d.futility[k],
                &e["futility"][k],
                tb,
            );
        }
        c.within(n, "drift", d.drift, &e["drift"], td);
        // The p-values of the reference's boundaries, so that only the integration differs.
        let reference = stats::GroupSequential {
            alpha,
            power,
            fractions: fractions.clone(),
            efficacy: floats(&e["efficacy"]),
            futility: floats(&e["futility"]),
            drift: e["drift"].as_f64().unwrap(),
        };
        for row in case["sequential_p"].as_array().unwrap() {
            let (look, z) = (uint(&row["look"]), row["z"].as_f64().unwrap());
            let field = format!("sequential_p(look {look}, z {z:.4})");
            c.within(
                n,
                &field,
                stats::sequential_p(&reference, look, z),
                &row["p"],
                tp,
            );
        }
    }
    c.finish();
}

/// Small random inputs, including empty groups, ties and constants: nothing panics, and every
/// `Some` holds finite numbers with p-values in [0, 1].
#[test]
fn small_random_inputs_never_panic_or_give_nan() {
    use scenario_lab::rng::Rng;
    let mut rng = Rng::new(7);
    let sample = |rng: &mut Rng| -> Vec<f64> {
        let n = (rng.next_u64() % 7) as usize;
        let levels = 1 + rng.next_u64() % 4; // few distinct values: ties and constants
        (0..n)
            .map(|_| (rng.next_u64() % levels) as f64 * 0.5 - 1.0)
            .collect()
    };
    let ok_test = |t: &Option<Test>| {
        t.as_ref().is_none_or(|t| {
            t.statistic.is_finite()
                && (0.0..=1.0).contains(&t.p)
                && t.df.is_none_or(f64::is_finite)
                && t.df2.is_none_or(f64::is_finite)
        })
    };
    for _ in 0..3000 {
        let (a, b, c) = (sample(&mut rng), sample(&mut rng), sample(&mut rng));
        assert!(ok_test(&stats::welch_t(&a, &b)), "welch {a:?} {b:?}");
        assert!(ok_test(&stats::mann_whitney(&a, &b)), "mwu {a:?} {b:?}");
        assert!(
            ok_test(&stats::welch_anova(&[&a, &b, &c])),
            "welch anova {a:?} {b:?} {c:?}"
        );
        assert!(
            ok_test(&stats::kruskal_wallis(&[&a, &b, &c])),
            "kruskal {a:?} {b:?} {c:?}"
        );
        if let Some(e) = stats::hedges_g(&a, &b) {
            assert!(e.g.is_finite() && e.ci95.0 <= e.g && e.g <= e.ci95.1);
        }
        if let Some(s) = stats::describe(&a) {
            assert!(s.min <= s.q1 && s.q1 <= s.median && s.median <= s.q3 && s.q3 <= s.max);
            if let Some((lo, hi)) = s.ci95 {
                assert!(lo <= s.mean && s.mean <= hi);
            }
        }
        let cells = vec![vec![a.clone(), b.clone()], vec![c.clone(), a.clone()]];
        if let Some(r) = stats::two_way_anova(&cells) {
            assert!(ok_test(&Some(r.a)) && ok_test(&Some(r.b)) && ok_test(&Some(r.interaction)));
        }
        let counts: Vec<u64> = (0..4).map(|_| rng.next_u64() % 6).collect();
        let p = stats::fisher_exact(counts[0], counts[1], counts[2], counts[3]);
        assert!((0.0..=1.0).contains(&p), "fisher {counts:?}");
        let (s1, s2) = (counts[0] as usize, counts[1] as usize);
        assert!(ok_test(&stats::two_proportions(
            s1,
            s1 + counts[2] as usize,
            s2,
            s2 + counts[3] as usize
        )));
        if let Some((lo, hi)) = stats::wilson(s1, s1 + counts[2] as usize, 0.95) {
            assert!((0.0..=1.0).contains(&lo) && lo <= hi && hi <= 1.0);
        }
        let adjusted = stats::holm(&a.iter().map(|v| (v + 1.0) / 2.0).collect::<Vec<_>>());
        assert!(adjusted.iter().all(|p| (0.0..=1.0).contains(p)));
        // Paired: the first n of each, so that lengths agree (and, unequal, give None).
        let n = a.len().min(b.len());
        let (x, y) = (&a[..n], &b[..n]);
        assert!(ok_test(&stats::paired_t(x, y)), "paired t {x:?} {y:?}");
        assert!(ok_test(&stats::wilcoxon(x, y)), "wilcoxon {x:?} {y:?}");
        if a.len() != b.len() {
            assert!(stats::wilcoxon(&a, &b).is_none() && stats::paired_t(&a, &b).is_none());
        }
        if let Some((lo, hi)) = stats::paired_ci(x, y, 0.95) {
            assert!(lo.is_finite() && lo <= hi && hi.is_finite());
        }
        if let Some(e) = stats::cohen_dz(x, y) {
            assert!(e.g.is_finite() && e.ci95.0 <= e.g && e.g <= e.ci95.1);
        }
        let p = stats::mcnemar(counts[0], counts[1]);
        assert!((0.0..=1.0).contains(&p), "mcnemar {counts:?}");
        if n > 0 && !c.is_empty() {
            let blocks: Vec<Vec<f64>> = (0..n).map(|i| vec![a[i], b[i], c[i % c.len()]]).collect();
            assert!(ok_test(&stats::rm_anova_one_way(&blocks)), "rm {blocks:?}");
            let blocks2: Vec<Vec<Vec<f64>>> = blocks
                .iter()
                .map(|b| vec![b.clone(), b.iter().rev().copied().collect()])
                .collect();
            if let Some(r) = stats::rm_anova_two_way(&blocks2) {
                assert!(
                    ok_test(&Some(r.a)) && ok_test(&Some(r.b)) && ok_test(&Some(r.interaction))
                );
            }
        }
    }
}

/// Large inputs go through in well under a second (the sorts are O(n log n), the exact
/// Mann-Whitney distribution is O(m²·n) for the small group m, Fisher walks only its tails),
/// and a shift of 10^6 changes no statistic beyond the rounding of the shifted data. (The
/// fixture's `shifted_large_offset` checks the digits themselves, against exact arithmetic.)
#[test]
fn large_and_shifted_inputs() {
    use scenario_lab::rng::Rng;
    let mut rng = Rng::new(11);
    let mut normalish = |n: usize, mean: f64| -> Vec<f64> {
        (0..n)
            .map(|_| mean + (0..4).map(|_| rng.next_f64()).sum::<f64>() - 2.0)
            .collect()
    };
    let (a, b, c) = (
        normalish(100_000, 0.0),
        normalish(100_000, 0.01),
        normalish(100_000, 0.0),
    );
    assert!(stats::mann_whitney(&a, &b).is_some());
    assert!(stats::kruskal_wallis(&[&a, &b, &c]).is_some());
    // Exact distribution: 8 values against 20 000, no ties.
    let small = normalish(8, 0.3);
    let exact = stats::mann_whitney(&small, &a[..20_000]).unwrap();
    assert!((0.0..=1.0).contains(&exact.p));
    assert!(stats::fisher_exact(400_000, 390_000, 395_000, 401_000) < 1e-3);

    let shift = |v: &[f64]| v.iter().map(|x| x + 1e6).collect::<Vec<f64>>();
    let (sa, sb, sc) = (shift(&a[..500]), shift(&b[..400]), shift(&c[..300]));
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-6 * x.abs().max(y.abs());
    let (t0, t1) = (
        stats::welch_t(&a[..500], &b[..400]).unwrap(),
        stats::welch_t(&sa, &sb).unwrap(),
    );
    assert!(close(t0.statistic, t1.statistic), "{t0:?} {t1:?}");
    let (g0, g1) = (
        stats::hedges_g(&a[..500], &b[..400]).unwrap(),
        stats::hedges_g(&sa, &sb).unwrap(),
    );
    assert!(close(g0.g, g1.g));
    let f0 = stats::welch_anova(&[&a[..500], &b[..400], &c[..300]]).unwrap();
    let f1 = stats::welch_anova(&[&sa, &sb, &sc]).unwrap();
    assert!(close(f0.statistic, f1.statistic), "{f0:?} {f1:?}");
    let cells = |a: &[f64], b: &[f64], c: &[f64]| {
        vec![
            vec![a[..100].to_vec(), b[..90].to_vec()],
            vec![c[..80].to_vec(), a[100..170].to_vec()],
        ]
    };
    let w0 = stats::two_way_anova(&cells(&a, &b, &c)).unwrap();
    let w1 = stats::two_way_anova(&cells(&shift(&a[..200]), &sb, &sc)).unwrap();
    assert!(
        close(w0.a.statistic, w1.a.statistic)
            && close(w0.interaction.statistic, w1.interaction.statistic)
    );
}
