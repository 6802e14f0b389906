//! The report's charts as inline SVG: no script, no network, nothing to load, so `report.html`
//! is one self-contained file that any browser (or a sandboxed iframe) shows as is. Every text in
//! a chart comes from the analysed folder and is escaped.

use super::collect::Collected;
use super::compute::{num, VariationStats};
use super::patterns::FactorEffect;

const WIDTH: f64 = 760.0;
const LEFT: f64 = 230.0;
const RIGHT: f64 = 30.0;
/// Points drawn per variation in a strip chart; beyond this an even sample is drawn (the
/// statistics always use every run).
const MAX_POINTS: usize = 300;
/// Series drawn in a trajectory chart.
const MAX_SERIES: usize = 10;
/// Rows drawn in an effects chart.
const MAX_EFFECT_ROWS: usize = 40;

const PALETTE: [&str; 10] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];

/// Escapes text for HTML and SVG.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

/// A linear scale from a data range onto pixels, with round tick values.
struct Scale {
    lo: f64,
    hi: f64,
    from: f64,
    to: f64,
}

impl Scale {
    fn new(lo: f64, hi: f64, from: f64, to: f64) -> Scale {
        let (lo, hi) = if (hi - lo).abs() < 1e-12 {
            (lo - 1.0, hi + 1.0)
        } else {
            (lo, hi)
        };
        let pad = (hi - lo) * 0.05;
        Scale {
            lo: lo - pad,
            hi: hi + pad,
            from,
            to,
        }
    }

    fn at(&self, x: f64) -> f64 {
        self.from + (x - self.lo) / (self.hi - self.lo) * (self.to - self.from)
    }

    fn ticks(&self) -> Vec<f64> {
        let raw = (self.hi - self.lo) / 5.0;
        let mag = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .iter()
            .map(|m| m * mag)
            .find(|s| *s >= raw)
            .unwrap_or(mag * 10.0);
        let mut t = (self.lo / step).ceil() * step;
        let mut out = Vec::new();
        while t <= self.hi + step * 1e-9 && out.len() < 20 {
            out.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
            t += step;
        }
        out
    }
}

fn svg_open(height: f64, label: &str) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-label="{}" font-family="system-ui, sans-serif" font-size="12">"#,
        escape(label)
    )
}

/// Vertical grid lines and labels of an x axis.
fn x_axis(out: &mut String, x: &Scale, top: f64, bottom: f64) {
    for t in x.ticks() {
        let px = x.at(t);
        out.push_str(&format!(
            r##"<line x1="{px:.1}" y1="{top}" x2="{px:.1}" y2="{bottom}" stroke="#e5e5e5"/><text x="{px:.1}" y="{:.1}" text-anchor="middle" fill="#555">{}</text>"##,
            bottom + 14.0,
            num(t)
        ));
    }
}

fn empty(label: &str) -> String {
    format!(
        r##"{}<text x="10" y="24" fill="#555">{}</text></svg>"##,
        svg_open(40.0, label),
        escape("no data")
    )
}

/// Each completed run's final value of metric `m` (`rows`: one list per variation, from
/// [`super::compute::FinalValues`]), with the mean and its 95% CI.
pub fn strip(c: &Collected, m: usize, rows: &[Vec<f64>], vs: &[VariationStats]) -> String {
    let name = &c.metrics[m];
    let all = rows.iter().flatten().copied();
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
        (lo.min(x), hi.max(x))
    });
    if !lo.is_finite() {
        return empty(name);
    }
    let row_h = 26.0;
    let top = 10.0;
    let bottom = top + row_h * rows.len() as f64;
    let x = Scale::new(lo, hi, LEFT, WIDTH - RIGHT);
    let mut out = svg_open(bottom + 24.0, &format!("{name} by variation"));
    x_axis(&mut out, &x, top, bottom);
    for (i, values) in rows.iter().enumerate() {
        let y = top + row_h * (i as f64 + 0.5);
        let v = &c.variations[i];
        out.push_str(&format!(
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#222"><title>{}</title>V{} {}</text>"##,
            LEFT - 8.0,
            y + 4.0,
            escape(&v.description),
            v.id,
            escape(&truncate(&v.description, 26))
        ));
        let color = PALETTE[i % PALETTE.len()];
        let stride = values.len().div_ceil(MAX_POINTS).max(1);
        for (k, value) in values.iter().enumerate().step_by(stride) {
            let jitter = ((k * 7919) % 17) as f64 / 16.0 * 12.0 - 6.0;
            out.push_str(&format!(
                r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{color}" fill-opacity="0.45"/>"#,
                x.at(*value),
                y + jitter
            ));
        }
        if let Some(s) = vs.get(i).and_then(|v| v.metrics.get(name)) {
            if let Some((clo, chi)) = s.ci95 {
                out.push_str(&format!(
                    r##"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#111" stroke-width="2"/>"##,
                    x.at(clo),
                    x.at(chi)
                ));
            }
            out.push_str(&format!(
                r##"<rect x="{:.1}" y="{:.1}" width="4" height="14" fill="#111"><title>mean {}</title></rect>"##,
                x.at(s.mean) - 2.0,
                y - 7.0,
                num(s.mean)
            ));
        }
    }
    out.push_str("</svg>");
    out
}

