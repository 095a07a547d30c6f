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

/// Iterations of the damped fixed point; it converges in ~20 on every calibration row.
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
        tpot = 0.5 * tpot + 0.5 * new_tpot;
        ttft = 0.5 * ttft + 0.5 * new_ttft;
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

impl Flow {
    /// Mean time to the first token, ms (closed-loop waits).
    pub fn ttft(&self) -> f64 {
        self.wait + self.step_wait + self.prefill + self.first
    }
}
