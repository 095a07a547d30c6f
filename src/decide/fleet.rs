//! The fleet planner: the cheapest replica shape × replica count that carries a load within the
//! SLO. Pure: the machines, the catalog and the load are all in the request.
//!
//! Each shape (model × quant × engine × GPU type × GPUs per replica) is first assessed on an idle
//! server, as `recommend` does; what cannot fit, misses the quality floor, or misses a time limit
//! by more than load could ever explain is dropped there. A shape's highest sustainable rate
//! (one cheap serving estimate) bounds its replica count from below, so the shapes are tried
//! cheapest bound first and the search stops once no untried shape can beat the runners-up. For
//! a tried shape the replica count is the smallest that meets every constraint at the load each
//! replica then carries, found by bisection: latency only falls as replicas are added.

use std::rc::Rc;

use crate::catalog::MultiGpu;
use crate::error::Error;
use crate::hardware::Hardware;
use crate::perf::cost::{FleetCost, cost, fleet_cost};
use crate::serving::{Load, SchedulerOverrides, Server};
use crate::sizing::Deployment;

use super::constraints::Words;
use super::constraints::{Constraint, Constraints};
use super::launch::{self, LaunchPlan};
use super::load::{Loaded, Traffic, rate_label};
use super::search::assess::hopeless;
use super::search::assess::{assess_with, with_load, worded, worded_as, worded_miss};
use super::search::candidates::{Proposal, proposals};
use super::search::{Candidate, Machines, Request, Subject, judging, shortfall};

/// Each replica runs at most this share of its highest sustainable rate unless `--headroom` says
/// otherwise. Past about 70% an M/G/1-like queue's wait grows steeply (ρ/(1−ρ): 2.3 at 0.7, 9 at
/// 0.9), so the spare 30% absorbs bursts above the planned rate without the tail latency blowing up.
pub const DEFAULT_HEADROOM: f64 = 0.7;

/// `--daily` is planned at the busiest hour's rate: the day's mean × this. Two is the day's
/// requests arriving within 12 busy hours; a measured day says otherwise (`--peak-factor`).
/// DeepSeek's own R1 service provisioned 278 nodes at peak against 226.75 on average over one
/// day of global traffic (1.23×, reference/serving.md §DeepSeek day 6), so 2 is the cautious side
/// for one region's users.
pub const DEFAULT_PEAK_FACTOR: f64 = 2.0;

/// The replica search stops here: more replicas than DeepSeek's own peak R1 fleet had nodes
/// (278). A load that needs more is reported as beyond the GPU type.
pub const MAX_REPLICAS: u32 = 512;

/// Runners-up reported beside the choice (with several GPU types: the best of every other type).
pub const RUNNERS_UP: usize = 3;

/// The load the whole fleet carries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Demand {
    /// Poisson arrivals, requests per second, shared evenly by the replicas.
    Rate { per_second: f64 },
    /// Users each with one request in flight (closed loop), shared evenly by the replicas.
    Users { concurrent: u32 },
}

impl Demand {
    /// The load one of `replicas` replicas carries.
    pub fn per_replica(self, replicas: u32) -> Load {
        match self {
            Demand::Rate { per_second } => Load::Rate {
                per_second: per_second / f64::from(replicas.max(1)),
            },
            Demand::Users { concurrent } => Load::Concurrency {
                requests: concurrent.div_ceil(replicas.max(1)),
            },
        }
    }

    /// "rate 20/s" or "1000 users".
    pub fn label(self) -> String {
        match self {
            Demand::Rate { per_second } => format!("rate {}", rate_label(per_second)),
            Demand::Users { concurrent } => format!("{concurrent} concurrent users"),
        }
    }
}

/// GPUs that replicas may run on: one machine type and the GPU counts a replica may use.
#[derive(Debug, Clone)]
pub struct ReplicaMachine {
    pub hardware: Rc<Hardware>,
    pub gpu_counts: Vec<u32>,
    /// GPUs in one node of this machine (packing replicas into nodes).
    pub node_gpus: u32,
}

