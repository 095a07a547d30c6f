//! `estimate --sweep` and `check --sweep`: the command run once per point, each point by the very
//! function the command uses for a single deployment (`estimate_on`, `check_on`), and `--plot`.

use std::io::Write;
use std::path::Path;

use crate::cli::{
    CheckArgs, DeploymentArgs, EstimateArgs, Format, HardwareArgs, LoadArgs, SweepArgs,
};
use crate::decide::constraints::all_ok;
use crate::decide::sweep::{Axis, Sweep};
use crate::error::{Error, Result, exit};
use crate::hardware::Hardware;
use crate::report::deployment::DeploymentReport;
use crate::report::plot::sweep_svg;
use crate::report::sweep::{SweepDocument, SweepPoint, knee_rule, markers, sweep_table};
use crate::report::{schema, to_json};

use super::estimate::{estimate_on, evaluated_report};
use super::{Context, Outcome, check, hardware};
use crate::decide::search::Evaluated;
use crate::report::estimate::gpu_line;

/// `--plot` draws a sweep (on estimate and check): alone it has nothing to draw.
pub fn no_plot_without_sweep(args: &SweepArgs) -> Result<()> {
    match &args.plot.plot {
        Some(p) => Err(Error::input(format!(
            "--plot {} draws a sweep here: add --sweep AXIS=VALUES (e.g. --sweep concurrency=1..256)",
            p.display()
        ))),
        None => Ok(()),
    }
}

pub fn estimate(ctx: &Context, args: &EstimateArgs, sweep: &Sweep) -> Result<Outcome> {
    let d = &args.deploy;
    refuse_pinned(sweep.axis, &d.deployment, &args.load, &d.hardware)?;
    check_plot_path(&args.sweep)?;
    let machine = Machine::new(ctx, sweep.axis, &d.hardware)?;
    let mut points = vec![];
    let mut first = None;
    let mut notes = vec![];
    for &v in &sweep.values {
        let mut a = args.clone();
        set(
            sweep.axis,
            v,
            &mut a.deploy.deployment,
            &mut a.load,
            &mut a.deploy.hardware,
        );
        let e = machine
            .at(ctx, &a.deploy.hardware)
            .and_then(|hw| estimate_on(ctx, &a, hw))
            .map_err(|e| at_point(sweep.axis, v, e))?;
        let breaks = estimate_breaks(&e);
        notes.extend(e.hardware.notes.iter().cloned());
        let r = evaluated_report(&e);
        points.push(SweepPoint::of(sweep.axis, v, &r, e.load.as_ref(), breaks));
        first.get_or_insert(r);
    }
    let doc = document("estimate", sweep, points, first, None)?;
    finish(ctx, doc, &args.sweep, notes)
}

pub fn check(ctx: &Context, args: &CheckArgs, sweep: &Sweep) -> Result<Outcome> {
    let Some(model) = &args.model else {
        return Err(Error::input(
            "check --sweep needs a MODEL (e.g. r1pick check 70b --gpu h100-sxm:8 --sweep rate=1/s..8/s:8)",
        ));
    };
    refuse_pinned(
        sweep.axis,
        &args.request.deployment,
        &args.request.load,
        &args.request.hardware,
    )?;
    check_plot_path(&args.sweep)?;
    let machine = Machine::new(ctx, sweep.axis, &args.request.hardware)?;
    let mut points = vec![];
    let mut first = None;
    let mut notes = vec![];
    let mut ok = true;
    for &v in &sweep.values {
        let mut a = args.clone();
        set(
            sweep.axis,
            v,
            &mut a.request.deployment,
            &mut a.request.load,
            &mut a.request.hardware,
        );
        let c = machine
            .at(ctx, &a.request.hardware)
            .and_then(|hw| check::check_on(ctx, &a, model.clone(), hw))
            .map_err(|e| at_point(sweep.axis, v, e))?;
        ok &= all_ok(&c.checks);
        let breaks = c
            .checks
            .iter()
            .filter(|k| !k.ok)
            .map(|k| k.constraint.label().to_string())
            .collect();
        notes.extend(c.notes.iter().cloned());
        let r = evaluated_report(&c.evaluated);
        points.push(SweepPoint::of(
            sweep.axis,
            v,
            &r,
            c.evaluated.load.as_ref(),
            breaks,
        ));
        first.get_or_insert(r);
    }
    let doc = document("check", sweep, points, first, Some(ok))?;
    finish(ctx, doc, &args.sweep, notes)
}

