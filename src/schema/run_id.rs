//! A run's id, `var-002-run-003`: its one format, its one parse and its one validation. It is
//! also the run's folder name under `runs/`, so the parse accepts nothing that could lead a path
//! elsewhere (only ASCII digits between the fixed parts).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Which run: the variation's id and the run's number within it, both counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(test, derive(ts_rs::TS), ts(type = "string"))]
pub struct RunId {
    /// The variation's id (`var-002` is 2).
    pub variation: u64,
    /// The run's number within its variation (`run-003` is 3).
    pub run: u64,
}

/// At most this many digits per number: ids stay short, and every parsed number fits any
/// index arithmetic done on it.
const MAX_DIGITS: usize = 9;

impl RunId {
    /// The run at 0-based index `i` of a batch, variation-major: with 5 runs per variation,
    /// index 7 is `var-002-run-003`.
    pub fn from_index(i: u64, runs_per_variation: u64) -> RunId {
        let per = runs_per_variation.max(1);
        RunId {
            variation: i / per + 1,
            run: i % per + 1,
        }
    }

    /// Its 0-based index in a batch of `runs_per_variation` runs per variation; `None` for a
    /// run number beyond it.
    pub fn index(self, runs_per_variation: u64) -> Option<u64> {
        (self.run <= runs_per_variation)
            .then(|| (self.variation - 1) * runs_per_variation + (self.run - 1))
    }

    /// `var-N-run-M` with N, M of 1 to 9 ASCII digits, both at least 1; `None` for anything else.
    pub fn parse(name: &str) -> Option<RunId> {
        let (v, r) = name.strip_prefix("var-")?.split_once("-run-")?;
        let number = |s: &str| {
            let digits =
                (1..=MAX_DIGITS).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
            digits
                .then(|| s.parse::<u64>().ok())
                .flatten()
                .filter(|n| *n >= 1)
        };
        Some(RunId {
            variation: number(v)?,
            run: number(r)?,
        })
    }
}

/// `var-001-run-001`: three digits at least, wider numbers are not cut (the original's
/// `var-%03d-run-%03d`).
impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "var-{:03}-run-{:03}", self.variation, self.run)
    }
}

impl Serialize for RunId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RunId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RunId, D::Error> {
        let text = String::deserialize(d)?;
        RunId::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("`{text}` is not a run id (var-N-run-M)"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::RunId;

    #[test]
    fn format_parse_and_index_agree() {
        let id = |v, r| RunId {
            variation: v,
            run: r,
        };
        assert_eq!(id(1, 1).to_string(), "var-001-run-001");
        assert_eq!(id(12, 345).to_string(), "var-012-run-345");
        assert_eq!(id(1234, 5).to_string(), "var-1234-run-005");
        for runs in [1, 3, 5] {
            for i in 0..40 {
                let r = RunId::from_index(i, runs);
                assert_eq!(RunId::parse(&r.to_string()), Some(r));
                assert_eq!(r.index(runs), Some(i));
            }
        }
        assert_eq!(RunId::from_index(7, 5), id(2, 3));
        assert_eq!(id(2, 6).index(5), None, "run 6 of 5");
        assert_eq!(RunId::parse("var-123-run-4567"), Some(id(123, 4567)));
    }

    #[test]
    fn parse_refuses_what_is_not_an_id() {
        for bad in [
            "var-000-run-001",
            "var-001-run-000",
            "var-x-run-1",
            "var--run-1",
            "var-1-run-1x",
            "var-+1-run-1",
            "var-1234567890-run-1",
            "../var-1-run-1",
            "var-1-run-1/..",
            "notes.txt",
        ] {
            assert_eq!(RunId::parse(bad), None, "{bad}");
        }
        let json: Result<RunId, _> = serde_json::from_str("\"var-1-run-0\"");
        assert!(json.unwrap_err().to_string().contains("not a run id"));
        assert_eq!(
            serde_json::to_string(&RunId {
                variation: 2,
                run: 3
            })
            .unwrap(),
            "\"var-002-run-003\""
        );
    }
}