pub struct FleetRequest<'a, 'r> {
    /// Task, constraints, pins, workload and prices, as for `recommend`; its `traffic` and
    /// `machines` are not read (the demand and `machines` below replace them).
    pub search: &'r Request<'a>,
    pub machines: Vec<ReplicaMachine>,
    pub demand: Demand,
    /// Length spreads and the percentile the SLO holds at (its load is the demand's, per replica).
    pub traffic: Traffic,
    /// Highest utilization of a replica, in (0, 1).
    pub headroom: f64,
    pub spares: u32,
}

/// One fleet: `replicas` copies of `replica` carry the demand, `spares` more stand by.
#[derive(Debug, Clone)]
pub struct Fleet<'a> {
    /// The replica, estimated at the load one serving replica carries.
    pub replica: Candidate<'a>,
    /// Replicas the demand needs.
    pub replicas: u32,
    pub spares: u32,
    pub total_gpus: u32,
    pub nodes: u32,
    /// The load each serving replica carries.
    pub load_per_replica: Load,
    /// Highest rate one replica sustains with these lengths.
    pub max_rate_per_replica: f64,
    /// Requests per second the whole fleet serves.
    pub requests_per_s: f64,
    pub output_tokens_per_s: f64,
    pub cost: Option<FleetCost>,
    /// How to start one replica (the engine admits the batch the serving model ran); an error
    /// only where the quant has no artifact the engine loads, which the search already refuses.
    pub launch: Result<LaunchPlan, Error>,
    /// Why it lost to the choice ("8 × TP1 beats 2 × TP4: 31% cheaper at the same p90 TTFT");
    /// empty for the choice.
    pub lost: String,
}

impl Fleet<'_> {
    pub fn replicas_total(&self) -> u32 {
        self.replicas + self.spares
    }

    pub fn gpus_per_replica(&self) -> u32 {
        self.replica.evaluated.deployment.gpus
    }

    /// "8 × 1×h100-sxm (TP1)": replicas and the shape of one, with its PP stages and its EP and
    /// DP-attention ranks where it has them ("1 × 16×h100-sxm (TP16, EP16, DP16)").
    pub fn shape(&self) -> String {
        let p = &self.replica.evaluated.memory.placement;
        let par = &self.replica.evaluated.deployment.parallel;
        let pp: String = [
            ("PP", p.pipeline_stages),
            ("EP", par.ep()),
            ("DP", par.dp()),
        ]
        .iter()
        .filter(|(_, n)| *n > 1)
        .map(|(what, n)| format!(", {what}{n}"))
        .collect();
        format!(
            "{} × {}×{} (TP{}{pp})",
            self.replicas_total(),
            self.gpus_per_replica(),
            gpu_id(&self.replica.evaluated.hardware),
            p.tensor_parallel
        )
    }

    /// Ranking key: dollars per hour when priced, then GPUs.
    fn key(&self) -> (f64, u32) {
        (
            self.cost.as_ref().map_or(0.0, |c| c.usd_per_hour),
            self.total_gpus,
        )
    }
}

/// Why no fleet qualifies: the constraint that stopped the shape that came closest.
#[derive(Debug, Clone, PartialEq)]
pub struct Miss {
    /// The constraint's id (`load`, `latency`, `tpot`, `answer_within`, `budget`, …).
    pub constraint: Constraint,
    pub message: String,
    /// Relative violation, for choosing the closest.
    pub shortfall: f64,
}

pub struct FleetDecision<'a> {
    pub choice: Option<Fleet<'a>>,
    /// The next cheapest shapes, each with why it lost.
    pub runners_up: Vec<Fleet<'a>>,
    /// When nothing qualifies: the closest shape's limiting constraint.
    pub miss: Option<Miss>,
    /// Replica shapes that ran on the hardware and were considered.
    pub shapes: usize,
    /// Serving estimates made.
    pub evaluated: usize,
}

/// What makes two fleets the same entry in the list: the GPU type, and unless GPU types compete,
/// the model, engine, GPUs per replica and the quant's format and bits (BF16 and FP16 on the same
/// GPUs cost and run the same).
type Group = (String, Option<(String, String, u32, bool, u64)>);