/// A metric's mean per turn for each variation (at most [`MAX_SERIES`]), with CI bands.
pub fn trajectory(name: &str, vs: &[VariationStats]) -> String {
    let series: Vec<(usize, &VariationStats)> = vs
        .iter()
        .enumerate()
        .filter(|(_, v)| v.metrics.get(name).is_some_and(|s| !s.by_turn.is_empty()))
        .take(MAX_SERIES)
        .collect();
    let points = series
        .iter()
        .flat_map(|(_, v)| v.metrics[name].by_turn.iter());
    let (mut tmax, mut lo, mut hi) = (0usize, f64::INFINITY, f64::NEG_INFINITY);
    for p in points {
        tmax = tmax.max(p.turn);
        let (a, b) = p.ci95.unwrap_or((p.mean, p.mean));
        lo = lo.min(a);
        hi = hi.max(b);
    }
    if !lo.is_finite() {
        return empty(name);
    }
    let (top, bottom, left) = (10.0, 250.0, 60.0);
    let legend_w = 170.0;
    let x = Scale::new(0.0, tmax.max(1) as f64, left, WIDTH - RIGHT - legend_w);
    let y = Scale::new(lo, hi, bottom, top);
    let mut out = svg_open(bottom + 40.0, &format!("{name} over turns"));
    for t in y.ticks() {
        let py = y.at(t);
        out.push_str(&format!(
            r##"<line x1="{left}" y1="{py:.1}" x2="{:.1}" y2="{py:.1}" stroke="#e5e5e5"/><text x="{:.1}" y="{:.1}" text-anchor="end" fill="#555">{}</text>"##,
            WIDTH - RIGHT - legend_w,
            left - 6.0,
            py + 4.0,
            num(t)
        ));
    }
    for t in 0..=tmax.max(1) {
        if tmax > 20 && t % (tmax / 10).max(1) != 0 {
            continue;
        }
        out.push_str(&format!(
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#555">{t}</text>"##,
            x.at(t as f64),
            bottom + 16.0
        ));
    }
    out.push_str(&format!(
        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#555">turn</text>"##,
        (left + WIDTH - RIGHT - legend_w) / 2.0,
        bottom + 32.0
    ));
    for (k, (i, v)) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let turns = &v.metrics[name].by_turn;
        let band: Vec<String> = turns
            .iter()
            .filter_map(|p| {
                p.ci95
                    .map(|(a, _)| format!("{:.1},{:.1}", x.at(p.turn as f64), y.at(a)))
            })
            .chain(turns.iter().rev().filter_map(|p| {
                p.ci95
                    .map(|(_, b)| format!("{:.1},{:.1}", x.at(p.turn as f64), y.at(b)))
            }))
            .collect();
        if band.len() >= 4 {
            out.push_str(&format!(
                r#"<polygon points="{}" fill="{color}" fill-opacity="0.12"/>"#,
                band.join(" ")
            ));
        }
        let line: Vec<String> = turns
            .iter()
            .map(|p| format!("{:.1},{:.1}", x.at(p.turn as f64), y.at(p.mean)))
            .collect();
        out.push_str(&format!(
            r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"/>"#,
            line.join(" ")
        ));
        for p in turns {
            out.push_str(&format!(
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{color}"><title>turn {}: {} (n={})</title></circle>"#,
                x.at(p.turn as f64),
                y.at(p.mean),
                p.turn,
                num(p.mean),
                p.n
            ));
        }
        let ly = top + 14.0 + 18.0 * k as f64;
        let lx = WIDTH - RIGHT - legend_w + 12.0;
        out.push_str(&format!(
            r##"<rect x="{lx}" y="{:.1}" width="12" height="3" fill="{color}"/><text x="{:.1}" y="{ly:.1}" fill="#222"><title>{}</title>V{} {}</text>"##,
            ly - 5.0,
            lx + 18.0,
            escape(&v.description),
            v.variation_id,
            escape(&truncate(&v.description, 18))
        ));
    }
    if vs.len() > MAX_SERIES {
        out.push_str(&format!(
            r##"<text x="{:.1}" y="{:.1}" fill="#555">first {MAX_SERIES} of {} variations</text>"##,
            WIDTH - RIGHT - legend_w + 12.0,
            top + 14.0 + 18.0 * MAX_SERIES as f64,
            vs.len()
        ));
    }
    out.push_str("</svg>");
    out
}

