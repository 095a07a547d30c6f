//! Property tests: no size, duration, token count, GPU spec, budget, configuration, machine file or
//! catalog value makes a parser or a command panic. Each answer is a value in range or a one-line error.

use std::path::Path;

use clap::Parser;
use proptest::prelude::*;
use r1pick::app::{self, config};
use r1pick::cli::{Cli, units};
use r1pick::decide::constraints;
use r1pick::error::exit;
use r1pick::hardware::simulate::{SimulationRequest, simulate};

use crate::util::catalog;

/// Modest case counts keep `cargo test` quick on two cores; `PROPTEST_CASES=5000` digs deeper.
fn cases(n: u32) -> ProptestConfig {
    let deeper = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok());
    ProptestConfig {
        cases: deeper.unwrap_or(n),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Numbers as people and scripts mistype them: signs, decimals, exponents, huge and empty.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        "-?[0-9]{0,25}(\\.[0-9]{0,12})?([eE][+-]?[0-9]{1,4})?",
        Just("NaN".to_string()),
        Just("inf".to_string()),
        Just("-0".to_string()),
        Just("1e308".to_string()),
        Just(u64::MAX.to_string()),
        Just(String::new()),
    ]
}

fn unit() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "", "b", "KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB", "G", "XB", "ms", "s", "sec",
        "m", "min", "h", "k", "K", "M", "%", "tok/s", "GB/s", "/h", "/day", "/month", "/year",
        "/week", "/", " GiB", "é", "\u{0}",
    ])
}

/// A number with a unit, or anything at all.
fn spelled() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (number(), unit()).prop_map(|(n, u)| format!("{n}{u}")),
        1 => "\\PC{0,24}",
        1 => any::<String>(),
    ]
}

fn one_line(e: &impl std::fmt::Display) -> bool {
    let s = e.to_string();
    !s.is_empty() && !s.contains('\n')
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn unit_parsers_answer_in_range_or_with_one_line(s in spelled()) {
        match units::parse_size(&s) {
            Ok(b) => prop_assert!(b > 0 && b <= 1 << 60, "{s} -> {b}"),
            Err(e) => prop_assert!(one_line(&e)),
        }
        match units::parse_duration_ms(&s) {
            Ok(ms) => prop_assert!(ms > 0.0 && ms <= 86_400_000.0, "{s} -> {ms}"),
            Err(e) => prop_assert!(one_line(&e)),
        }
        match units::parse_tokens(&s) {
            Ok(t) => prop_assert!(t >= 1 && u64::from(t) <= units::MAX_TOKENS, "{s} -> {t}"),
            Err(e) => prop_assert!(one_line(&e)),
        }
        match units::parse_count(&s) {
            Ok(n) => prop_assert!((1..=1_000_000).contains(&n)),
            Err(e) => prop_assert!(one_line(&e)),
        }
        for parse in [units::parse_usd, units::parse_bandwidth, units::parse_score, units::parse_speed] {
            match parse(&s) {
                Ok(v) => prop_assert!(v.is_finite() && v >= 0.0, "{s} -> {v}"),
                Err(e) => prop_assert!(one_line(&e)),
            }
        }
        if let Err(e) = units::parse_bool(&s) {
            prop_assert!(one_line(&e));
        }
    }

    #[test]
    fn budgets_are_a_positive_rate_or_one_line(amount in spelled(), tier in "[a-zA-Z]{0,12}") {
        let c = catalog();
        for given in [amount, tier] {
            match constraints::budget(&c, &given) {
                Ok(b) => prop_assert!(b.usd_per_hour > 0.0 && b.usd_per_hour.is_finite()),
                Err(e) => {
                    prop_assert_eq!(e.exit_code(), exit::BAD_INPUT);
                    prop_assert!(one_line(&e));
                }
            }
        }
    }

    #[test]
    fn gpu_specs_simulate_or_refuse(
        name in prop_oneof![
            prop::sample::select(vec!["h100-sxm", "h200", "4090", "l40s", "m3-max", "mi300x", "NVIDIA GeForce RTX 4090", "rtx", "", ":", "a100"]).prop_map(str::to_string),
            "\\PC{0,20}",
            any::<String>(),
        ],
        count in prop_oneof![Just(String::new()), number().prop_map(|n| format!(":{n}")), "[:]{1,3}[a-z0-9]{0,4}"],
        gpus in proptest::option::of(0u32..5000),
        ram in proptest::option::of(any::<u64>()),
        bandwidth in proptest::option::of(any::<f64>()),
        no_gpu in any::<bool>(),
    ) {
        let c = catalog();
        let req = SimulationRequest {
            gpu_specs: vec![format!("{name}{count}")],
            gpus,
            ram_bytes: ram,
            cpu_bandwidth_gb_s: bandwidth,
            no_gpu,
            ..Default::default()
        };
        match simulate(&c, &req) {
            Ok(hw) => prop_assert!(hw.gpu_count() <= 1024),
            Err(e) => prop_assert!(one_line(&e)),
        }
    }

    #[test]
    fn config_files_load_or_say_which_line(
        text in prop_oneof![
            any::<String>(),
            (prop::sample::select(config::keys()), spelled())
                .prop_map(|(k, v)| format!("{k} = {v:?}\n")),
            (prop::sample::select(config::keys()), number())
                .prop_map(|(k, v)| format!("{k} = {v}\n")),
            "[a-z_]{1,12} = (\"[a-z0-9]{0,6}\"|[0-9]{1,4}|true|\\[\\]|\\{\\})\n",
        ]
    ) {
        match config::parse_file(Path::new("r1pick.toml"), &text) {
            Ok(layer) => prop_assert!(layer.keys().all(|k| config::keys().iter().any(|known| known == k))),
            Err(e) => prop_assert!(one_line(&e)),
        }
    }
}