/// A shape that runs, with its idle assessment, its server prepared for loads, and the least
/// replicas the headroom allows.
struct Shape<'a> {
    subject: Subject<'a>,
    machine: usize,
    gpus: u32,
    idle: Candidate<'a>,
    server: Server,
    max_rate: f64,
    min_replicas: u32,
    usd_per_gpu_hour: Option<f64>,
}

/// Where a shape is in the search: only proposed (its bound from its GPUs alone), or sized and
/// estimated (its bound from its highest sustainable rate).
enum Stage<'a> {
    Proposed(Subject<'a>),
    Sized(Box<Shape<'a>>),
}

/// A shape waiting in the search, cheapest lower bound first; ties in proposal (catalog) order.
struct Entry<'a> {
    bound: (f64, u32),
    order: usize,
    machine: usize,
    gpus: u32,
    stage: Stage<'a>,
}

impl Entry<'_> {
    fn cmp_key(&self, o: &Self) -> std::cmp::Ordering {
        self.bound
            .0
            .total_cmp(&o.bound.0)
            .then(self.bound.1.cmp(&o.bound.1))
            .then(self.order.cmp(&o.order))
    }
}

impl PartialEq for Entry<'_> {
    fn eq(&self, o: &Self) -> bool {
        self.cmp_key(o).is_eq()
    }
}
impl Eq for Entry<'_> {}
impl PartialOrd for Entry<'_> {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry<'_> {
    /// Reversed, so the max-heap pops the cheapest bound first.
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        o.cmp_key(self)
    }
}

