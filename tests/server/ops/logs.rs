//! The server's own log, read from the real binary's output with the default filter: the
//! first-run link is a full URL with the bound port, other crates' INFO lines (the job
//! scheduler's `Job creator created`) are absent, and `--access-log all` writes one line per
//! request with the device serial, route, status and milliseconds.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

#[tokio::test]
async fn the_log_has_the_setup_url_and_access_lines_and_no_third_party_info_noise() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ironclock"))
        .args(["serve", "--bind", "127.0.0.1:0", "--log-format", "json", "--access-log", "all", "--workers", "2"])
        .arg("--database-url")
        .arg(format!("sqlite://{}", dir.path().join("log.db").display()))
        .arg("--data-key-file")
        .arg(dir.path().join("data.key"))
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ironclock serve");
    let (tx, rx) = mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    // Read (bounded) until the scheduler has started: its INFO lines would be out by then.
    let until = |seen: &mut Vec<String>, needle: &str| {
        while !seen.iter().any(|l| l.contains(needle)) {
            match rx.recv_timeout(Duration::from_secs(30)) {
                Ok(line) => seen.push(line),
                Err(_) => panic!("no log line containing {needle:?}; got:\n{}", seen.join("\n")),
            }
        }
    };
    until(&mut seen, "verifier scheduled");
    let link = seen.iter().find(|l| l.contains("/setup?token=")).expect("the first-run link is logged");
    let at = link.find("http://127.0.0.1:").expect("a full URL");
    let port: u16 = link[at + "http://127.0.0.1:".len()..].split('/').next().unwrap().parse().unwrap();
    let resp = reqwest::get(format!("http://127.0.0.1:{port}/iclock/cdata?SN=LOG0001&options=all")).await.unwrap();
    assert_eq!(resp.status(), 200, "the link's port is the server's");
    until(&mut seen, "\"sn\":\"LOG0001\"");
    let _ = child.kill();
    let _ = child.wait();
    let access = seen.iter().find(|l| l.contains("\"sn\":\"LOG0001\"")).unwrap();
    for field in ["\"target\":\"ironclock::access\"", "\"route\":\"/iclock/cdata\"", "\"status\":200", "\"ms\":"] {
        assert!(access.contains(field), "{field} in {access}");
    }
    for noise in ["Job creator created", "Uninited", "starting service", "Tokio runtime found", "starting 2 workers"] {
        assert!(!seen.iter().any(|l| l.contains(noise)), "third-party INFO {noise:?} in:\n{}", seen.join("\n"));
    }
}
