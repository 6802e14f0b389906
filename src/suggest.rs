//! "Did you mean": the known name nearest to a misspelt one.

/// The candidate closest to `input` by edit distance, when it is close enough to be a typo.
///
/// The threshold (at most a third of the longer name, and at most 3 edits) was picked by hand:
/// it catches `budget_limt`, `runs_per_variaton` and `max_paralel`, and refuses to suggest
/// `output_dir` for `turns`. A candidate that contains the input whole (or the reverse) also
/// counts, which catches `budget` -> `budget_limit`.
pub fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let input_lc = input.to_ascii_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for cand in candidates {
        let d = distance(&input_lc, &cand.to_ascii_lowercase());
        let limit = (input.len().max(cand.len()) / 3).clamp(1, 3);
        let contains = input_lc.len() >= 4
            && (cand.contains(input_lc.as_str()) || input_lc.contains(&cand.to_ascii_lowercase()));
        if (d <= limit || contains) && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c)
}

/// Levenshtein distance, with adjacent transpositions counted as one edit.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev2 = vec![0usize; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 1);
            }
        }
        prev2 = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: &[&str] = &[
        "budget_limit",
        "cost_per_run_limit",
        "runs_per_variation",
        "max_parallel",
        "output_dir",
        "turns",
    ];

    #[test]
    fn finds_typos() {
        assert_eq!(
            closest("budget_limt", KEYS.iter().copied()),
            Some("budget_limit")
        );
        assert_eq!(
            closest("runs_per_variaton", KEYS.iter().copied()),
            Some("runs_per_variation")
        );
        assert_eq!(
            closest("max_paralel", KEYS.iter().copied()),
            Some("max_parallel")
        );
        assert_eq!(
            closest("budget", KEYS.iter().copied()),
            Some("budget_limit")
        );
        assert_eq!(closest("Turns", KEYS.iter().copied()), Some("turns"));
    }

    #[test]
    fn refuses_far_names() {
        assert_eq!(closest("resume_from", KEYS.iter().copied()), None);
        assert_eq!(closest("xyz", KEYS.iter().copied()), None);
    }

    #[test]
    fn transposition_is_one_edit() {
        assert_eq!(distance("tunrs", "turns"), 1);
        assert_eq!(distance("", "abc"), 3);
    }
}
