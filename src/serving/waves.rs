//! Closed-loop traffic of fixed-length requests on a prefill-first scheduler (vLLM V0, SGLang):
//! the requests started together are prefilled together, decode together and finish together, so the
//! next ones arrive together — the server runs in waves. Each request's TTFT includes the prefills of
//! those ahead of it in its wave; queued clients wait whole waves.

use super::step::{StepModel, pairs};

#[derive(Debug, Clone, PartialEq)]
pub struct Waves {
    /// Requests in one wave.
    pub size: u32,
    /// One wave from its first prefill to its last token, ms.
    pub cycle: f64,
    /// Per request of a wave: TTFT, TPOT, end-to-end, ms (before queueing).
    pub ttft: Vec<f64>,
    pub tpot: Vec<f64>,
    /// Mean waves a client waits in the queue.
    pub queued_waves: f64,
    pub memory_bound: bool,
}

/// A wave of `size` requests of `isl` prompt and `osl` output tokens, `clients` in the loop.
pub fn waves(
    step: &StepModel,
    budget: f64,
    packs_prompts: bool,
    isl: f64,
    osl: f64,
    size: u32,
    clients: u32,
) -> Waves {
    let n = f64::from(size);
    let mut ends = Vec::with_capacity(size as usize);
    let mut t = 0.0;
    if packs_prompts {
        // Whole prompts per step, as many as the budget holds (at least one).
        let per_step = ((budget / isl).floor() as u32).max(1);
        let mut left = size;
        while left > 0 {
            let m = per_step.min(left);
            let mf = f64::from(m);
            t += step.step_ms(0.0, 0.0, mf * isl, mf * pairs(0.0, isl));
            ends.extend(std::iter::repeat_n(t, m as usize));
            left -= m;
        }
    } else {
        // Chunks of `budget` tokens through the prompts in arrival order.
        let chunk = budget.max(1.0);
        let (mut req, mut done) = (0u32, 0.0f64);
        while req < size {
            let mut room = chunk;
            let mut tokens = 0.0;
            let mut attn = 0.0;
            let mut finished = 0;
            while room > 0.5 && req < size {
                let take = room.min(isl - done);
                attn += pairs(done, take);
                tokens += take;
                room -= take;
                done += take;
                if done >= isl - 0.5 {
                    finished += 1;
                    req += 1;
                    done = 0.0;
                }
            }
            t += step.step_ms(0.0, 0.0, tokens, attn);
            ends.extend(std::iter::repeat_n(t, finished));
        }
    }
    let first_one = step.step_ms(1.0, isl, 0.0, 0.0);
    let decode_steps = (osl - 1.0).max(0.0);
    // With MTP each engine step yields `accepted` tokens per sequence.
    let cycle = t
        + step.step_ms(n, isl, 0.0, 0.0)
        + decode_steps / step.accepted() * step.step_ms(n, isl + osl / 2.0, 0.0, 0.0);
    let ttft: Vec<f64> = ends.iter().map(|e| e + first_one).collect();
    let tpot = ttft
        .iter()
        .map(|f| {
            if decode_steps > 0.0 {
                (cycle - f) / decode_steps
            } else {
                0.0
            }
        })
        .collect();
    Waves {
        size,
        cycle,
        ttft,
        tpot,
        queued_waves: f64::from(clients.saturating_sub(size)) / n,
        memory_bound: step.memory_bound(n, isl + osl / 2.0, 0.0),
    }
}