/// Plan the fleet.
///
/// Best first: every proposed shape waits with the bound its GPUs alone give (one replica plus
/// the spares); popped, it is sized and its highest sustainable rate estimated, and it waits again
/// with the bound its fewest replicas give (never lower). A sized shape popped is tried at its
/// replica counts. So shapes are tried in exactly the order of their replica-count bounds, as if
/// all had been sized first, while a shape whose GPUs alone cost more than what it would have to
/// beat is never sized.
pub fn plan<'a>(req: &FleetRequest<'a, '_>) -> FleetDecision<'a> {
    let base = req.search;
    let task = base.task;
    let judging = judging(base);
    let floor = judging.floor;
    // The budget is the fleet's, not a replica's: checked on the fleet's total below.
    let replica_constraints = Constraints {
        budget: None,
        ..base.constraints.clone()
    };
    let idle_req = Request {
        traffic: None,
        machines: Machines::Cloud,
        constraints: replica_constraints.clone(),
        ..*base
    };
    let loaded_req = Request {
        traffic: Some(req.traffic),
        machines: Machines::Cloud,
        constraints: replica_constraints.clone(),
        ..*base
    };
    // Misses found while sizing (kept in proposal order) and while trying replica counts.
    let mut sizing_misses: Vec<(usize, Miss)> = vec![];
    let mut misses: Vec<Miss> = vec![];
    let mut evaluated = 0usize;
    let mut subjects = 0usize;
    let mut considered = 0usize;
    let machines: Vec<(Rc<Hardware>, Vec<u32>)> = req
        .machines
        .iter()
        .map(|m| (Rc::clone(&m.hardware), m.gpu_counts.clone()))
        .collect();
    let prices: Vec<Option<f64>> = req
        .machines
        .iter()
        .map(|m| cost(&m.hardware, 1, 0.0, base.price, base.kwh_price).map(|c| c.usd_per_hour))
        .collect();
    let bound = |machine: usize, gpus: u32, replicas: u32| {
        let total = (replicas + req.spares) * gpus;
        (prices[machine].map_or(0.0, |p| p * f64::from(total)), total)
    };
    let mut queue = std::collections::BinaryHeap::new();
    for proposal in proposals(&idle_req, judging, &machines) {
        let Proposal::Deploy {
            subject,
            hardware,
            gpus,
        } = proposal
        else {
            continue;
        };
        subjects += 1;
        let Some(machine) = machines.iter().position(|(h, _)| std::ptr::eq(h, hardware)) else {
            continue;
        };
        queue.push(Entry {
            bound: bound(machine, gpus, 1),
            order: queue.len(),
            machine,
            gpus,
            stage: Stage::Proposed(subject),
        });
    }
    // One fleet per group: per GPU type when several types compete (so `--cloud` lists the best
    // of every type), else per shape that differs in more than the quant's name.
    let by_type = req
        .machines
        .iter()
        .any(|m| gpu_id(&m.hardware) != gpu_id(&req.machines[0].hardware));
    let keep = if by_type { usize::MAX } else { RUNNERS_UP + 1 };
    let gpu_ids: Vec<String> = req.machines.iter().map(|m| gpu_id(&m.hardware)).collect();
    let group = |subject: &Subject, machine: usize, gpus: u32| -> Group {
        let gpu = gpu_ids[machine].clone();
        if by_type {
            (gpu, None)
        } else {
            let q = subject.quant;
            let format = q.format == crate::catalog::quant::QuantFormat::Gguf;
            let shape = (
                subject.model.id.clone(),
                subject.engine.id.clone(),
                gpus,
                format,
                q.linear_bits.to_bits(),
            );
            (gpu, Some(shape))
        }
    };
    let mut fleets: Vec<(Fleet, Group)> = vec![];
    while let Some(entry) = queue.pop() {
        if fleets.len() >= keep && entry.bound > fleets[keep - 1].0.key() {
            break;
        }
        let s = match entry.stage {
            Stage::Proposed(subject) => {
                // Its group's fleet already costs no more than this shape's least: with every
                // type kept, fleets are only ever replaced by cheaper ones, so it never would.
                // (Every type kept means one group per GPU type, named by its id.)
                if keep == usize::MAX
                    && fleets.iter().any(|(f, (gpu, _))| {
                        *gpu == gpu_ids[entry.machine] && f.key() <= entry.bound
                    })
                {
                    continue;
                }
                let m = &req.machines[entry.machine];
                match size(
                    req,
                    &idle_req,
                    &replica_constraints,
                    subject,
                    entry.machine,
                    m,
                    entry.gpus,
                    &mut evaluated,
                    fleets.is_empty(),
                ) {
                    Ok(shape) => {
                        considered += 1;
                        queue.push(Entry {
                            bound: bound(entry.machine, entry.gpus, shape.min_replicas),
                            stage: Stage::Sized(Box::new(Shape {
                                usd_per_gpu_hour: prices[entry.machine],
                                ..shape
                            })),
                            ..entry
                        });
                    }
                    Err(Some(miss)) => sizing_misses.push((entry.order, miss)),
                    Err(None) => {}
                }
                continue;
            }
            Stage::Sized(s) => s,
        };
        let lower_bound = entry.bound;
        let g = group(&s.subject, s.machine, s.gpus);
        let same = fleets.iter().position(|(_, h)| *h == g);
        if same.is_some_and(|i| fleets[i].0.key() <= lower_bound) {
            continue;
        }
        let m = &req.machines[s.machine];
        let mut try_at = |n: u32| -> Option<Candidate<'a>> {
            evaluated += 1;
            let l = Loaded {
                estimate: s.server.at(req.demand.per_replica(n)).ok()?,
                percentile: req.traffic.percentile,
            };
            Some(with_load(
                &loaded_req,
                &replica_constraints,
                s.idle.clone(),
                l,
                Words::None,
            ))
        };
        let meets = |cand: &Candidate| {
            cand.qualifies()
                && cand
                    .evaluated
                    .load
                    .as_ref()
                    .is_some_and(|l| l.estimate.utilization <= req.headroom)
        };
        let first = try_at(s.min_replicas);
        let (n, cand) = match first {
            Some(c) if meets(&c) => (s.min_replicas, c),
            _ => {
                let Some(most) = try_at(MAX_REPLICAS) else {
                    continue;
                };
                // Misses are reported only when no fleet is found: word them only until one is.
                if !meets(&most) && fleets.is_empty() {
                    let most = Candidate {
                        checks: worded_miss(&loaded_req, &replica_constraints, &most),
                        ..most
                    };
                    misses.push(limiting(&most, req, MAX_REPLICAS));
                    continue;
                }
                if !meets(&most) {
                    continue;
                }
                let (mut lo, mut hi, mut best) = (s.min_replicas, MAX_REPLICAS, most);
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2;
                    match try_at(mid) {
                        Some(c) if meets(&c) => {
                            hi = mid;
                            best = c;
                        }
                        _ => lo = mid,
                    }
                }
                (hi, best)
            }
        };
        let fleet = fleet(req, &s, m, n, cand);
        if let (Some(b), Some(fc)) = (&base.constraints.budget, &fleet.cost)
            && fc.usd_per_hour > b.usd_per_hour
        {
            misses.push(Miss {
                constraint: Constraint::Budget,
                message: format!(
                    "budget: {} costs ${:.2}/h, above the budget of ${:.2}/h ({})",
                    fleet.shape(),
                    fc.usd_per_hour,
                    b.usd_per_hour,
                    b.given
                ),
                shortfall: fc.usd_per_hour / b.usd_per_hour - 1.0,
            });
            continue;
        }
        match same {
            Some(i) if rank(&fleet, &fleets[i].0, &base.constraints).is_lt() => {
                fleets[i] = (fleet, g);
            }
            Some(_) => {}
            None => fleets.push((fleet, g)),
        }
        fleets.sort_by(|a, b| rank(&a.0, &b.0, &base.constraints));
        fleets.truncate(keep);
    }
    // The checks the search weighed, now worded: the fleets leave the search with them.
    let fleets: Vec<Fleet> = fleets
        .into_iter()
        .map(|(mut f, _)| {
            f.replica.checks = worded(&loaded_req, &replica_constraints, &f.replica);
            f
        })
        .collect();
    let mut fleets = fleets.into_iter();
    let choice = fleets.next();
    let runners_up: Vec<Fleet> = match &choice {
        Some(win) => fleets
            .map(|mut f| {
                f.lost = why_lost(win, &f, &req.traffic, &base.constraints);
                f
            })
            .collect(),
        None => vec![],
    };
    let miss = if choice.is_none() {
        // With no fleet found nothing was skipped: every shape was sized and tried, so the misses
        // are all there, the sizing ones in proposal order, as a search that sized all first sees them.
        sizing_misses.sort_by_key(|(order, _)| *order);
        let closest = sizing_misses
            .into_iter()
            .map(|(_, m)| m)
            .chain(misses)
            .min_by(|a, b| a.shortfall.total_cmp(&b.shortfall));
        // Nothing got as far as the SLO: below the quality floor, or nothing fits or runs.
        closest.or_else(|| {
            Some(if subjects == 0 {
                Miss {
                    constraint: Constraint::MinQuality,
                    message: format!(
                        "quality: no model and quant reaches the floor of {} ({} ≥ {})",
                        task.id,
                        task.benchmark.label(),
                        crate::quantity::score(floor)
                    ),
                    shortfall: f64::INFINITY,
                }
            } else {
                Miss {
                    constraint: Constraint::Fits,
                    message: "memory: no replica shape fits and runs on these GPUs".into(),
                    shortfall: f64::INFINITY,
                }
            })
        })
    } else {
        None
    };
    FleetDecision {
        choice,
        runners_up,
        miss,
        shapes: considered,
        evaluated,
    }
}

