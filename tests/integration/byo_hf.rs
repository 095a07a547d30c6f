//! `hf:ORG/NAME[@rev]` against a Hugging Face stand-in on the loopback (HF_ENDPOINT), with the
//! cache in a temporary HF_HOME: only config.json and the safetensors index are fetched, the cache
//! answers once the server is gone, and no server at all is exit 3.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use crate::byo::fixture;
use crate::util::r1pick;

/// Serve `files` (URL path → body) in hf-hub's layout: /{repo}/resolve/{rev}/{file}, answering
/// its `Range: bytes=0-0` probe with the etag and commit headers it needs.
fn serve(
    files: Vec<(String, Vec<u8>)>,
) -> (String, Arc<Mutex<Vec<String>>>, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    listener.set_nonblocking(false).unwrap();
    let handle = std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            let mut range = None;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("range: bytes=") {
                    range = Some(v.trim().to_string());
                }
            }
            let path = request.split_whitespace().nth(1).unwrap_or("").to_string();
            if path == "/stop" {
                break;
            }
            log.lock().unwrap().push(path.clone());
            let reply = match files.iter().find(|(p, _)| *p == path) {
                Some((_, body)) => {
                    let (status, part) = match range.as_deref() {
                        Some("0-0") => ("206 Partial Content", &body[..1]),
                        _ => ("200 OK", &body[..]),
                    };
                    let mut head = format!(
                        "HTTP/1.1 {status}\r\netag: \"e{}\"\r\nx-repo-commit: 0123456789abcdef\r\ncontent-range: bytes 0-{}/{}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len(),
                        part.len() - 1,
                        body.len(),
                        part.len()
                    )
                    .into_bytes();
                    head.extend_from_slice(part);
                    head
                }
                None => b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    .to_vec(),
            };
            let _ = stream.write_all(&reply);
        }
    });
    (addr, seen, handle)
}

fn stop(addr: &str, handle: std::thread::JoinHandle<()>) {
    let host = addr.trim_start_matches("http://");
    if let Ok(mut s) = std::net::TcpStream::connect(host) {
        let _ = s.write_all(b"GET /stop HTTP/1.1\r\n\r\n");
    }
    handle.join().unwrap();
}

#[test]
fn hf_repo_ids_resolve_through_hf_hub_and_its_cache() {
    let config = std::fs::read(fixture("configs/DeepSeek-V2-Lite/config.json")).unwrap();
    let (addr, seen, handle) = serve(vec![(
        "/deepseek-ai/DeepSeek-V2-Lite/resolve/main/config.json".into(),
        config,
    )]);
    let home = tempfile::tempdir().unwrap();
    let run = |endpoint: &str, args: &[&str]| {
        r1pick()
            .env("HF_ENDPOINT", endpoint)
            .env("HF_HOME", home.path())
            .env_remove("HF_TOKEN")
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(
        &addr,
        &[
            "size",
            "hf:deepseek-ai/DeepSeek-V2-Lite",
            "--gpu",
            "h100-sxm",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["model_source"], "hf");
    assert_eq!(doc["memory"]["kv_bytes_per_token"], 27 * 576 * 2);
    let paths = seen.lock().unwrap().clone();
    assert!(!paths.is_empty());
    assert!(
        paths
            .iter()
            .all(|p| p.ends_with("/config.json") || p.ends_with("/model.safetensors.index.json")),
        "only the config and the index are fetched: {paths:?}"
    );
    // an unknown repo is bad input, named
    let out = run(
        &addr,
        &["size", "hf:nobody/nothing@v1", "--gpu", "h100-sxm"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("hf:nobody/nothing@v1 has no config.json")
    );
    stop(&addr, handle);

    // the server is gone: hf-hub's cache answers
    let out = run(
        "http://127.0.0.1:1",
        &[
            "models",
            "--from",
            "hf:deepseek-ai/DeepSeek-V2-Lite",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // nothing cached and nothing listening: the environment failed, exit 3, one line
    let out = run(
        "http://127.0.0.1:1",
        &["size", "hf:mistralai/Mistral-7B-v0.1", "--gpu", "l40s"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("offline? pass a local config.json or .gguf instead"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}
