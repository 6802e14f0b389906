//! Two-way ANOVA for a factorial batch (two varied settings, several runs per combination),
//! with Type III sums of squares so that unbalanced cells (runs that failed or were cut by
//! the budget) do not let one factor's effect leak into the other's.

use super::dist::f_sf;
use super::{first_value, mean_var, sum, Test};

/// The three F tests of a two-way ANOVA: each has `statistic` F, `df` the term's degrees of
/// freedom, `df2` the residual degrees of freedom and `p`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct TwoWay {
    /// Main effect of factor A (the outer index of `cells`).
    pub a: Test,
    /// Main effect of factor B (the inner index of `cells`).
    pub b: Test,
    /// The A × B interaction.
    pub interaction: Test,
}

/// Two-way ANOVA with interaction. `cells[i][j]` holds the observations at level i of factor A
/// and level j of factor B. Type III sums of squares with sum-to-zero (effect) coding, as
/// statsmodels `anova_lm(ols('y ~ C(a, Sum) * C(b, Sum)', data), typ=3)`.
///
/// With effect coding the full model is saturated in the cells, so each Type III hypothesis is
/// a set of contrasts of the cell means μ: A's says the unweighted row means Σ_j μ_ij / b are
/// equal, B's the same for columns, the interaction's that every μ_ij - μ_ib - μ_aj + μ_ab is
/// zero. For contrasts C (one per degree of freedom) the sum of squares is the Wald form
/// (Cμ)ᵀ (C·diag(1/n_ij)·Cᵀ)⁻¹ (Cμ), equal to statsmodels' regression-based F test but with no
/// design matrix and no difference of two nearly equal residual sums. The residual is the
/// pooled within-cell sum of squares on N - a·b degrees of freedom.
///
/// `None` when a factor has fewer than two levels, the rows differ in length, a cell is
/// empty, the residual has no degrees of freedom (one observation per cell), or the residual
/// sum of squares is zero (every cell constant: F would be infinite or undefined); also beyond
/// 1000 cells, where the dense contrast matrices (cells² numbers) stop being small.
pub fn two_way_anova(cells: &[Vec<Vec<f64>>]) -> Option<TwoWay> {
    let na = cells.len();
    let nb = cells.first()?.len();
    if na < 2 || nb < 2 || na * nb > 1000 || cells.iter().any(|row| row.len() != nb) {
        return None;
    }
    if cells.iter().flatten().any(|c| c.is_empty()) {
        return None;
    }
    // Cell means, cell sizes (flattened row-major) and the within-cell residual.
    // Means relative to one observation: contrasts of them are then exact differences.
    let shift = first_value(cells.iter().flatten().map(Vec::as_slice));
    let means: Vec<f64> = cells
        .iter()
        .flatten()
        .map(|c| mean_var(c, shift).0)
        .collect();
    let sizes: Vec<f64> = cells.iter().flatten().map(|c| c.len() as f64).collect();
    let total: usize = cells.iter().flatten().map(Vec::len).sum();
    let df_resid = total.checked_sub(na * nb).filter(|&d| d > 0)? as f64;
    let rss = sum(cells
        .iter()
        .flatten()
        .zip(&means)
        .flat_map(|(c, &m)| c.iter().map(move |v| (v - shift - m).powi(2))));
    if rss <= 0.0 {
        return None;
    }
    let mse = rss / df_resid;
    let cell = |i: usize, j: usize| i * nb + j;

    // A: row i against the last row; B: column j against the last column.
    let contrasts_a: Vec<Vec<f64>> = (0..na - 1)
        .map(|i| {
            let mut c = vec![0.0; na * nb];
            for j in 0..nb {
                c[cell(i, j)] = 1.0;
                c[cell(na - 1, j)] = -1.0;
            }
            c
        })
        .collect();
    let contrasts_b: Vec<Vec<f64>> = (0..nb - 1)
        .map(|j| {
            let mut c = vec![0.0; na * nb];
            for i in 0..na {
                c[cell(i, j)] = 1.0;
                c[cell(i, nb - 1)] = -1.0;
            }
            c
        })
        .collect();
    let contrasts_ab: Vec<Vec<f64>> = (0..na - 1)
        .flat_map(|i| (0..nb - 1).map(move |j| (i, j)))
        .map(|(i, j)| {
            let mut c = vec![0.0; na * nb];
            c[cell(i, j)] = 1.0;
            c[cell(i, nb - 1)] = -1.0;
            c[cell(na - 1, j)] = -1.0;
            c[cell(na - 1, nb - 1)] = 1.0;
            c
        })
        .collect();

    let test = |contrasts: &[Vec<f64>]| -> Option<Test> {
        let ss = wald_ss(contrasts, &means, &sizes)?;
        let df = contrasts.len() as f64;
        let f = ss / df / mse;
        Some(Test {
            statistic: f,
            df: Some(df),
            df2: Some(df_resid),
            p: f_sf(f, df, df_resid),
        })
    };
    Some(TwoWay {
        a: test(&contrasts_a)?,
        b: test(&contrasts_b)?,
        interaction: test(&contrasts_ab)?,
    })
}