/// Size a proposed shape: its idle assessment (what cannot fit, misses the quality floor, or
/// misses a time limit for good is out), its server and highest sustainable rate, and the fewest
/// replicas the headroom allows. `Err(Some)`: out, with the miss that says why, worded only when
/// `explain` (no fleet found yet: once one is, the misses are never reported).
#[allow(clippy::too_many_arguments)]
fn size<'a>(
    req: &FleetRequest<'a, '_>,
    idle_req: &Request<'a>,
    replica_constraints: &Constraints,
    subject: Subject<'a>,
    machine: usize,
    m: &ReplicaMachine,
    gpus: u32,
    evaluated: &mut usize,
    explain: bool,
) -> Result<Shape<'a>, Option<Miss>> {
    // Weights alone above every byte of the replica's GPUs: a tensor-parallel engine keeps them
    // all there, so sizing could only find that it does not fit, and a shape that does not fit is
    // dropped without a word (under `--cloud`, about one sized shape in five).
    if subject.engine.multi_gpu == MultiGpu::Tensor && gpus > 0 {
        let memory: u64 = m
            .hardware
            .gpus
            .iter()
            .take(gpus as usize)
            .map(|g| g.memory_bytes)
            .sum();
        if subject.weights.total() > memory as f64 {
            return Err(None);
        }
    }
    let idle = assess_with(
        idle_req,
        replica_constraints,
        &subject,
        &m.hardware,
        gpus,
        Words::None,
    )
    .map_err(|_| None)?;
    let hard = idle
        .checks
        .iter()
        .find(|k| !k.ok && matches!(k.constraint, Constraint::Fits | Constraint::MinQuality));
    if hard.is_some() {
        return Err(None);
    }
    if let Some(miss) = hopeless(&idle.checks) {
        if !explain {
            return Err(None);
        }
        return Err(
            worded_as(idle_req, replica_constraints, &idle, Words::Only(miss))
                .iter()
                .find(|k| k.constraint == miss)
                .map(|k| Miss {
                    constraint: miss,
                    message: format!(
                        "{} on {}: {} on an idle replica, so at any replica count",
                        label(&idle),
                        gpus_label(&m.hardware, gpus),
                        k.message
                    ),
                    shortfall: shortfall(k),
                }),
        );
    }
    *evaluated += 1;
    let d = &idle.evaluated.deployment;
    let server = Server::with_weights(
        d,
        &m.hardware,
        &idle.evaluated.memory,
        req.traffic.lengths(&d.workload),
        &SchedulerOverrides::default(),
        &subject.weights,
        &subject.params,
    )
    .map_err(|_| None)?;
    let max_rate = server.max_rate_per_s();
    let min_replicas = match req.demand {
        Demand::Rate { per_second } => {
            let n = (per_second / (req.headroom * max_rate)).ceil();
            if !(n.is_finite() && n <= f64::from(MAX_REPLICAS)) {
                if !explain {
                    return Err(None);
                }
                return Err(Some(Miss {
                    constraint: Constraint::Load,
                    message: format!(
                        "{} on {}: one replica sustains {}; {} at {:.0}% utilization needs {} replicas, above the search's cap of {MAX_REPLICAS}",
                        label(&idle),
                        gpus_label(&m.hardware, gpus),
                        rate_label(max_rate),
                        req.demand.label(),
                        req.headroom * 100.0,
                        if n.is_finite() {
                            format!("{n:.0}")
                        } else {
                            "unboundedly many".into()
                        }
                    ),
                    shortfall: n / f64::from(MAX_REPLICAS) - 1.0,
                }));
            }
            (n as u32).max(1)
        }
        Demand::Users { .. } => 1,
    };
    Ok(Shape {
        subject,
        machine,
        gpus,
        idle,
        server,
        max_rate,
        min_replicas,
        usd_per_gpu_hour: None,
    })
}