/// A GPU entry whose numbers and kinds are generated.
#[derive(Debug, Clone)]
struct GpuValues {
    memory: f64,
    bandwidth: f64,
    tflops: f64,
    link_gb_s: f64,
    tdp: f64,
    price: f64,
    pcie: u32,
    vendor: &'static str,
    memory_type: &'static str,
    link: &'static str,
    unified: bool,
}

fn gpu_values() -> impl Strategy<Value = GpuValues> {
    (
        (float(), float(), float(), float(), float(), float()),
        (
            0u32..40,
            prop::sample::select(vec!["nvidia", "amd", "apple", "other"]),
            prop::sample::select(vec!["hbm", "gddr", "lpddr"]),
            prop::sample::select(vec![
                "pcie4",
                "nvlink4",
                "infinity-fabric",
                "unified",
                "none",
            ]),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (memory, bandwidth, tflops, link_gb_s, tdp, price),
                (pcie, vendor, memory_type, link, unified),
            )| {
                GpuValues {
                    memory,
                    bandwidth,
                    tflops,
                    link_gb_s,
                    tdp,
                    price,
                    pcie,
                    vendor,
                    memory_type,
                    link,
                    unified,
                }
            },
        )
}

fn gpu_entry(g: &GpuValues) -> String {
    format!(
        "[[gpu]]\nid = \"prop-gpu\"\nname = \"Prop GPU\"\nvendor = \"{}\"\nclass = \"datacenter\"\n\
         arch = \"hopper\"\ncompute_capability = \"9.0\"\nmemory_gib = {:?}\nunified_memory = {}\n\
         memory_type = \"{}\"\nbandwidth_gb_s = {:?}\nfp16_tflops = {:?}\ntdp_w = {:?}\n\
         interconnect = \"{}\"\ninterconnect_gb_s = {:?}\npcie_gen = {}\nusd_per_hour = {:?}\n\
         source = \"generated\"\n",
        g.vendor,
        g.memory,
        g.unified,
        g.memory_type,
        g.bandwidth,
        g.tflops,
        g.tdp,
        g.link,
        g.link_gb_s,
        g.pcie,
        g.price
    )
}

fn dense_model(dims: [u32; 7], context: u32) -> String {
    let [layers, hidden, ffn, heads, kv_heads, head_dim, vocab] = dims;
    format!(
        "[[model]]\nid = \"prop-model\"\nname = \"Prop\"\nhf_repo = \"x/y\"\nlicense = \"MIT\"\n\
         base_model = \"none\"\nmax_context = {context}\nquants = [\"bf16\", \"q4_k_m\"]\n\
         [model.arch]\nkind = \"dense\"\nlayers = {layers}\nhidden = {hidden}\nffn = {ffn}\n\
         heads = {heads}\nkv_heads = {kv_heads}\nhead_dim = {head_dim}\nvocab = {vocab}\n\
         tied_embeddings = false\nqkv_bias = false\n[model.scores]\ngpqa_diamond = 50.0\n"
    )
}

/// Any f64 a TOML file can spell, mostly plausible, sometimes absurd.
fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => 0.1..5000.0f64,
        1 => any::<f64>(),
        1 => Just(0.0),
        1 => Just(-1.0),
        1 => Just(1e300),
    ]
}

/// Mostly a plausible dimension in `range`, sometimes zero or anything.
fn dim(range: std::ops::Range<u32>) -> impl Strategy<Value = u32> {
    prop_oneof![8 => range, 1 => Just(0), 1 => any::<u32>()]
}

