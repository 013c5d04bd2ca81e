//! The rest of the deploy kit, checked where this machine can: both systemd units pass
//! `systemd-analyze verify` (with the built binary in place of /usr/local/bin/ironclock) and are
//! hardened; the Dockerfile's HEALTHCHECK command line works under `dash` (Debian's /bin/sh)
//! against a live server and fails against a dead one; the image creates the key directory for
//! its user; compose restarts every service; `.dockerignore` keeps `target/` out. Docker itself
//! does not run here.
//!
//! Without systemd-analyze, dash or curl the affected check prints a notice and passes on a
//! developer machine, but FAILS under CI (`CI` set).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{spawn_app, sqlite_db};

fn deploy(file: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap()
}

fn tool(name: &str) -> Option<PathBuf> {
    let found =
        ["/usr/bin", "/bin", "/usr/sbin", "/sbin"].iter().map(|d| Path::new(d).join(name)).find(|p| p.is_file());
    if found.is_none() {
        assert!(std::env::var_os("CI").is_none(), "CI must install {name} (see .ci/run)");
        eprintln!("NOTICE: {name} not found; that deploy check is skipped");
    }
    found
}

#[test]
fn the_systemd_units_pass_systemd_analyze_verify_and_are_hardened() {
    let dir = tempfile::tempdir().unwrap();
    let mut units = Vec::new();
    for name in ["ironclock.service", "ironclock-pull.service"] {
        let unit = deploy(&format!("deploy/{name}"));
        for setting in [
            "NoNewPrivileges=true",
            "ProtectSystem=strict",
            "ProtectHome=true",
            "PrivateTmp=true",
            "CapabilityBoundingSet=",
            "SystemCallFilter=@system-service",
            "UMask=0077",
            "Restart=always",
        ] {
            assert!(unit.lines().any(|l| l == setting), "{name} lacks {setting}");
        }
        let path = dir.path().join(name);
        std::fs::write(&path, unit.replace("/usr/local/bin/ironclock", env!("CARGO_BIN_EXE_ironclock"))).unwrap();
        units.push(path);
    }
    let Some(analyze) = tool("systemd-analyze") else { return };
    let out = Command::new(analyze).arg("verify").args(&units).output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.trim().is_empty(), "systemd-analyze verify: {said}");
}

/// The shell command of the Dockerfile's HEALTHCHECK (`CMD <command>` on its continuation line).
fn healthcheck_command() -> String {
    let dockerfile = deploy("deploy/Dockerfile");
    let at = dockerfile.find("HEALTHCHECK").expect("a HEALTHCHECK");
    let cmd = dockerfile[at..].find("CMD ").expect("HEALTHCHECK ... CMD") + at + 4;
    dockerfile[cmd..].lines().next().unwrap().trim().to_string()
}

#[tokio::test]
async fn the_docker_healthcheck_works_under_dash_against_a_live_server_and_fails_against_a_dead_one() {
    let command = healthcheck_command();
    assert!(!command.contains("/dev/tcp"), "dash has no /dev/tcp: {command}");
    assert!(command.contains("http://127.0.0.1:8080/readyz"), "{command}");
    let (Some(dash), Some(_curl)) = (tool("dash"), tool("curl")) else { return };
    let app = spawn_app(sqlite_db(), false).await;
    let port = app.base.rsplit(':').next().unwrap().to_string();
    let live = command.replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"));
    let status = tokio::process::Command::new(&dash).arg("-c").arg(&live).output().await.unwrap();
    assert!(status.status.success(), "{live}: {}", String::from_utf8_lossy(&status.stderr));
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dead = command.replace("127.0.0.1:8080", &format!("127.0.0.1:{dead_port}"));
    let status = tokio::process::Command::new(&dash).arg("-c").arg(&dead).output().await.unwrap();
    assert_eq!(status.status.code(), Some(1), "unhealthy is exit 1 for Docker");
}

#[test]
fn the_image_compose_file_and_dockerignore_fix_the_known_defects() {
    let dockerfile = deploy("deploy/Dockerfile");
    assert!(dockerfile.contains("install -d -o ironclock -g ironclock -m 0700 /var/lib/ironclock/keys"));
    assert!(dockerfile.contains("IRONCLOCK_DATA_KEY_FILE=/var/lib/ironclock/keys/data.key"));
    let compose = deploy("deploy/docker-compose.yml");
    let services = ["postgres", "ironclock", "nginx"];
    assert_eq!(compose.matches("restart: unless-stopped").count(), services.len(), "every service restarts");
    assert!(compose.contains("keys:/var/lib/ironclock/keys"));
    assert!(compose.contains("443:443"), "the TLS server block is published");
    assert!(!compose.contains("change-me"), "no default database password");
    assert_eq!(compose.matches("nofile: { soft: 65536").count(), 2, "ironclock and nginx may hold many connections");
    let ignore = deploy(".dockerignore");
    assert!(ignore.lines().any(|l| l == "target/"), "COPY . . must not ship target/");
    let env = deploy(".env.example");
    for name in ["POSTGRES_PASSWORD", "IRONCLOCK_RETENTION_PUNCHES_DAYS", "IRONCLOCK_ACCESS_LOG"] {
        assert!(env.contains(name), ".env.example documents {name}");
    }
}
