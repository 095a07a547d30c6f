//! Steady state of a continuously batching server with `n` requests running, their arrivals spread
//! over time (Poisson traffic, or closed-loop traffic whose lengths vary).
//!
//! Flow balance: a request is first prefilled, in chunks of what the step's token budget leaves
//! after the decoding sequences, then decodes one token per step. A decoding request shares each step
//! with the others' decode tokens and, in a share of the steps, with another request's prefill chunk
//! (the interference that makes TPOT grow with load). The share is the prefill work arriving per unit
//! time, λ × prefill time; a new request waits for the chunks ahead of it (M/G/1 on the prefill
//! pipeline), and for the step running when it arrives: engines admit at step boundaries. The
//! state is the fixed point of λ = n / lifetime.

use super::step::{StepModel, pairs};

/// Iterations of the fixed point at most; damped alone it converged in ~20 on every calibration
/// row, mixed ([`Mixer`]) in fewer.
const ITERATIONS: usize = 80;
/// Highest prefill-pipeline utilisation the M/G/1 wait is evaluated at (it diverges at 1).
const RHO_MAX: f64 = 0.98;

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Flow {
    /// Requests completed per ms.
    pub lambda: f64,
    /// A request's own prefill (its chunk steps), ms.
    pub prefill: f64,
    /// The step that emits the first token, ms.
    pub first: f64,
    /// Mean wait for the prefill chunks ahead, ms (closed-loop arrivals).
    pub wait: f64,
    /// Wait for the step running at a closed-loop arrival to end, ms (about one step when busy).
    pub step_wait: f64,
    /// Mean residual of the step running when a Poisson arrival comes, ms (E[S²]/2E[S] while busy).
    pub residual: f64,
    /// Share of time a prefill chunk is in the step (may exceed 1: prefill-bound).
    pub chunk_share: f64,
    /// Mean time per output token, ms.
    pub tpot: f64,
    /// Decode step without / with a prefill chunk, per token it yields (the step itself without
    /// MTP), ms.
    pub pure_step: f64,
    pub mixed_step: f64,
    /// Share of a request's decode steps that carry another request's chunk.
    pub interference: f64,
    /// Mean sequences in a decode step.
    pub decoding: f64,
    pub memory_bound: bool,
}