/// layers, hidden, ffn, heads, kv_heads, head_dim, vocab — heads a multiple of kv_heads mostly.
fn dims() -> impl Strategy<Value = [u32; 7]> {
    (
        dim(1..160),
        dim(64..20_000),
        dim(64..60_000),
        dim(1..32),
        1u32..16,
        dim(16..512),
        dim(1000..300_000),
    )
        .prop_map(|(layers, hidden, ffn, kv_heads, group, head_dim, vocab)| {
            [
                layers,
                hidden,
                ffn,
                kv_heads.saturating_mul(group),
                kv_heads,
                head_dim,
                vocab,
            ]
        })
}

/// A flag with a value of its own kind, or (one time in four) anything.
fn flag() -> impl Strategy<Value = (&'static str, String)> {
    let of = |flag: &'static str, values: Vec<&'static str>| {
        (
            Just(flag),
            prop::sample::select(values).prop_map(str::to_string),
        )
    };
    let typed = prop_oneof![
        of(
            "--quant",
            vec![
                "bf16", "fp8", "int4", "int8", "q4_k_m", "q8_0", "ud-iq1_s", "q2_k"
            ]
        ),
        of(
            "--engine",
            vec![
                "vllm",
                "sglang",
                "trtllm",
                "llama.cpp",
                "ollama",
                "transformers"
            ]
        ),
        of("--tp", vec!["1", "2", "3", "4", "8", "16"]),
        of(
            "--concurrency",
            vec!["1", "2", "8", "64", "1000", "1000000"]
        ),
        of(
            "--context",
            vec!["1", "1k", "2k", "8k", "32k", "128k", "160k", "1m", "16m"]
        ),
        of("--prompt", vec!["1", "512", "2k", "8k", "100k"]),
        of("--output", vec!["1", "512", "4k", "32k"]),
        of(
            "--ram",
            vec!["1B", "8GiB", "64GiB", "512GiB", "2TiB", "1024TiB"]
        ),
        of("--cpu-bandwidth", vec!["0.001", "50", "460.8", "99999"]),
        of("--latency", vec!["1ms", "200ms", "2s", "1m"]),
        of("--tpot", vec!["1ms", "50ms", "1s"]),
        of("--min-speed", vec!["0.001", "10", "30", "1000000"]),
        of("--answer-within", vec!["1ms", "30s", "10m", "1440m"]),
        of(
            "--budget",
            vec![
                "0.01/h",
                "3/h",
                "2000/month",
                "personal",
                "lab",
                "1000000000/year"
            ]
        ),
        of("--min-quality", vec!["0", "50", "99.9", "4000"]),
        of(
            "--task",
            vec![
                "code",
                "chat",
                "math",
                "research",
                "hardest",
                "long-document"
            ]
        ),
        of("--price", vec!["0", "2.99", "1000000000"]),
        of("--kwh-price", vec!["0", "0.3", "1000"]),
        of("--kv-dtype", vec!["bf16", "fp8", "q4_0"]),
        of("--mla-kv", vec!["latent", "latent-v", "expanded"]),
    ];
    let names = vec![
        "--quant",
        "--engine",
        "--tp",
        "--context",
        "--prompt",
        "--output",
        "--concurrency",
        "--ram",
        "--cpu-bandwidth",
        "--latency",
        "--tpot",
        "--min-speed",
        "--answer-within",
        "--budget",
        "--min-quality",
        "--task",
        "--price",
        "--kwh-price",
        "--kv-dtype",
        "--mla-kv",
    ];
    prop_oneof![3 => typed, 1 => (prop::sample::select(names), spelled())]
}