/// What a point of `estimate` breaks with no constraint given: a deployment that holds not even
/// one request, or a rate it cannot sustain.
fn estimate_breaks(e: &Evaluated) -> Vec<String> {
    let mut b = vec![];
    if !e.memory.fits && e.load.is_none() {
        b.push("does not fit".to_string());
    }
    if e.load.as_ref().is_some_and(|l| !l.estimate.sustainable) {
        b.push("rate not sustainable".to_string());
    }
    b
}

/// The machine of every point: probed or simulated once, except on a `gpus` sweep, where each point
/// is its own simulated machine.
struct Machine(Option<Hardware>);

impl Machine {
    fn new(ctx: &Context, axis: Axis, args: &HardwareArgs) -> Result<Machine> {
        Ok(Machine(match axis {
            Axis::Gpus => None,
            _ => Some(hardware::resolve(ctx, args)?),
        }))
    }

    fn at(&self, ctx: &Context, args: &HardwareArgs) -> Result<Hardware> {
        match &self.0 {
            Some(hw) => Ok(hw.clone()),
            None => hardware::resolve(ctx, args),
        }
    }
}

/// A swept flag given as well is refused: one of the two would be silently ignored.
fn refuse_pinned(axis: Axis, d: &DeploymentArgs, l: &LoadArgs, hw: &HardwareArgs) -> Result<()> {
    let given = match axis {
        Axis::Concurrency => d.concurrency.map(|n| format!("--concurrency {n}")),
        Axis::Rate => l
            .rate
            .map(|r| format!("--rate {}", crate::decide::load::rate_label(r))),
        Axis::Context => d.context.map(|c| format!("--context {c}")),
        Axis::Gpus => hw.gpus.map(|n| format!("--gpus {n}")),
    };
    if let Some(flag) = given {
        return Err(Error::input(format!(
            "{flag} and --sweep {} both set {}; drop {flag}",
            axis.id(),
            axis.flag()
        )));
    }
    // The other load shape cannot be combined with a load sweep either.
    let other = match axis {
        Axis::Concurrency => l
            .rate
            .map(|r| format!("--rate {}", crate::decide::load::rate_label(r))),
        Axis::Rate => d.concurrency.map(|n| format!("--concurrency {n}")),
        _ => None,
    };
    if let Some(flag) = other {
        return Err(Error::input(format!(
            "{flag} and --sweep {} are two load shapes: sweep one of them",
            axis.id()
        )));
    }
    if axis == Axis::Gpus && (hw.gpu.len() != 1 || hw.hardware.is_some() || hw.gpu[0].contains(':'))
    {
        return Err(Error::input(
            "--sweep gpus varies the count of one GPU type: give it as --gpu TYPE without :N (e.g. --gpu h100-sxm --sweep gpus=1,2,4,8)",
        ));
    }
    Ok(())
}

/// The flag a point stands for, set on a copy of the command's flags.
fn set(axis: Axis, v: f64, d: &mut DeploymentArgs, l: &mut LoadArgs, hw: &mut HardwareArgs) {
    // Counts and token points are whole numbers by construction (decide::sweep rounds them).
    match axis {
        Axis::Concurrency => d.concurrency = Some(v as u32),
        Axis::Rate => l.rate = Some(v),
        Axis::Context => d.context = Some(v as u32),
        Axis::Gpus => hw.gpus = Some(v as u32),
    }
}

/// An error at one point names the point; its kind (and so the exit code) stays.
fn at_point(axis: Axis, v: f64, e: Error) -> Error {
    let at = format!("at {}={}", axis.id(), axis.label(v));
    match e {
        Error::Input(m) => Error::Input(format!("{at}: {m}")),
        Error::Environment(m) => Error::Environment(format!("{at}: {m}")),
    }
}