/// The rates `plan --plot` draws: from a quarter of the planned rate to three times it.
pub const CURVE_SCALES: [f64; 10] = [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0];

/// The chosen shape planned again at other request rates: the same model, quant, engine, GPU type
/// and GPUs per replica, each rate by [`plan`] itself (so the replica count still meets the SLO,
/// not just the headroom). The budget is dropped, so the curve shows what the rates past it cost.
/// `None` at a rate the shape cannot carry within the replica cap.
pub fn at_rates<'a>(
    req: &FleetRequest<'a, '_>,
    chosen: &Fleet<'a>,
    rates: &[f64],
) -> Vec<(f64, Option<Fleet<'a>>)> {
    let d = &chosen.replica.evaluated.deployment;
    let gpus = d.gpus;
    let gpu = gpu_id(&chosen.replica.evaluated.hardware);
    let machines: Vec<ReplicaMachine> = req
        .machines
        .iter()
        .filter(|m| gpu_id(&m.hardware) == gpu && m.gpu_counts.contains(&gpus))
        .map(|m| ReplicaMachine {
            gpu_counts: vec![gpus],
            ..m.clone()
        })
        .collect();
    let search = Request {
        pins: super::search::Pins {
            model: Some(d.model),
            quant: Some(d.quant),
            engine: Some(d.engine),
            ..req.search.pins
        },
        constraints: Constraints {
            budget: None,
            ..req.search.constraints.clone()
        },
        machines: Machines::Cloud,
        ..*req.search
    };
    rates
        .iter()
        .map(|&per_second| {
            let r = FleetRequest {
                search: &search,
                machines: machines.clone(),
                demand: Demand::Rate { per_second },
                traffic: Traffic {
                    load: Load::Rate { per_second },
                    ..req.traffic
                },
                headroom: req.headroom,
                spares: req.spares,
            };
            (per_second, plan(&r).choice)
        })
        .collect()
}

