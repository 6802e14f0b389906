//! `runs.csv`: one row per run, tidy (RFC 4180), for pandas or R: its variation's factors as
//! columns, its status, cost, success and final metrics. Rows are produced in chunks so that a
//! host can append them without holding the whole file.

use super::collect::Collected;

/// Rows per chunk.
pub const CHUNK_ROWS: usize = 5_000;

fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) || text.starts_with([' ', '=', '+', '-', '@']) {
        // Quote, and keep a spreadsheet from reading a leading `=`/`+`/`-`/`@` as a formula.
        let guarded = if text.starts_with(['=', '+', '-', '@']) && text.parse::<f64>().is_err() {
            format!("'{text}")
        } else {
            text.to_string()
        };
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn number(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else {
        format!("{x}")
    }
}

/// The factor columns, in name order.
fn factor_names(c: &Collected) -> Vec<String> {
    let mut names: Vec<String> = c
        .variations
        .iter()
        .flat_map(|v| v.factors.keys().cloned())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The file, chunk by chunk: the first chunk starts with the header.
pub fn chunks(c: &Collected) -> impl Iterator<Item = String> + '_ {
    let factors = factor_names(c);
    let mut header: Vec<String> = ["run_id", "variation_id", "variation"]
        .map(String::from)
        .to_vec();
    header.extend(factors.iter().cloned());
    header.extend(
        [
            "status",
            "halt_reason",
            "success",
            "turns_completed",
            "cost_usd",
        ]
        .map(String::from),
    );
    header.extend(c.metrics.iter().cloned());
    let header_line = header
        .iter()
        .map(|h| field(h))
        .collect::<Vec<_>>()
        .join(",")
        + "\n";
    let count = c.rows.len().div_ceil(CHUNK_ROWS).max(1);
    (0..count).map(move |k| {
        let mut out = if k == 0 {
            header_line.clone()
        } else {
            String::new()
        };
        for r in c.rows.iter().skip(k * CHUNK_ROWS).take(CHUNK_ROWS) {
            let v = &c.variations[r.variation()];
            let mut cells = vec![field(&r.run_id), v.id.to_string(), field(&v.description)];
            cells.extend(
                factors
                    .iter()
                    .map(|f| field(v.factors.get(f).map(String::as_str).unwrap_or(""))),
            );
            cells.push(r.status.as_str().to_string());
            cells.push(field(r.reason.as_deref().unwrap_or("")));
            cells.push(if r.success { "true" } else { "false" }.into());
            cells.push(r.turns.to_string());
            cells.push(number(r.cost));
            cells.extend(r.finals.iter().map(|x| number(*x)));
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn fields_are_quoted_when_needed() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=cmd()"), "\"'=cmd()\"");
        assert_eq!(field("-1.5"), "\"-1.5\"");
    }
}
