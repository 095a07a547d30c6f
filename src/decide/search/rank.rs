//! Ranking the deployments that meet every constraint, and picking the runners-up.

use std::cmp::Ordering;

use super::KEEP;
use super::assess::Candidate;

/// What wins among deployments that meet every constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefer {
    /// Highest quality, then lowest cost.
    Quality,
    /// Lowest cost per hour, then highest quality.
    Cost,
    /// Shortest time to answer, then highest quality.
    Speed,
}

impl Prefer {
    /// The order of the keys, as the trace states it.
    pub fn order(self) -> &'static str {
        match self {
            Prefer::Quality => "quality (2-point bands), then time to answer, then cost",
            Prefer::Cost => "cost, then quality, then time to answer",
            Prefer::Speed => "time to answer, then quality",
        }
    }
}

/// Quality scores are compared in bands of this many points. The benchmarks behind them have a
/// sampling error of about 3 points (GPQA Diamond: 198 questions ⇒ standard error ≈ 3.4 points at
/// 60%), so a 1-point gain from a bigger quant is noise, not a reason to run slower or costlier.
pub const QUALITY_BAND: f64 = 2.0;

/// Times are compared in bands 10% wide: closer than that is within the speed model's error.
const TIME_BAND: f64 = 1.1;

fn time_band(ms: f64) -> f64 {
    (ms.max(1e-3).ln() / TIME_BAND.ln()).floor()
}

fn cmp_f64(a: f64, b: f64) -> Ordering {
    a.total_cmp(&b)
}

/// The winner first, then at most [`KEEP`] alternatives: one per model × quant × GPU type (the
/// best-ranked engine and count).
pub fn choose<'a>(
    prefer: Prefer,
    mut passing: Vec<Candidate<'a>>,
) -> (Option<Candidate<'a>>, Vec<Candidate<'a>>) {
    passing.sort_by(|a, b| rank(prefer, a, b));
    let mut passing = passing.into_iter();
    let choice = passing.next();
    let mut alternatives: Vec<Candidate<'a>> = Vec::new();
    for cand in passing {
        if alternatives.len() >= KEEP {
            break;
        }
        let same = |x: &Candidate| {
            let (x, c) = (&x.evaluated, &cand.evaluated);
            x.deployment.model.id == c.deployment.model.id
                && x.deployment.quant.id == c.deployment.quant.id
                && x.hardware.gpus.first().map(|g| &g.id) == c.hardware.gpus.first().map(|g| &g.id)
        };
        if choice.as_ref().is_some_and(same) || alternatives.iter().any(same) {
            continue;
        }
        alternatives.push(cand);
    }
    (choice, alternatives)
}

/// Ranking. Default: the highest quality (in bands), then the fastest answer (in bands), then the
/// lowest cost and fewest GPUs; engine order of the catalog breaks remaining ties (the sort is
/// stable). Every key is a plain number, so the order is total.
fn rank(prefer: Prefer, a: &Candidate, b: &Candidate) -> Ordering {
    let cost = |c: &Candidate| c.usd_per_hour().unwrap_or(0.0);
    let band = |c: &Candidate| (c.quality / QUALITY_BAND).round();
    let quality = cmp_f64(band(b), band(a));
    let exact_quality = cmp_f64(b.quality, a.quality);
    let gpus = |c: &Candidate| c.evaluated.deployment.gpus;
    let cheaper = cmp_f64(cost(a), cost(b)).then(gpus(a).cmp(&gpus(b)));
    let answer = |c: &Candidate| time_band(c.evaluated.performance.time_to_answer_ms);
    let faster = cmp_f64(answer(a), answer(b));
    let ttft = |c: &Candidate| time_band(c.evaluated.performance.ttft_ms);
    let ttft = cmp_f64(ttft(a), ttft(b));
    match prefer {
        Prefer::Quality => quality
            .then(faster)
            .then(cheaper)
            .then(exact_quality)
            .then(ttft),
        Prefer::Cost => cheaper.then(quality).then(faster).then(exact_quality),
        Prefer::Speed => faster.then(quality).then(cheaper).then(exact_quality),
    }
}
