//! Expert load imbalance under expert parallelism without EPLB (issue 13): a step waits for its
//! busiest EP rank, and with uniform routing the ranks do not get equal shares. Balls in bins: each
//! of the step's `tokens × top-k` routings lands on one of `ep` ranks, so a rank's count is
//! Binomial(n, 1/ep), and the busiest of `ep` ranks sits the expected maximum of `ep` standard
//! normals above the mean (Blom's approximation). No constant is fitted: the figure follows from
//! the batch, top-k and the EP size alone. Skewed real-world routing only makes it worse.

/// Expected maximum of `n` independent standard normal draws (Blom: Φ⁻¹((n − 0.375)/(n + 0.25))).
pub fn expected_max_normal(n: u32) -> f64 {
    if n <= 1 {
        return 0.0;
    }
    let n = f64::from(n);
    inverse_normal((n - 0.375) / (n + 0.25))
}

/// Busiest rank's routings over the mean rank's: `routings` (tokens × top-k) spread uniformly
/// over `ep` ranks. 1 without expert parallelism.
pub fn compute_factor(ep: u32, routings: f64) -> f64 {
    if ep <= 1 || routings <= 0.0 {
        return 1.0;
    }
    let p = 1.0 / f64::from(ep);
    let mean = routings * p;
    let sd = (routings * p * (1.0 - p)).sqrt();
    // The busiest rank cannot take more than every routing.
    (1.0 + expected_max_normal(ep) * sd / mean).min(f64::from(ep))
}

/// Busiest rank's touched experts over the mean rank's, when each of a rank's `per_rank` experts
/// is touched with probability `p` (a step's distinct experts, `catalog::params::experts_touched`
/// over the layer's experts): the count is Binomial(per_rank, p). 1 once every expert is touched.
pub fn read_factor(ep: u32, per_rank: f64, p: f64) -> f64 {
    if ep <= 1 || per_rank <= 0.0 || p <= 0.0 {
        return 1.0;
    }
    let p = p.min(1.0);
    let mean = per_rank * p;
    let sd = (per_rank * p * (1.0 - p)).sqrt();
    // No rank reads more experts than it holds.
    (mean + expected_max_normal(ep) * sd).min(per_rank) / mean
}

/// Φ⁻¹(q) for 0 < q < 1: Acklam's rational approximation (relative error below 1.2e-9).
fn inverse_normal(q: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let q = q.clamp(1e-12, 1.0 - 1e-12);
    let tail = |r: f64| {
        let s = (-2.0 * r.ln()).sqrt();
        (((((C[0] * s + C[1]) * s + C[2]) * s + C[3]) * s + C[4]) * s + C[5])
            / ((((D[0] * s + D[1]) * s + D[2]) * s + D[3]) * s + 1.0)
    };
    if q < 0.02425 {
        tail(q)
    } else if q > 1.0 - 0.02425 {
        -tail(1.0 - q)
    } else {
        let r = q - 0.5;
        let s = r * r;
        (((((A[0] * s + A[1]) * s + A[2]) * s + A[3]) * s + A[4]) * s + A[5]) * r
            / (((((B[0] * s + B[1]) * s + B[2]) * s + B[3]) * s + B[4]) * s + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_normal_matches_the_tables() {
        // Φ⁻¹(0.975) = 1.959964, Φ⁻¹(0.5) = 0, Φ⁻¹(0.001) = −3.090232 (standard normal tables).
        assert!((inverse_normal(0.975) - 1.959_964).abs() < 1e-6);
        assert!(inverse_normal(0.5).abs() < 1e-12);
        assert!((inverse_normal(0.001) + 3.090_232).abs() < 1e-6);
    }

    #[test]
    fn expected_maximum_of_normals_is_close_to_the_exact_values() {
        // Exact expected maxima (Harter 1961): n = 2 → 0.5642, 4 → 1.0294, 8 → 1.4236. Blom's
        // plotting position gives 0.5895, 1.0491, 1.4342: within 5% at 2 ranks, 2% from 4 up.
        assert_eq!(expected_max_normal(1), 0.0);
        assert!((expected_max_normal(2) / 0.5642 - 1.0).abs() < 0.05);
        assert!((expected_max_normal(4) / 1.0294 - 1.0).abs() < 0.02);
        assert!((expected_max_normal(8) / 1.4236 - 1.0).abs() < 0.01);
    }

    #[test]
    fn a_thousand_sequences_over_eight_ranks_load_the_busiest_four_percent_more() {
        // 1024 tokens × top-8 = 8192 routings over EP8: mean 1024 per rank, sd √(8192·⅛·⅞) = 29.93;
        // the busiest of 8 is Φ⁻¹(7.625/8.25) = 1.4342 sd above: 1 + 1.4342 · 29.93 / 1024 = 1.0419.
        let f = compute_factor(8, 8192.0);
        assert!((f - 1.041_92).abs() < 1e-4, "{f}");
        assert_eq!(compute_factor(1, 8192.0), 1.0);
    }

    #[test]
    fn few_tokens_touch_the_busiest_ranks_experts_unevenly() {
        // 4 tokens × top-8 of 256: p = 1 − (1 − 8/256)^4 = 0.11918 per expert; EP4 holds 64 a rank:
        // mean 7.6328, sd √(64·p·(1 − p)) = 2.5928, Φ⁻¹(3.625/4.25) = 1.0491 → (7.6328 + 2.7202)/7.6328.
        let p = 1.0 - (1.0f64 - 8.0 / 256.0).powi(4);
        let f = read_factor(4, 64.0, p);
        assert!((f - 1.356_4).abs() < 1e-3, "{f}");
        // Every expert touched: every rank reads all it holds.
        assert_eq!(read_factor(8, 32.0, 1.0), 1.0);
    }
}