/// Steady state with `n` requests in the running set (real, ≥ 0), mean lengths `isl`/`osl`.
/// `separate`: the scheduler runs prefills as steps of their own (prefill-first, SGLang's default
/// without mixed chunking) instead of mixing chunks into decode steps, so a chunk stalls every
/// decoding sequence for a whole prefill step.
/// `prompt_cv2`: squared coefficient of variation of the prompt lengths (a prefill's duration is
/// about proportional to its prompt, so it is the cv² of the prefill service time).
/// `near`: the converged flow of a nearby running set to start the iteration from (a root search
/// over `n` then converges in a few iterations instead of twenty); `None` starts from the single
/// stream, which is the flow reported.
#[allow(clippy::too_many_arguments)]
pub fn flow(
    step: &StepModel,
    budget: f64,
    isl: f64,
    osl: f64,
    n: f64,
    separate: bool,
    prompt_cv2: f64,
    near: Option<&Flow>,
) -> Flow {
    let ctx = isl + osl / 2.0;
    let decode_steps = (osl - 1.0).max(0.0);
    // A step yields `accepted` tokens per decoding sequence (MTP); TPOT is per token.
    let accepted = step.accepted();
    let (mut tpot, mut ttft) = match near {
        Some(f) => (f.tpot, f.ttft()),
        None => (
            step.step_ms(1.0, ctx, 0.0, 0.0) / accepted,
            step.prefill_ms(isl, budget, 0.0, 0.0) + step.step_ms(1.0, isl, 0.0, 0.0),
        ),
    };
    let mut last = Flow::default();
    let mut tagged = 1.0;
    let mut mixer = Mixer::default();
    for _ in 0..ITERATIONS {
        let life = (ttft + decode_steps * tpot).max(1e-9);
        let lambda = n / life;
        let decoding_share = decode_steps * tpot / life;
        // Others decoding while the tagged request runs (closed loop: n − 1 others).
        let others = (n - 1.0).max(0.0) * decoding_share;
        tagged = 1.0 + others;
        let chunk = if separate {
            budget.min(isl)
        } else {
            (budget - others).max(1.0).min(isl)
        };
        let prefill = if separate {
            step.prefill_ms(isl, chunk, 0.0, 0.0)
        } else {
            step.prefill_ms(isl, chunk, others, ctx)
        };
        let share = lambda * prefill;
        // Prompt tokens prefilled per step on average (the others' only), at most what the budget
        // leaves: fewer than a chunk means a share of the steps carry one chunk; more means every
        // step carries several requests' chunks.
        let per_step = (lambda * isl * tpot * accepted * (n - 1.0).max(0.0) / n.max(1.0))
            .min((budget - others).max(1.0));
        let interference = (per_step / chunk).min(1.0);
        let mixed_tokens = per_step.max(chunk);
        let mixed_pairs = pairs((isl - chunk) / 2.0, chunk) * mixed_tokens / chunk;
        let pure = step.step_ms(tagged, ctx, 0.0, 0.0);
        let mixed = if separate {
            pure + step.step_ms(0.0, 0.0, mixed_tokens, mixed_pairs)
        } else {
            step.step_ms(tagged, ctx, mixed_tokens, mixed_pairs)
        };
        let step_time = (1.0 - interference) * pure + interference * mixed;
        let new_tpot = step_time / accepted;
        // The prefill pipeline is busy a `share` of the time (others' chunks only, closed loop).
        let rho = (share * (n - 1.0).max(0.0) / n.max(1.0)).min(RHO_MAX);
        // Pollaczek–Khinchine: the M/D/1 wait scaled by 1 + cv² of the prefill times.
        let queue_wait = rho / (2.0 * (1.0 - rho)) * prefill * (1.0 + prompt_cv2);
        // Engines admit a new request only at a step boundary (vLLM's and SGLang's scheduler loop,
        // TRT-LLM's in-flight batcher). A closed-loop request is sent when its predecessor's last
        // token returns, which is just after the next step was launched, so it waits about one
        // whole step whenever others are running (an idle engine admits it at once: c = 1 is the
        // single-stream case). A Poisson arrival waits the step's residual, E[S²]/2E[S].
        let busy = others.min(1.0);
        let residual = busy * ((1.0 - interference) * pure * pure + interference * mixed * mixed)
            / (2.0 * step_time.max(1e-9));
        let wait = queue_wait;
        let step_wait = busy * step_time;
        // The first token's step: the tagged request at its prompt length among the others.
        let first_ctx = (others * ctx + isl) / tagged;
        let first_pure = step.step_ms(tagged, first_ctx, 0.0, 0.0);
        let first_mixed = if separate {
            first_pure + step.step_ms(0.0, 0.0, chunk, pairs(0.0, chunk))
        } else {
            step.step_ms(tagged, first_ctx, chunk, pairs(0.0, chunk))
        };
        let first = (1.0 - interference) * first_pure + interference * first_mixed;
        let new_ttft = wait + step_wait + prefill + first;
        let done = (new_tpot - tpot).abs() <= 1e-7 * tpot && (new_ttft - ttft).abs() <= 1e-7 * ttft;
        [tpot, ttft] = mixer.next([tpot, ttft], [new_tpot, new_ttft]);
        last = Flow {
            lambda,
            prefill,
            first,
            wait,
            step_wait,
            residual,
            chunk_share: share,
            tpot: new_tpot,
            pure_step: pure / accepted,
            mixed_step: mixed / accepted,
            interference,
            decoding: tagged.min(n.max(1.0)),
            memory_bound: false,
        };
        if done {
            break;
        }
    }
    // Of the last iteration's step (what the loop would have stored; only the last is kept).
    last.memory_bound = step.memory_bound(tagged, ctx, 0.0);
    // Throughput of the converged latencies (the loop's λ lags them by half a step).
    last.lambda = n / (last.ttft() + decode_steps * last.tpot).max(1e-9);
    last
}

/// The next iterate of the fixed point x = G(x): Anderson mixing of depth one over the damped
/// step x + (G(x) − x) / 2 (the secant through the last two residuals, each component weighed
/// relative to its size), which takes the ~20 damped iterations to the same fixed point in a
/// handful; the plain damped step where the secant is undefined or leaves the positive values.
#[derive(Debug, Default)]
struct Mixer {
    last: Option<([f64; 2], [f64; 2])>,
}