/// (Cμ)ᵀ (C·diag(1/n)·Cᵀ)⁻¹ (Cμ) by a Cholesky factorisation of the small q×q middle matrix
/// (q is a term's degrees of freedom). `None` if it is not positive definite, which full-rank
/// contrasts with non-empty cells never produce.
fn wald_ss(contrasts: &[Vec<f64>], means: &[f64], sizes: &[f64]) -> Option<f64> {
    let q = contrasts.len();
    let v: Vec<f64> = contrasts
        .iter()
        .map(|c| sum(c.iter().zip(means).map(|(c, m)| c * m)))
        .collect();
    let mut l = vec![0.0; q * q];
    for r in 0..q {
        for s in 0..=r {
            let m_rs: f64 = (0..sizes.len())
                .map(|k| contrasts[r][k] * contrasts[s][k] / sizes[k])
                .sum();
            let dot: f64 = (0..s).map(|k| l[r * q + k] * l[s * q + k]).sum();
            if r == s {
                let d = m_rs - dot;
                if d <= 0.0 {
                    return None;
                }
                l[r * q + r] = d.sqrt();
            } else {
                l[r * q + s] = (m_rs - dot) / l[s * q + s];
            }
        }
    }
    // Solve L z = v; the quadratic form is |z|².
    let mut z = vec![0.0; q];
    for r in 0..q {
        let dot: f64 = (0..r).map(|k| l[r * q + k] * z[k]).sum();
        z[r] = (v[r] - dot) / l[r * q + r];
    }
    Some(z.iter().map(|z| z * z).sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_design_matches_the_classical_sums_of_squares() {
        // Balanced 2x2 with 2 per cell: Type III equals the textbook decomposition.
        let cells = vec![
            vec![vec![1.0, 3.0], vec![4.0, 6.0]],
            vec![vec![2.0, 4.0], vec![9.0, 11.0]],
        ];
        let r = two_way_anova(&cells).unwrap();
        // Cell means 2, 5, 3, 10; grand 5; MSE = 8/4 = 2.
        // SS_A = 4·((3.5-5)² + (6.5-5)²) = 18; SS_B = 4·((2.5-5)² + (7.5-5)²) = 50;
        // SS_AB = 2·Σ(μ_ij - row - col + grand)² = 2·4·1 = 8.
        assert!((r.a.statistic - 9.0).abs() < 1e-12);
        assert!((r.b.statistic - 25.0).abs() < 1e-12);
        assert!((r.interaction.statistic - 4.0).abs() < 1e-12);
        assert_eq!((r.a.df, r.a.df2), (Some(1.0), Some(4.0)));
    }

    #[test]
    fn degenerate_designs_are_none() {
        assert_eq!(two_way_anova(&[]), None);
        assert_eq!(two_way_anova(&[vec![vec![1.0, 2.0], vec![3.0, 4.0]]]), None);
        let one_each = vec![vec![vec![1.0], vec![2.0]], vec![vec![3.0], vec![5.0]]];
        assert_eq!(two_way_anova(&one_each), None);
        let empty = vec![
            vec![vec![1.0, 2.0], vec![]],
            vec![vec![3.0, 4.0], vec![5.0, 6.0]],
        ];
        assert_eq!(two_way_anova(&empty), None);
        let ragged = vec![vec![vec![1.0, 2.0], vec![2.0, 3.0]], vec![vec![3.0, 4.0]]];
        assert_eq!(two_way_anova(&ragged), None);
        let constant = vec![
            vec![vec![1.0, 1.0], vec![2.0, 2.0]],
            vec![vec![3.0, 3.0], vec![4.0, 4.0]],
        ];
        assert_eq!(two_way_anova(&constant), None);
    }
}
