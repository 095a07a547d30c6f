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
    /// The order of the keys, as the trace states it; `tolerance`: see [`tiers`].
    pub fn order(self, tolerance: f64) -> String {
        match self {
            Prefer::Quality => format!(
                "quality (within {tolerance:.1} points counts as equal), then time to answer, then cost"
            ),
            Prefer::Cost => "cost, then quality, then time to answer".into(),
            Prefer::Speed => "time to answer, then quality".into(),
        }
    }
}

/// Times are compared in bands 10% wide: closer than that is within the speed model's error.
const TIME_BAND: f64 = 1.1;

fn time_band(ms: f64) -> f64 {
    (ms.max(1e-3).ln() / TIME_BAND.ln()).floor()
}

fn cmp_f64(a: f64, b: f64) -> Ordering {
    a.total_cmp(&b)
}

/// Quality tiers, 0 the best: the highest quality opens a tier, every candidate within
/// `tolerance` points of that tier's best joins it, and the first one further below opens the
/// next. Anchored on each tier's best, so no fixed band edge splits two nearly equal scores, and
/// the tier is a plain number, so the ranking's order stays total.
pub fn tiers(qualities: &[f64], tolerance: f64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..qualities.len()).collect();
    order.sort_by(|&a, &b| qualities[b].total_cmp(&qualities[a]));
    let mut tier = vec![0; qualities.len()];
    // (tier, its best quality)
    let mut current: Option<(usize, f64)> = None;
    for i in order {
        let q = qualities[i];
        let t = match current {
            Some((t, best)) if best - q <= tolerance => t,
            Some((t, _)) => t + 1,
            None => 0,
        };
        if current.is_none_or(|(c, _)| c != t) {
            current = Some((t, q));
        }
        tier[i] = t;
    }
    tier
}

/// The winner first, then at most [`KEEP`] alternatives: one per model × quant × GPU type (the
/// best-ranked engine and count), and the speed point of every passing candidate in rank order
/// (see [`Decision::passed`](super::Decision)). `tolerance`: see [`tiers`].
pub fn choose<'a>(
    prefer: Prefer,
    tolerance: f64,
    passing: Vec<Candidate<'a>>,
) -> (Option<Candidate<'a>>, Vec<Candidate<'a>>, Vec<(f64, f64)>) {
    let qualities: Vec<f64> = passing.iter().map(|c| c.quality).collect();
    let mut tiered: Vec<(usize, Candidate<'a>)> = tiers(&qualities, tolerance)
        .into_iter()
        .zip(passing)
        .collect();
    tiered.sort_by(|a, b| rank(prefer, a, b));
    let passed = tiered
        .iter()
        .map(|(_, c)| {
            let p = &c.evaluated.performance;
            let gpus = f64::from(c.evaluated.memory.placement.gpus.max(1));
            (p.aggregate_tokens_per_s / gpus, p.decode_tokens_per_s)
        })
        .collect();
    let mut passing = tiered.into_iter().map(|(_, c)| c);
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
    (choice, alternatives, passed)
}

/// Ranking of (quality tier, candidate). Measured qualities before unmeasured ones; then by default
/// the best quality tier, then the fastest answer (in bands), then the lowest cost and fewest GPUs;
/// engine order of the catalog breaks remaining ties (the sort is stable). Every key is a plain
/// number, so the order is total.
fn rank(prefer: Prefer, (ta, a): &(usize, Candidate), (tb, b): &(usize, Candidate)) -> Ordering {
    let cost = |c: &Candidate| c.usd_per_hour().unwrap_or(0.0);
    let quality = ta.cmp(tb);
    let exact_quality = cmp_f64(b.quality, a.quality);
    let gpus = |c: &Candidate| c.evaluated.deployment.gpus;
    let cheaper = cmp_f64(cost(a), cost(b)).then(gpus(a).cmp(&gpus(b)));
    let answer = |c: &Candidate| time_band(c.evaluated.performance.time_to_answer_ms);
    let faster = cmp_f64(answer(a), answer(b));
    let ttft = |c: &Candidate| time_band(c.evaluated.performance.ttft_ms);
    let ttft = cmp_f64(ttft(a), ttft(b));
    // A quality no benchmark measured ranks below every measured one (both met the floor).
    let measured = |c: &Candidate| c.evaluated.deployment.quant.quality_measured;
    let measured = measured(b).cmp(&measured(a));
    let key = match prefer {
        Prefer::Quality => quality
            .then(faster)
            .then(cheaper)
            .then(exact_quality)
            .then(ttft),
        Prefer::Cost => cheaper.then(quality).then(faster).then(exact_quality),
        Prefer::Speed => faster.then(quality).then(cheaper).then(exact_quality),
    };
    measured.then(key)
}

#[cfg(test)]
mod tests {
    use super::tiers;

    #[test]
    fn qualities_within_the_tolerance_of_a_tiers_best_share_its_tier() {
        // 61.1 and 60.8 (the 0528-8B in BF16 and Q8_0) are equal at 2 points; 58.9 is not
        // within 2 of 61.1 and opens the next tier, which 57.2 joins.
        assert_eq!(
            tiers(&[60.8, 57.2, 61.1, 58.9, 50.0], 2.0),
            vec![0, 1, 0, 1, 2]
        );
        // no band edge: 59.9 and 60.1 are one tier, as are 60.9 and 61.1
        assert_eq!(tiers(&[59.9, 60.1], 2.0), vec![0, 0]);
        assert_eq!(tiers(&[61.1, 60.9], 2.0), vec![0, 0]);
        // a tolerance of 0 ranks by exact quality, ties together
        assert_eq!(tiers(&[1.0, 2.0, 2.0], 0.0), vec![1, 0, 0]);
        assert_eq!(tiers(&[], 2.0), Vec::<usize>::new());
    }
}
