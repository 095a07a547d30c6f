//! Candidate generation: every model × engine × quant × machine × GPU count the search tries, in
//! catalog order, as an iterator. What can be ruled out before sizing (a context the model cannot
//! hold, no comparable score, a quant below the quality floor) comes out as a rejection.

use std::rc::Rc;

use crate::catalog::engine::MultiGpu;
use crate::catalog::gpu::GpuSpec;
use crate::catalog::{Catalog, Engine, Model, ParamBreakdown, Quant, Task};
use crate::hardware::Hardware;
use crate::hardware::simulate::{SimulationRequest, simulate};
use crate::sizing::support::unrunnable;
use crate::sizing::weights::WeightBytes;
use crate::sizing::{Parallel, Workload};

use super::super::constraints::{Constraint, Unit};
use super::assess::{Reason, Subject};
use super::explain::{Rejection, rejection};
use super::{Machines, ParallelPin, Request, WorkloadSpec};

/// GPU counts tried on the cloud: one node of up to 8, or up to 4 nodes.
pub const CLOUD_COUNTS: [u32; 6] = [1, 2, 4, 8, 16, 32];

/// What the search does next.
pub enum Proposal<'a, 'm> {
    /// A model ruled out before any quant: its context or its missing score.
    Model(Rejection),
    /// A quant whose quality is below the floor.
    BelowFloor(Rejection),
    /// A deployment to assess.
    Deploy {
        subject: Subject<'a>,
        hardware: &'m Rc<Hardware>,
        gpus: u32,
    },
}

/// How quality is judged in this search.
#[derive(Debug, Clone, Copy)]
pub struct Judging {
    /// The floor on the task's benchmark.
    pub floor: f64,
    /// A brought model without a score: quality not judged, quants rank by retention (×100).
    pub unjudged: bool,
}

/// The GPU types the cloud search may rent.
pub fn priced(c: &Catalog) -> Vec<&GpuSpec> {
    c.gpus.iter().filter(|g| g.usd_per_hour.is_some()).collect()
}

/// The machines tried and the GPU counts tried on each.
pub fn machines(req: &Request) -> Vec<(Rc<Hardware>, Vec<u32>)> {
    match &req.machines {
        Machines::Local(hw) => vec![(Rc::new(hw.clone()), local_counts(hw))],
        Machines::Cloud => priced(req.catalog)
            .iter()
            .flat_map(|g| CLOUD_COUNTS.iter().map(move |n| (g, *n)))
            .filter_map(|(g, n)| {
                let sim = SimulationRequest {
                    gpu_specs: vec![format!("{}:{n}", g.id)],
                    ..Default::default()
                };
                simulate(req.catalog, &sim)
                    .ok()
                    .map(|hw| (Rc::new(hw), vec![n]))
            })
            .collect(),
    }
}

/// Every proposal of the search, in the order the search has always tried them (model, engine,
/// quant, machine, GPU count), so ties in the ranking break the same way.
pub fn proposals<'a, 'm>(
    req: &'m Request<'a>,
    judging: Judging,
    machines: &'m [(Rc<Hardware>, Vec<u32>)],
) -> impl Iterator<Item = Proposal<'a, 'm>> + 'm {
    let c: &'a Catalog = req.catalog;
    let task = req.task;
    models(req).into_iter().flat_map(move |model| {
        let (screened, dropped) = match screen(model, task, &req.workload, judging) {
            Ok(s) => (Some(s), None),
            Err(r) => (None, Some(Proposal::Model(*r))),
        };
        dropped
            .into_iter()
            .chain(screened.into_iter().flat_map(move |(workload, paper)| {
                let params = Rc::new(ParamBreakdown::of(model));
                let engines: Vec<&'a Engine> = match req.pins.engine {
                    Some(e) => vec![e],
                    None => c.engines.iter().collect(),
                };
                engines.into_iter().flat_map(move |engine| {
                    let quants: Vec<&'a Quant> = match req.pins.quant {
                        Some(q) => vec![q],
                        None => c.quants_for(model, engine),
                    };
                    let params = Rc::clone(&params);
                    quants.into_iter().flat_map(move |quant| {
                        let quality = paper * quant.retention_for(params.total());
                        // at the decimals the check compares a quality, so the two never disagree
                        let at = |q: f64| crate::quantity::round(q, Unit::Score.decimals());
                        if at(quality) < at(judging.floor) && !judging.unjudged {
                            let (shown, floor) = Unit::Score.pair(at(quality), at(judging.floor));
                            let r = rejection(
                                model,
                                Some(quant),
                                Some(engine),
                                None,
                                Reason::Unmet(Constraint::MinQuality),
                                format!("{} {shown} < {floor}", task.benchmark.label()),
                                (judging.floor - quality) / judging.floor,
                            );
                            return Proposals::One(Some(Proposal::BelowFloor(r)));
                        }
                        let subject = Subject {
                            model,
                            quant,
                            engine,
                            workload,
                            quality,
                            weights: Rc::new(WeightBytes::of(model, quant)),
                            params: Rc::clone(&params),
                            parallel: Parallel::default(),
                            refusal: unrunnable(model, quant, engine).map(Rc::from),
                        };
                        Proposals::Many(Box::new(machines.iter().flat_map(move |(hw, counts)| {
                            let subject = subject.clone();
                            counts
                                .iter()
                                .filter(move |&&gpus| {
                                    gpus as usize <= hw.gpus.len()
                                        && count_suits(model, engine, gpus, &req.machines)
                                })
                                .flat_map(move |&gpus| {
                                    let subject = subject.clone();
                                    parallel_variants(&req.pins.parallel, model, engine, gpus)
                                        .into_iter()
                                        .map(move |parallel| Proposal::Deploy {
                                            subject: Subject {
                                                parallel,
                                                ..subject.clone()
                                            },
                                            hardware: hw,
                                            gpus,
                                        })
                                })
                        })))
                    })
                })
            }))
    })
}