impl Mixer {
    const DAMPING: f64 = 0.5;

    fn next(&mut self, x: [f64; 2], g: [f64; 2]) -> [f64; 2] {
        let f = [g[0] - x[0], g[1] - x[1]];
        let damped = [x[0] + Self::DAMPING * f[0], x[1] + Self::DAMPING * f[1]];
        let previous = self.last.replace((x, f));
        let Some((px, pf)) = previous else {
            return damped;
        };
        let weight = [
            1.0 / (x[0] * x[0]).max(1e-300),
            1.0 / (x[1] * x[1]).max(1e-300),
        ];
        let df = [f[0] - pf[0], f[1] - pf[1]];
        let dx = [x[0] - px[0], x[1] - px[1]];
        let den = weight[0] * df[0] * df[0] + weight[1] * df[1] * df[1];
        if !(den > 0.0 && den.is_finite()) {
            return damped;
        }
        let gamma = (weight[0] * df[0] * f[0] + weight[1] * df[1] * f[1]) / den;
        let mixed = [
            damped[0] - gamma * (dx[0] + Self::DAMPING * df[0]),
            damped[1] - gamma * (dx[1] + Self::DAMPING * df[1]),
        ];
        if mixed.iter().all(|v| v.is_finite() && *v > 0.0) {
            mixed
        } else {
            damped
        }
    }
}

impl Flow {
    /// Mean time to the first token, ms (closed-loop waits).
    pub fn ttft(&self) -> f64 {
        self.wait + self.step_wait + self.prefill + self.first
    }
}

#[cfg(test)]
mod tests {
    use super::Mixer;

    /// Iterations `next` takes from `start` until a step moves both components by under 1e-12
    /// of their size, and where it ends.
    fn solve(g: impl Fn([f64; 2]) -> [f64; 2], start: [f64; 2], mix: bool) -> (usize, [f64; 2]) {
        let mut mixer = Mixer::default();
        let mut x = start;
        for i in 1..=500 {
            let gx = g(x);
            let next = if mix {
                mixer.next(x, gx)
            } else {
                [0, 1].map(|k| x[k] + Mixer::DAMPING * (gx[k] - x[k]))
            };
            let moved = (0..2).all(|k| (next[k] - x[k]).abs() <= 1e-12 * x[k].abs());
            x = next;
            if moved {
                return (i, x);
            }
        }
        (500, x)
    }

    /// The flow's shape of map: TPOT grows with the load the TTFT implies and TTFT with the
    /// TPOT (a coupled, nonlinear contraction), and an oscillating linear one. Mixing ends on the
    /// damped iteration's fixed point, in fewer steps.
    #[test]
    fn mixing_reaches_the_damped_fixed_point_sooner() {
        let coupled: fn([f64; 2]) -> [f64; 2] = |x| {
            [
                12.0 + 30.0 / (1.0 + x[1] / 200.0),
                150.0 + 4.0 * x[0].sqrt() * 10.0,
            ]
        };
        let oscillating: fn([f64; 2]) -> [f64; 2] = |x| {
            [
                40.0 - 0.9 * x[0] + 0.1 * x[1],
                300.0 - 0.5 * x[1] + 2.0 * x[0],
            ]
        };
        for (name, g, start) in [
            ("coupled", coupled, [10.0, 100.0]),
            ("oscillating", oscillating, [5.0, 50.0]),
        ] {
            let (damped_steps, fixed) = solve(g, start, false);
            let (mixed_steps, mixed) = solve(g, start, true);
            for k in 0..2 {
                assert!(
                    (mixed[k] - fixed[k]).abs() <= 1e-9 * fixed[k],
                    "{name}: {mixed:?} against {fixed:?}"
                );
                assert!(
                    (g(fixed)[k] - fixed[k]).abs() <= 1e-9 * fixed[k],
                    "{name}: not a fixed point"
                );
            }
            assert!(
                mixed_steps < damped_steps,
                "{name}: {mixed_steps} mixed steps, {damped_steps} damped"
            );
        }
    }
}