fn fleet<'a>(
    req: &FleetRequest<'a, '_>,
    s: &Shape<'a>,
    m: &ReplicaMachine,
    replicas: u32,
    replica: Candidate<'a>,
) -> Fleet<'a> {
    let total = replicas + req.spares;
    let total_gpus = total * s.gpus;
    let nodes = if s.gpus <= m.node_gpus {
        total.div_ceil((m.node_gpus / s.gpus.max(1)).max(1))
    } else {
        total * s.gpus.div_ceil(m.node_gpus.max(1))
    };
    let (rps, tps) = replica.evaluated.load.as_ref().map_or((0.0, 0.0), |l| {
        (
            l.estimate.requests_per_s * f64::from(replicas),
            l.estimate.output_tokens_per_s * f64::from(replicas),
        )
    });
    let basis = replica.evaluated.cost.as_ref().map(|c| c.basis);
    let cost = match (s.usd_per_gpu_hour, basis) {
        (Some(p), Some(basis)) => Some(fleet_cost(p, basis, total_gpus, rps, tps)),
        _ => None,
    };
    let launch = launch_plan(&replica);
    Fleet {
        load_per_replica: req.demand.per_replica(replicas),
        max_rate_per_replica: s.max_rate,
        replica,
        replicas,
        spares: req.spares,
        total_gpus,
        nodes,
        requests_per_s: rps,
        output_tokens_per_s: tps,
        cost,
        launch,
        lost: String::new(),
    }
}

/// The launch of one replica: under load the server must admit the batch the serving model ran
/// (its `max_batch`), not the one sequence the workload names.
pub fn launch_plan(ch: &Candidate) -> Result<LaunchPlan, Error> {
    launch::plan(&launched(ch), &ch.evaluated.memory)
}

/// One replica's deployment as launched: it admits the batch the serving model ran.
pub fn launched<'a>(ch: &Candidate<'a>) -> Deployment<'a> {
    super::load::launched(&ch.evaluated.deployment, ch.evaluated.load.as_ref())
}

/// The first failing check of a shape at the replica cap, as the fleet's limiting constraint.
fn limiting(c: &Candidate, req: &FleetRequest, n: u32) -> Miss {
    let on = format!("{} on {}", label(c), c.gpus_label());
    let high = c
        .evaluated
        .load
        .as_ref()
        .is_some_and(|l| l.estimate.utilization > req.headroom);
    match c.checks.iter().find(|k| !k.ok) {
        Some(k) => Miss {
            constraint: k.constraint,
            message: format!("{on}: even as {n} replicas, {}", k.message),
            shortfall: shortfall(k),
        },
        None if high => Miss {
            constraint: Constraint::Load,
            message: format!(
                "{on}: even as {n} replicas each runs above {:.0}% utilization",
                req.headroom * 100.0
            ),
            shortfall: 1.0,
        },
        None => Miss {
            constraint: Constraint::Load,
            message: format!("{on}: no replica count up to {n} meets the SLO"),
            shortfall: f64::INFINITY,
        },
    }
}

/// Cheapest first; then fewer GPUs; then the lower latency the SLO reads; then higher quality.
/// Every key is a plain number, so the order is total; the sort is stable for what remains.
fn rank(a: &Fleet, b: &Fleet, c: &Constraints) -> std::cmp::Ordering {
    let (ka, kb) = (a.key(), b.key());
    let latency = |f: &Fleet| slo_latency(f, c).map_or(f64::INFINITY, |(_, v)| v);
    ka.0.total_cmp(&kb.0)
        .then(ka.1.cmp(&kb.1))
        .then(latency(a).total_cmp(&latency(b)))
        .then(b.replica.quality.total_cmp(&a.replica.quality))
}

