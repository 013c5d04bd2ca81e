//! `ironclock pull ADDR …` as an installer runs it: the real binary against the in-process
//! simulator, JSON on stdout, errors with a non-zero exit.

use std::time::Duration;

use ironclock::sim::pull::{Seed, SimConfig, SimDevice};

async fn sim(comm_key: u32) -> SimDevice {
    let seed = Seed { user_ids: (1..=12).collect(), fingers_per_user: 1, faces: true, photos: true, records: 40 };
    SimDevice::start("127.0.0.1:0".parse().unwrap(), SimConfig { comm_key, ..SimConfig::default() }, &seed)
        .await
        .unwrap()
}

/// Runs `ironclock pull ADDR args…`; returns (success, stdout, stderr).
async fn pull(addr: std::net::SocketAddr, args: &[&str]) -> (bool, String, String) {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_ironclock"));
    cmd.arg("pull").arg(addr.to_string()).args(args).arg("--timeout").arg("3").kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output()).await.expect("bounded").unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_logs_templates_and_info_print_json_over_tcp_and_udp() {
    let sim = sim(0).await;
    for transport in ["--tcp", "--udp"] {
        let (ok, out, err) = pull(sim.addr(), &["users", "--json", transport]).await;
        assert!(ok, "{err}");
        let users = json(&out);
        assert_eq!(users.as_array().unwrap().len(), 12);
        assert_eq!(users[0]["user_id"], "1");
        let (ok, out, err) = pull(sim.addr(), &["logs", "--json", transport]).await;
        assert!(ok, "{err}");
        assert_eq!(json(&out).as_array().unwrap().len(), 40);
        let (ok, out, _) = pull(sim.addr(), &["templates", "--json", transport]).await;
        assert!(ok);
        assert_eq!(json(&out).as_array().unwrap().len(), 12);
    }
    let (ok, out, _) = pull(sim.addr(), &["info", "--json"]).await;
    assert!(ok);
    let info = json(&out);
    assert_eq!(info["serial"], "IRONCLOCK-SIM-0001");
    assert_eq!(info["sizes"]["users"], 12);
    assert_eq!(sim.session_count(), 0, "every command ended its session");
    assert!(sim.is_enabled());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faces_photos_and_user_writes_work_from_the_shell() {
    let sim = sim(0).await;
    let (ok, out, _) = pull(sim.addr(), &["faces", "3", "--json"]).await;
    assert!(ok);
    assert_eq!(json(&out)[0]["faces"].as_array().unwrap().len(), 15);
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = pull(sim.addr(), &["photos", "4", "--out", dir.path().to_str().unwrap()]).await;
    assert!(ok, "{err}");
    assert_eq!(std::fs::read(dir.path().join("4.jpg")).unwrap(), sim.photo("4").unwrap());
    let (ok, out, err) =
        pull(sim.addr(), &["set-user", "5001", "--name", "Shell User", "--card", "99", "--json"]).await;
    assert!(ok, "{err}");
    assert_eq!(json(&out)["uid"], 13);
    let (ok, _, _) = pull(sim.addr(), &["delete-user", "5001"]).await;
    assert!(ok);
    assert!(sim.users().iter().all(|u| u.user_id != "5001"));
    let (ok, _, err) = pull(sim.addr(), &["clear-logs"]).await;
    assert!(!ok && err.contains("--yes"), "clearing needs --yes: {err}");
    assert_eq!(sim.attendance().len(), 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_comm_key_fails_with_an_authentication_message() {
    let sim = sim(4321).await;
    let (ok, _, err) = pull(sim.addr(), &["info", "--commkey", "1234"]).await;
    assert!(!ok);
    assert!(err.contains("authentication failed"), "{err}");
    let (ok, out, err) = pull(sim.addr(), &["users", "--commkey", "4321", "--json"]).await;
    assert!(ok, "{err}");
    assert_eq!(json(&out).as_array().unwrap().len(), 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_prints_one_json_line_per_punch() {
    let sim = sim(0).await;
    let addr = sim.addr();
    let run = tokio::spawn(async move { pull(addr, &["live", "--seconds", "3", "--json"]).await });
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(sim.inject_punch("7", 1, 0));
    let (ok, out, err) = run.await.unwrap();
    assert!(ok, "{err}");
    let lines: Vec<_> = out.lines().map(json).collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert_eq!(lines[0]["kind"], "attendance");
    assert_eq!(lines[0]["user_id"], "7");
}