/// Hedges' g of each factor level against its reference, with 95% CIs, on one axis.
pub fn effects(effects: &[FactorEffect]) -> String {
    let rows: Vec<(String, f64, (f64, f64))> = effects
        .iter()
        .flat_map(|e| {
            e.contrasts.iter().filter_map(move |c| {
                let g = c.hedges_g.as_ref()?;
                Some((
                    format!(
                        "{}={}: {}",
                        e.factor, e.levels[c.b as usize].level, e.metric
                    ),
                    g.g,
                    g.ci95,
                ))
            })
        })
        .take(MAX_EFFECT_ROWS)
        .collect();
    if rows.is_empty() {
        return empty("factor effects");
    }
    let (lo, hi) = rows
        .iter()
        .fold((0.0f64, 0.0f64), |(lo, hi), (_, _, (a, b))| {
            (lo.min(*a), hi.max(*b))
        });
    let row_h = 24.0;
    let top = 10.0;
    let bottom = top + row_h * rows.len() as f64;
    let x = Scale::new(lo, hi, LEFT, WIDTH - RIGHT);
    let mut out = svg_open(bottom + 24.0, "factor effects");
    x_axis(&mut out, &x, top, bottom);
    out.push_str(&format!(
        r##"<line x1="{0:.1}" y1="{top}" x2="{0:.1}" y2="{bottom}" stroke="#888" stroke-dasharray="4 3"/>"##,
        x.at(0.0)
    ));
    for (i, (label, g, (a, b))) in rows.iter().enumerate() {
        let y = top + row_h * (i as f64 + 0.5);
        let color = if *a > 0.0 || *b < 0.0 {
            "#d62728"
        } else {
            "#1f77b4"
        };
        out.push_str(&format!(
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#222"><title>{}</title>{}</text><line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{color}" stroke-width="2"/><circle cx="{:.1}" cy="{y:.1}" r="4" fill="{color}"><title>g = {}</title></circle>"##,
            LEFT - 8.0,
            y + 4.0,
            escape(label),
            escape(&truncate(label, 34)),
            x.at(*a),
            x.at(*b),
            x.at(*g),
            num(*g)
        ));
    }
    out.push_str("</svg>");
    out
}

/// Mean cost per run of each variation, as bars.
pub fn costs(vs: &[VariationStats]) -> String {
    let hi = vs.iter().map(|v| v.cost.mean).fold(0.0, f64::max);
    if vs.is_empty() || hi <= 0.0 {
        return empty("cost per variation");
    }
    let row_h = 22.0;
    let top = 10.0;
    let bottom = top + row_h * vs.len() as f64;
    let x = Scale {
        lo: 0.0,
        hi: hi * 1.1,
        from: LEFT,
        to: WIDTH - RIGHT,
    };
    let mut out = svg_open(bottom + 24.0, "cost per variation");
    x_axis(&mut out, &x, top, bottom);
    for (i, v) in vs.iter().enumerate() {
        let y = top + row_h * i as f64;
        out.push_str(&format!(
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#222"><title>{}</title>V{} {}</text><rect x="{LEFT}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>${:.4} per run</title></rect>"##,
            LEFT - 8.0,
            y + row_h / 2.0 + 4.0,
            escape(&v.description),
            v.variation_id,
            escape(&truncate(&v.description, 26)),
            y + 3.0,
            x.at(v.cost.mean) - LEFT,
            row_h - 6.0,
            PALETTE[i % PALETTE.len()],
            v.cost.mean
        ));
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"<img src=x onerror="a">&'"#),
            "&lt;img src=x onerror=&quot;a&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        let s = Scale::new(0.0, 10.0, 0.0, 100.0);
        let t = s.ticks();
        assert!(t.contains(&0.0) && t.contains(&10.0));
        let step = t[1] - t[0];
        assert!([1.0, 2.0, 5.0].contains(&step), "{t:?}");
        assert!(t.windows(2).all(|w| ((w[1] - w[0]) - step).abs() < 1e-9));
        let flat = Scale::new(3.0, 3.0, 0.0, 100.0);
        assert!(!flat.ticks().is_empty());
    }
}
