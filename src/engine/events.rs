//! Which exogenous events happen on a turn, drawn from the run's seeded generator.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::{Condition, EventKind, ExogenousEvent};
use crate::rng::Rng;

/// The events due on `turn`, in file order. `fired` holds the names of `once` events that
/// already happened (and is updated); `latest` the latest value of each metric; `world` the
/// current world state. Every random event draws once per turn whether or not it is in range,
/// so that the draws do not shift when a scenario is edited elsewhere.
pub fn due(
    events: &[ExogenousEvent],
    turn: u32,
    rng: &mut Rng,
    fired: &mut BTreeSet<String>,
    latest: &BTreeMap<String, f64>,
    world: &str,
) -> Vec<ExogenousEvent> {
    let mut out = Vec::new();
    for e in events {
        let draw = rng.next_f64();
        if e.once && fired.contains(&e.name) {
            continue;
        }
        if let Some((a, b)) = e.turn_range {
            if turn < a || turn > b {
                continue;
            }
        }
        let happens = match &e.kind {
            EventKind::Trend { frequency } => {
                let start = e.turn_range.map_or(1, |r| r.0);
                (turn - start) % (*frequency).max(1) == 0
            }
            EventKind::Random { probability } => draw < *probability,
            EventKind::Scheduled { turns } => turns.contains(&turn),
            EventKind::Conditional { conditions } => {
                conditions.iter().all(|c| holds(c, latest, world))
            }
        };
        if happens {
            if e.once {
                fired.insert(e.name.clone());
            }
            out.push(e.clone());
        }
    }
    out
}

fn holds(c: &Condition, latest: &BTreeMap<String, f64>, world: &str) -> bool {
    match c {
        Condition::Metric { metric, op, value } => {
            latest.get(metric).is_some_and(|v| op.holds(*v, *value))
        }
        Condition::WorldStateContains { pattern, also } => {
            let found =
                |p: &str| crate::config::compile_pattern(p).is_ok_and(|re| re.is_match(world));
            found(pattern) && also.as_deref().is_none_or(found)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CompareOp;

    fn ev(name: &str, kind: EventKind, once: bool) -> ExogenousEvent {
        ExogenousEvent {
            name: name.into(),
            description: String::new(),
            kind,
            turn_range: None,
            once,
        }
    }

    #[test]
    fn each_kind() {
        let events = vec![
            ev("trend", EventKind::Trend { frequency: 2 }, false),
            ev("sched", EventKind::Scheduled { turns: vec![3] }, true),
            ev(
                "cond",
                EventKind::Conditional {
                    conditions: vec![Condition::Metric {
                        metric: "x".into(),
                        op: CompareOp::Ge,
                        value: 5.0,
                    }],
                },
                true,
            ),
            ev(
                "text",
                EventKind::Conditional {
                    conditions: vec![Condition::WorldStateContains {
                        pattern: "strike".into(),
                        also: None,
                    }],
                },
                false,
            ),
        ];
        let mut fired = BTreeSet::new();
        let mut latest = BTreeMap::new();
        let names = |v: Vec<ExogenousEvent>| v.into_iter().map(|e| e.name).collect::<Vec<_>>();
        let mut rng = Rng::new(1);
        assert_eq!(
            names(due(&events, 1, &mut rng, &mut fired, &latest, "calm")),
            ["trend"]
        );
        assert!(names(due(
            &events,
            2,
            &mut rng,
            &mut fired,
            &latest,
            "a STRIKE looms"
        ))
        .contains(&"text".to_string()));
        latest.insert("x".into(), 6.0);
        assert_eq!(
            names(due(&events, 3, &mut rng, &mut fired, &latest, "calm")),
            ["trend", "sched", "cond"]
        );
        assert!(
            names(due(&events, 4, &mut rng, &mut fired, &latest, "calm")).is_empty(),
            "once events fire once"
        );
    }

    #[test]
    fn random_events_follow_the_seed() {
        let events = vec![ev("r", EventKind::Random { probability: 0.5 }, false)];
        let run = |seed| {
            (1..=40)
                .map(|t| {
                    !due(
                        &events,
                        t,
                        &mut Rng::new(seed ^ t as u64),
                        &mut BTreeSet::new(),
                        &BTreeMap::new(),
                        "",
                    )
                    .is_empty()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(9), run(9));
        assert_ne!(run(9), run(10));
        let n = run(9).iter().filter(|x| **x).count();
        assert!((10..=30).contains(&n), "{n}");
    }
}