/// The EP / DP-attention layouts tried for `model` on `engine` over `gpus` GPUs: the pinned one,
/// else plain tensor parallelism and, for an MoE model on an engine with both, EP over every GPU
/// with one DP-attention rank per GPU (TRT-LLM's max-throughput layout, SGLang `--ep-size N
/// --enable-dp-attention --dp N`) on up to two nodes, where the routed experts split evenly.
pub fn parallel_variants(
    pin: &ParallelPin,
    model: &Model,
    engine: &Engine,
    gpus: u32,
) -> Vec<Parallel> {
    if pin.given() {
        return vec![pin.on(gpus)];
    }
    let mut out = vec![Parallel::default()];
    let experts = model.routed_experts();
    // One node or two (issue 13: DP + EP over 16 GPUs, its all-to-all on the network); beyond,
    // the search keeps the engines' TP / PP layouts, and `--ep` / `--dp-attention` still place
    // EP + DP over more nodes.
    if gpus > 1
        && gpus <= 2 * crate::hardware::network::default_node_gpus()
        && engine.expert_parallel
        && engine.dp_attention
        && engine.multi_gpu == MultiGpu::Tensor
        && experts > 0
        && experts.is_multiple_of(gpus)
    {
        out.push(Parallel {
            ep: gpus,
            dp: gpus,
            redundant_experts: 0,
        });
    }
    out
}

/// One rejection or the deployments of a subject.
enum Proposals<'a, 'm> {
    One(Option<Proposal<'a, 'm>>),
    Many(Box<dyn Iterator<Item = Proposal<'a, 'm>> + 'm>),
}

impl<'a, 'm> Iterator for Proposals<'a, 'm> {
    type Item = Proposal<'a, 'm>;
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Proposals::One(p) => p.take(),
            Proposals::Many(it) => it.next(),
        }
    }
}

/// The models tried: the pinned one, or the whole catalog.
pub fn models<'a>(req: &Request<'a>) -> Vec<&'a Model> {
    match req.pins.model {
        Some(m) => vec![m],
        None => req.catalog.models.iter().collect(),
    }
}

/// The model's workload and paper score, or why the model is out before any quant.
pub fn screen(
    model: &Model,
    task: &Task,
    spec: &WorkloadSpec,
    judging: Judging,
) -> Result<(Workload, f64), Box<Rejection>> {
    // Out before any quant, engine or machine, and no relaxation brings it back.
    let out = |constraint, reason| {
        Box::new(rejection(
            model,
            None,
            None,
            None,
            constraint,
            reason,
            f64::INFINITY,
        ))
    };
    let workload = workload(model, task, spec).map_err(|reason| out(Reason::Context, reason))?;
    let paper = model
        .scores
        .get(task.benchmark)
        .or(judging.unjudged.then_some(100.0))
        .ok_or_else(|| {
            out(
                Reason::Unmet(Constraint::MinQuality),
                format!("no comparable {} score published", task.benchmark.label()),
            )
        })?;
    Ok((workload, paper))
}

/// The task's workload with the user's overrides, if the model can hold it.
fn workload(model: &Model, task: &Task, spec: &WorkloadSpec) -> Result<Workload, String> {
    let context = spec.context.unwrap_or(task.context);
    if context > model.max_context {
        return Err(format!(
            "context {context} is above the model's maximum of {}",
            model.max_context
        ));
    }
    let prompt = spec.prompt.unwrap_or(task.prompt_tokens).min(context);
    let output = spec
        .output
        .unwrap_or(task.reasoning_tokens + task.answer_tokens)
        .min(context.saturating_sub(prompt))
        .max(1);
    Ok(Workload {
        context,
        prompt,
        output,
        concurrency: spec.concurrency.max(1),
    })
}

/// GPU counts worth trying on a local machine: 1, 2, 4, … and all of them; none without GPUs.
pub fn local_counts(hw: &Hardware) -> Vec<u32> {
    let n = hw.gpu_count();
    if n == 0 {
        return vec![0];
    }
    let mut v: Vec<u32> = (0..6).map(|i| 1u32 << i).filter(|&c| c <= n).collect();
    if !v.contains(&n) {
        v.push(n);
    }
    v
}

/// Skip counts an engine would not use: tensor parallelism needs the heads to divide; layer
/// split engines stay inside one node.
fn count_suits(model: &Model, engine: &Engine, gpus: u32, machines: &Machines) -> bool {
    match engine.multi_gpu {
        MultiGpu::Tensor => {
            gpus <= engine.max_tensor_parallel
                || (engine.multi_node
                    && gpus.is_multiple_of(engine.max_tensor_parallel)
                    && model.is_moe())
        }
        // Ollama/llama.cpp/transformers on the cloud: one node.
        MultiGpu::Layer => !matches!(machines, Machines::Cloud) || gpus <= 8,
    }
}