/// The plot written (if asked), then the document rendered: a failed write prints nothing.
fn finish(
    ctx: &Context,
    doc: SweepDocument,
    args: &SweepArgs,
    mut notes: Vec<String>,
) -> Result<Outcome> {
    notes.dedup();
    let ok = doc.ok;
    if let Some(path) = &args.plot.plot {
        let svg = sweep_svg(&doc).map_err(Error::Environment)?;
        write_atomically(path, &svg)?;
    }
    let stdout = match ctx.format {
        Format::Json => to_json(&doc),
        Format::Table => sweep_table(&doc),
    };
    Ok(Outcome {
        stdout,
        exit: if ok == Some(false) {
            exit::UNMET
        } else {
            exit::OK
        },
        notes,
    })
}

fn document(
    command: &str,
    sweep: &Sweep,
    points: Vec<SweepPoint>,
    first: Option<DeploymentReport>,
    ok: Option<bool>,
) -> Result<SweepDocument> {
    // decide::sweep::parse never yields an empty sweep.
    let Some(r) = first else {
        return Err(Error::input("a sweep needs at least one point"));
    };
    let (knee, first_break) = markers(sweep.axis, &points);
    Ok(SweepDocument {
        schema: schema("sweep"),
        command: command.into(),
        axis: sweep.axis,
        unit: sweep.axis.unit().into(),
        model: r.model.clone(),
        quant: r.quant.clone(),
        engine: r.engine.clone(),
        hardware: gpu_line(&r),
        prompt: r.workload.prompt,
        output: r.workload.output,
        percentile: r
            .performance
            .as_ref()
            .and_then(|p| p.load.as_ref())
            .map(|l| l.percentile),
        ok,
        knee_rule: knee_rule(),
        knee,
        first_break,
        points,
    })
}

/// Write `text` to `path` whole or not at all: into a temporary file beside it, then renamed over
/// it, so a failure leaves neither a partial file nor the temporary one. A directory given as the
/// file is bad input (exit 2); a path that cannot be written is the environment's (exit 3).
pub fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let shown = path.display();
    plot_path_ok(Some(path))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // tempfile's errors carry the random temporary name: say what is wrong with the directory.
    let cannot = |e: std::io::Error| {
        use std::io::ErrorKind::*;
        let why = match e.kind() {
            NotFound => format!("the directory {} does not exist", dir.display()),
            PermissionDenied | ReadOnlyFilesystem => {
                format!("no permission to write in {}", dir.display())
            }
            NotADirectory => format!("{} is not a directory", dir.display()),
            StorageFull => format!("no space left in {}", dir.display()),
            other => other.to_string(),
        };
        Error::Environment(format!("cannot write --plot {shown}: {why}"))
    };
    let mut b = tempfile::Builder::new();
    b.prefix(".r1pick-plot-").suffix(".tmp");
    // A temporary file is private (0600); the chart is an ordinary file (0644 before the umask).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut tmp = b.tempfile_in(dir).map_err(cannot)?;
    tmp.write_all(text.as_bytes()).map_err(cannot)?;
    tmp.as_file().sync_all().map_err(cannot)?;
    tmp.persist(path).map_err(|e| cannot(e.error))?;
    Ok(())
}

/// `--plot` must name an SVG file, checked before any point is computed.
pub fn check_plot_path(args: &SweepArgs) -> Result<()> {
    plot_path_ok(args.plot.plot.as_deref())
}

pub fn plot_path_ok(path: Option<&Path>) -> Result<()> {
    let Some(path) = path else { return Ok(()) };
    if path.is_dir() {
        return Err(Error::input(format!(
            "--plot {} is a directory; give a file path such as {}",
            path.display(),
            path.join("chart.svg").display()
        )));
    }
    let svg = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    if !svg {
        return Err(Error::input(format!(
            "--plot {}: r1pick draws SVG only; give a path ending in .svg",
            path.display()
        )));
    }
    Ok(())
}