fn label(c: &Candidate) -> String {
    format!(
        "{} {} with {}",
        c.evaluated.deployment.model.id,
        c.evaluated.deployment.quant.id,
        c.evaluated.deployment.engine.id
    )
}

/// The GPU type of a machine, as shapes and charts name it.
pub fn gpu_id(hw: &Hardware) -> String {
    hw.gpus
        .first()
        .map(|g| g.id.clone().unwrap_or_else(|| g.name.clone()))
        .unwrap_or_else(|| "cpu".into())
}

fn gpus_label(hw: &Hardware, gpus: u32) -> String {
    super::search::gpus_label(hw, gpus)
}

/// The latency the SLO reads first, at its percentile: (name, value in ms).
fn slo_latency(f: &Fleet, c: &Constraints) -> Option<(&'static str, f64)> {
    let l = f.replica.evaluated.load.as_ref()?;
    let e = &l.estimate;
    let pick = if c.tpot_ms.is_some() && c.latency_ms.is_none() {
        ("TPOT", e.tpot_ms)
    } else if c.answer_within_ms.is_some() && c.latency_ms.is_none() {
        ("answer", e.e2e_ms)
    } else {
        ("TTFT", e.ttft_ms)
    };
    pick.1.map(|p| (pick.0, p.at(l.percentile)))
}

/// "8 × 1×h100-sxm (TP1) beats 2 × 4×h100-sxm (TP4): 31% cheaper ($23.92/h vs $34.67/h) at
/// p90 TTFT 180 ms vs 150 ms".
fn why_lost(win: &Fleet, lost: &Fleet, t: &Traffic, c: &Constraints) -> String {
    let how = match (&win.cost, &lost.cost) {
        (Some(a), Some(b)) if b.usd_per_hour > a.usd_per_hour => format!(
            "{:.0}% cheaper (${:.2}/h vs ${:.2}/h)",
            (1.0 - a.usd_per_hour / b.usd_per_hour) * 100.0,
            a.usd_per_hour,
            b.usd_per_hour
        ),
        _ if lost.total_gpus > win.total_gpus => {
            format!("{} GPUs instead of {}", win.total_gpus, lost.total_gpus)
        }
        _ => "as cheap".to_string(),
    };
    let (w, l) = (
        &win.replica.evaluated.deployment,
        &lost.replica.evaluated.deployment,
    );
    let differs: Vec<String> = [
        (w.model.id.as_str(), l.model.id.as_str()),
        (w.quant.id.as_str(), l.quant.id.as_str()),
        (w.engine.id.as_str(), l.engine.id.as_str()),
    ]
    .iter()
    .filter(|(a, b)| a != b)
    .map(|(a, b)| format!("{a} vs {b}"))
    .collect();
    let models = if differs.is_empty() {
        String::new()
    } else {
        format!(" ({})", differs.join(", "))
    };
    let pct = super::load::percentile_label(t.percentile);
    let at = match (slo_latency(win, c), slo_latency(lost, c)) {
        (Some((name, a)), Some((_, b))) if (a - b).abs() <= 0.05 * b.max(1e-9) => {
            format!(" at the same {pct} {name}")
        }
        (Some((name, a)), Some((_, b))) => format!(
            " at {pct} {name} {} vs {}",
            crate::quantity::duration_ms(a),
            crate::quantity::duration_ms(b)
        ),
        _ => String::new(),
    };
    format!("{} beats {}{models}: {how}{at}", win.shape(), lost.shape())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replicas share a rate evenly and users rounded up: 10/s over 4 is 2.5/s each; 500 users
    /// over 3 replicas is 167 in flight on each.
    #[test]
    fn replicas_share_the_demand() {
        assert_eq!(
            Demand::Rate { per_second: 10.0 }.per_replica(4),
            Load::Rate { per_second: 2.5 }
        );
        assert_eq!(
            Demand::Users { concurrent: 500 }.per_replica(3),
            Load::Concurrency { requests: 167 }
        );
        assert_eq!(Demand::Rate { per_second: 20.0 }.label(), "rate 20/s");
    }
}
