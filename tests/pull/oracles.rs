//! The independent oracles: real third-party clients (pyzk-new 0.9.1 and fpmachine 0.0.2, run
//! from the pinned wheels in `tests/oracles/pull/wheels/` as separate Python processes) drive
//! the in-process simulator end to end. Each run must exit 0 and print `N passed, 0 failed`.
//! Needs `python3` (3.8+, standard library only) on PATH.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ironclock::sim::pull::{Seed, SimConfig, SimDevice};

/// Upper bound for one oracle run (pyzk's own socket timeout is 5 s per missing reply).
const ORACLE_TIMEOUT: Duration = Duration::from_secs(120);
const COMM_KEY: u32 = 123_456;

fn oracle_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oracles/pull")
}

async fn start_sim(comm_key: u32) -> SimDevice {
    let config = SimConfig { comm_key, punch_every: Some(Duration::from_millis(400)), ..SimConfig::default() };
    let seed = Seed { user_ids: (1..=20).collect(), fingers_per_user: 2, faces: true, photos: true, records: 300 };
    let listen: SocketAddr = "127.0.0.1:0".parse().unwrap();
    SimDevice::start(listen, config, &seed).await.expect("simulator starts")
}

/// Runs one oracle script; returns (exit code, combined output).
async fn run_oracle(script: &str, port: u16, args: &[&str]) -> (Option<i32>, String) {
    let mut cmd = tokio::process::Command::new("python3");
    cmd.current_dir(oracle_dir()).arg(script).arg("127.0.0.1").arg(port.to_string()).args(args);
    cmd.env("PYTHONDONTWRITEBYTECODE", "1").kill_on_drop(true);
    let run = tokio::time::timeout(ORACLE_TIMEOUT, cmd.output()).await;
    let out = match run {
        Err(_) => return (None, format!("{script} {args:?}: timed out after {ORACLE_TIMEOUT:?}")),
        Ok(Err(e)) => {
            panic!("cannot run python3 {script}: {e} (python3 is required for the oracle tests)")
        }
        Ok(Ok(out)) => out,
    };
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

/// Asserts a clean oracle run with at least `min_steps` passed steps.
fn assert_all_passed(what: &str, (code, output): (Option<i32>, String), min_steps: usize) {
    let summary = output.lines().rev().find_map(|l| {
        let (p, rest) = l.split_once(" passed, ")?;
        let f = rest.strip_suffix(" failed")?;
        Some((p.trim().parse::<usize>().ok()?, f.trim().parse::<usize>().ok()?))
    });
    match summary {
        Some((passed, 0)) if code == Some(0) && passed >= min_steps => {
            println!("{what}: {passed} passed, 0 failed");
        }
        _ => panic!("{what}: oracle failed (exit {code:?}, summary {summary:?}):\n{output}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyzk_over_tcp_passes_every_step_and_receives_live_events() {
    let sim = start_sim(0).await;
    let run = run_oracle("oracle_pyzk.py", sim.addr().port(), &["--expect-events", "2"]).await;
    assert_all_passed("pyzk tcp", run, 27);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyzk_over_udp_passes_every_step_and_receives_live_events() {
    let sim = start_sim(0).await;
    let run = run_oracle("oracle_pyzk.py", sim.addr().port(), &["--udp", "--expect-events", "2"]).await;
    assert_all_passed("pyzk udp", run, 27);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyzk_with_the_comm_key_over_tcp_passes_every_step() {
    let sim = start_sim(COMM_KEY).await;
    let run = run_oracle("oracle_pyzk.py", sim.addr().port(), &["--commkey", "123456", "--expect-events", "1"]).await;
    assert_all_passed("pyzk tcp commkey", run, 27);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyzk_with_the_comm_key_over_udp_passes_every_step() {
    let sim = start_sim(COMM_KEY).await;
    let run = run_oracle("oracle_pyzk.py", sim.addr().port(), &["--commkey", "123456", "--udp"]).await;
    assert_all_passed("pyzk udp commkey", run, 27);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyzk_with_a_wrong_comm_key_is_refused_at_connect() {
    let sim = start_sim(COMM_KEY).await;
    let (code, output) = run_oracle("oracle_pyzk.py", sim.addr().port(), &["--commkey", "654321", "--keep-time"]).await;
    assert_eq!(code, Some(1), "a wrong key must fail the oracle:\n{output}");
    assert!(output.lines().any(|l| l.starts_with("FAIL connect")), "connect must be the failing step:\n{output}");
    assert_eq!(sim.users().len(), 20, "nothing was written without authentication");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fpmachine_round_trips_faces_photos_and_templates() {
    let sim = start_sim(0).await;
    let run = run_oracle("oracle_fpmachine.py", sim.addr().port(), &["--face-user", "3", "--photo-user", "2"]).await;
    assert_all_passed("fpmachine", run, 22);
    assert_eq!(sim.users().len(), 20, "the oracle cleaned up its test user");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fpmachine_with_the_comm_key_passes_every_step() {
    let sim = start_sim(COMM_KEY).await;
    let run = run_oracle("oracle_fpmachine.py", sim.addr().port(), &["--commkey", "123456", "--face-user", "5"]).await;
    assert_all_passed("fpmachine commkey", run, 21);
}