/// Run the binary's library entry point on `args`; every answer is an outcome with exit 0 or 1,
/// or an error with exit 2 or 3 and one line.
fn run_args(args: &[String]) -> Result<(), TestCaseError> {
    let argv = std::iter::once("r1pick".to_string()).chain(args.iter().cloned());
    let Ok(cli) = Cli::try_parse_from(argv) else {
        return Ok(()); // clap's own error: exit 2, rendered by main
    };
    match app::run(&cli) {
        Ok(out) => prop_assert!(out.exit == exit::OK || out.exit == exit::UNMET, "{args:?}"),
        Err(e) => {
            prop_assert!(
                e.exit_code() == exit::BAD_INPUT || e.exit_code() == exit::ENVIRONMENT,
                "{args:?}"
            );
            prop_assert!(one_line(&e), "{args:?}: {e}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(64))]

    #[test]
    fn catalog_values_never_panic_a_command(
        gpu in gpu_values(),
        dims in dims(),
        context in dim(2048..1_000_000),
        command in prop::sample::select(vec!["size", "estimate", "check"]),
        quant in prop::sample::select(vec!["bf16", "q4_k_m"]),
    ) {
        let text = format!(
            "{}{}",
            gpu_entry(&gpu),
            dense_model(dims, context)
        );
        let loaded = r1pick::catalog::Catalog::with_override("prop.toml", &text);
        if let Err(e) = &loaded {
            prop_assert!(one_line(e), "{e}");
            return Ok(());
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prop.toml");
        std::fs::write(&path, &text).unwrap();
        let args: Vec<String> = [
            "--catalog", path.to_str().unwrap(), command, "prop-model", "--gpu", "prop-gpu:2",
            "--quant", quant, "--context", "2k", "--json",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        run_args(&args)?;
    }

    #[test]
    fn price_files_load_or_refuse_in_one_line(
        gpu in prop::sample::select(vec!["h100-sxm", "l40s", "rtx-4090", "mi250x", "nope", ""]),
        price in float(),
        date in prop_oneof![Just("2026-11-01".to_string()), spelled()],
        url in prop_oneof![Just("https://example.com".to_string()), Just(String::new())],
        command in prop::sample::select(vec!["estimate", "check"]),
    ) {
        let text = format!(
            "[[price]]\ngpu = {gpu:?}\nprovider = \"P\"\nusd_per_gpu_hour = {price:?}\ndate = {date:?}\nurl = {url:?}\n"
        );
        let loaded = r1pick::catalog::Catalog::embedded().unwrap().with_prices("prices.toml", &text);
        match &loaded {
            Err(e) => prop_assert!(one_line(e), "{e}"),
            Ok(c) => {
                let g = c.gpus.iter().find(|g| g.id == gpu).unwrap();
                prop_assert_eq!(g.usd_per_hour, Some(price));
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prices.toml");
        std::fs::write(&path, &text).unwrap();
        let target = if gpu.is_empty() { "l40s" } else { gpu };
        let args: Vec<String> = ["--prices", path.to_str().unwrap(), command, "7b", "--gpu", target, "--json"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        run_args(&args)?;
    }

    #[test]
    fn hardware_files_never_panic_a_command(
        memory in prop_oneof![3 => prop::sample::select(vec!["24GiB", "80GB", "192GiB", "1TiB"]).prop_map(str::to_string), 1 => spelled()],
        ram in prop_oneof![3 => prop::sample::select(vec!["64GiB", "512GiB", "2TiB"]).prop_map(str::to_string), 1 => spelled()],
        bandwidth in float(), tflops in float(), cpu_bandwidth in float(), price in float(),
        count in prop_oneof![4 => 1u32..9, 1 => any::<u32>()],
        cores in prop_oneof![4 => 1u32..256, 1 => any::<u32>()],
        known in prop::sample::select(vec!["l40s", "h100-sxm", "rtx-4090", "m3-max-40c", "nope"]),
        command in prop::sample::select(vec!["size", "estimate", "check"]),
    ) {
        let text = format!(
            "[host]\nram = {ram:?}\ncpu_bandwidth_gb_s = {cpu_bandwidth:?}\ncores = {cores}\n\n\
             [[gpu]]\nname = \"Acme X1\"\nmemory = {memory:?}\nbandwidth_gb_s = {bandwidth:?}\n\
             fp16_tflops = {tflops:?}\nusd_per_hour = {price:?}\ncount = {count}\n\n\
             [[gpu]]\nid = \"{known}\"\n"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("machine.toml");
        std::fs::write(&path, &text).unwrap();
        let args: Vec<String> = [command, "7b", "--hardware", path.to_str().unwrap(), "--json"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        run_args(&args)?;
    }

    #[test]
    fn generated_command_lines_never_panic(
        command in prop::sample::select(vec!["size", "estimate", "check"]),
        model in prop::sample::select(vec!["1.5b", "7b", "8b", "14b", "32b", "70b", "671b", "r1-0528-8b", "nope"]),
        machine in prop_oneof![
            prop::sample::select(vec!["h100-sxm", "h200:8", "rtx-4090:2", "l40s:3", "m3-max-40c", "mi300x:8", "a10g", "rtx-3060", "gh200", "arc-b580", "ryzen-ai-max-395", "mi250x:2"])
                .prop_map(|g| vec!["--gpu".to_string(), g.to_string()]),
            Just(vec!["--no-gpu".to_string()]),
        ],
        flags in prop::collection::vec(flag(), 0..6),
    ) {
        let mut args = vec![command.to_string(), model.to_string()];
        args.extend(machine);
        for (flag, value) in flags {
            args.push(format!("{flag}={value}"));
        }
        run_args(&args)?;
    }
}
