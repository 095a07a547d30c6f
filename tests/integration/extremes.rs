//! Inputs at the edges of what the loaders accept (a 1 MiB or a 16 TiB GPU, 0.001 or 1,000,000
//! GB/s, a $1,000,000/h price) still give documents that validate against their schema, and tables
//! without `inf` or `NaN`: no non-finite number reaches output.

use proptest::prelude::*;

use crate::schema::{conforms, schema_of};
use crate::util::r1pick;

fn machine() -> impl Strategy<Value = String> {
    let rate = prop::sample::select(vec![0.001, 0.5, 900.0, 99_999.0, 1_000_000.0]);
    (
        prop::sample::select(vec!["1MiB", "24GiB", "16384GiB"]),
        rate.clone(),
        rate,
        prop::sample::select(vec![0.0, 0.000001, 2.5, 1_000_000.0]),
        prop::sample::select(vec![1u32, 2, 8]),
        prop::sample::select(vec!["1MiB", "64GiB", "1024TiB"]),
        prop::sample::select(vec![0.001, 99_999.0]),
        prop::sample::select(vec![1u32, 65_536]),
    )
        .prop_map(|(memory, bw, fp16, price, count, ram, cpu_bw, cores)| {
            format!(
                "[host]\nram = \"{ram}\"\ncpu_bandwidth_gb_s = {cpu_bw:?}\ncores = {cores}\n\n\
                 [[gpu]]\nname = \"Edge\"\nmemory = \"{memory}\"\nbandwidth_gb_s = {bw:?}\n\
                 fp16_tflops = {fp16:?}\nfp8_tflops = {fp16:?}\nusd_per_hour = {price:?}\ncount = {count}\n"
            )
        })
}

fn command() -> impl Strategy<Value = (&'static str, Vec<&'static str>)> {
    prop::sample::select(vec![
        ("size", vec!["size", "7b", "--engine", "llama.cpp"]),
        (
            "estimate",
            vec![
                "estimate",
                "671b",
                "--quant",
                "ud-iq1_s",
                "--engine",
                "llama.cpp",
            ],
        ),
        (
            "estimate",
            vec![
                "estimate",
                "1.5b",
                "--context",
                "128k",
                "--concurrency",
                "1000",
            ],
        ),
        (
            "check",
            vec![
                "check",
                "70b",
                "--engine",
                "llama.cpp",
                "--budget",
                "3/h",
                "--latency",
                "1ms",
            ],
        ),
        (
            "recommend",
            vec!["recommend", "--task", "chat", "--best-effort"],
        ),
        ("probe", vec!["probe"]),
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn extreme_accepted_machines_give_valid_documents((kind, args) in command(), hw in machine()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("edge.toml");
        std::fs::write(&path, &hw).unwrap();
        let p = path.display().to_string();
        let json = r1pick().args(&args).args(["--hardware", &p, "--json"]).output().unwrap();
        let code = json.status.code();
        let err = String::from_utf8_lossy(&json.stderr).into_owned();
        if code == Some(2) {
            // A deployment this machine cannot run is refused in one line, with nothing on stdout.
            prop_assert!(json.stdout.is_empty() && err.lines().count() == 1, "{args:?}\n{hw}\n{err}");
            return Ok(());
        }
        prop_assert!(matches!(code, Some(0 | 1)), "{args:?} exit {code:?}\n{hw}\n{err}");
        let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        let schema = schema_of(kind);
        if let Err(e) = conforms(&doc, &schema, &schema, "") {
            return Err(TestCaseError::fail(format!("{args:?}\n{hw}\n{e}")));
        }
        let table = r1pick().args(&args).args(["--hardware", &p]).output().unwrap();
        let text = String::from_utf8_lossy(&table.stdout).to_lowercase();
        for bad in ["inf ", "inf\n", "nan", "infinity"] {
            prop_assert!(!text.contains(bad), "{args:?}: '{bad}' in\n{hw}\n{text}");
        }
    }
}
