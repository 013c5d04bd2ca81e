//! The deploy kit, tested: Debian's nginx runs `deploy/nginx.conf` (only the upstream address,
//! the listen ports and the certificate paths replaced) on loopback in front of a real ironclock
//! started with `--trust-forwarded-for`. A simulated push device handshakes, uploads, polls and
//! acknowledges through it in plain HTTP; an admin logs in over TLS (a self-signed certificate
//! made by openssl now); device replies are neither gzipped nor chunked, nothing under /iclock/
//! is redirected, and a client's forged X-Forwarded-For is replaced by the proxy.
//!
//! Without nginx (or openssl, curl) the test prints a notice and passes on a developer machine,
//! but FAILS under CI (`CI` set): `.ci/run` installs them.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ironclock::push::command::Command as DeviceCommand;
use ironclock::queue::EnqueueOptions;
use ironclock::sim::push::{run_all, SimPushArgs};
use ironclock::store::admin::AdminRole;

use crate::support::{api, spawn_app_with, sqlite_db};

/// A program on PATH or in the sbin directories, or `None`.
fn find(program: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/bin"])
        .map(|d| Path::new(d).join(program))
        .find(|p| p.is_file());
    found
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// nginx running in the foreground; killed when dropped.
struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `deploy/nginx.conf` with the test's addresses; panics if a replaced line is missing (the
/// test must run the shipped file, not a copy that drifted).
fn site_config(upstream: u16, http: u16, https: u16, certs: &Path) -> String {
    let shipped = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/nginx.conf")).unwrap();
    let mut site = shipped.clone();
    for (from, to) in [
        ("server ironclock:8080;".to_string(), format!("server 127.0.0.1:{upstream};")),
        ("listen 80;".to_string(), format!("listen 127.0.0.1:{http};")),
        ("listen 443 ssl;".to_string(), format!("listen 127.0.0.1:{https} ssl;")),
        ("/etc/nginx/certs".to_string(), certs.display().to_string()),
    ] {
        assert!(site.contains(&from), "deploy/nginx.conf no longer contains {from:?}");
        site = site.replace(&from, &to);
    }
    site
}

fn start_nginx(nginx: &Path, dir: &Path, site: &str) -> Nginx {
    std::fs::write(dir.join("site.conf"), site).unwrap();
    let d = dir.display();
    let main = format!(
        "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections 256; }}\nhttp {{\n  access_log off;\n  client_body_temp_path {d}/body;\n\
         proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n\
         scgi_temp_path {d}/scgi;\n  include {d}/site.conf;\n}}\n"
    );
    std::fs::write(dir.join("nginx.conf"), main).unwrap();
    // Workers may run as an unprivileged user: let them use the temp directories.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let conf = dir.join("nginx.conf");
    let test = Command::new(nginx).arg("-t").arg("-c").arg(&conf).arg("-p").arg(dir).output().unwrap();
    assert!(test.status.success(), "nginx -t: {}", String::from_utf8_lossy(&test.stderr));
    let child = Command::new(nginx)
        .arg("-c")
        .arg(&conf)
        .arg("-p")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nginx");
    Nginx(child)
}

/// Waits (bounded) until `port` accepts connections: nginx gives no other readiness signal.
async fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "nginx did not listen on {port}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A self-signed certificate for `localhost` in `dir` (fullchain.pem, privkey.pem).
fn make_certificate(openssl: &Path, dir: &Path) {
    let out = Command::new(openssl)
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost"])
        .arg("-keyout")
        .arg(dir.join("privkey.pem"))
        .arg("-out")
        .arg(dir.join("fullchain.pem"))
        .output()
        .unwrap();
    assert!(out.status.success(), "openssl: {}", String::from_utf8_lossy(&out.stderr));
}

/// `curl` over TLS to `localhost:https` (resolved to loopback), trusting only the test's certificate.
fn curl_tls(curl: &Path, certs: &Path, https: u16, args: &[&str]) -> (u16, String) {
    let out = Command::new(curl)
        .args(["-sS", "--max-time", "20", "-o", "-", "-w", "\n%{http_code}"])
        .arg("--cacert")
        .arg(certs.join("fullchain.pem"))
        .args(["--resolve", &format!("localhost:{https}:127.0.0.1")])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "curl: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (code.trim().parse().unwrap(), body.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_and_an_admin_work_through_debians_nginx_with_the_shipped_config() {
    let tools: Vec<Option<PathBuf>> = ["nginx", "openssl", "curl"].into_iter().map(find).collect();
    if tools.iter().any(Option::is_none) {
        assert!(std::env::var_os("CI").is_none(), "CI must install nginx, openssl and curl (see .ci/run)");
        eprintln!("NOTICE: nginx, openssl or curl not found; the deploy kit test is skipped (apt-get install nginx)");
        return;
    }
    let (nginx, openssl, curl) = (tools[0].clone().unwrap(), tools[1].clone().unwrap(), tools[2].clone().unwrap());
    let app = spawn_app_with(sqlite_db(), |args| {
        args.auto_approve_devices = true;
        args.trust_forwarded_for = true;
    })
    .await;
    let upstream: u16 = app.base.rsplit(':').next().unwrap().parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    make_certificate(&openssl, dir.path());
    let (http, https) = (free_port(), free_port());
    let _nginx = start_nginx(&nginx, dir.path(), &site_config(upstream, http, https, dir.path()));
    wait_listening(http).await;
    wait_listening(https).await;
    let plain = format!("http://127.0.0.1:{http}");
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    // Device paths are served in plain HTTP, never redirected; a forged X-Forwarded-For is replaced.
    let handshake = client
        .get(format!("{plain}/iclock/cdata?SN=NGX00000&options=all&pushver=2.4.1"))
        .header("X-Forwarded-For", "10.9.9.9")
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(handshake.status(), 200);
    let h = handshake.headers();
    assert!(h.contains_key("date"), "devices set their clocks from Date");
    assert!(h.contains_key("content-length"), "device replies are not chunked: {h:?}");
    assert!(!h.contains_key("transfer-encoding"), "{h:?}");
    assert!(!h.contains_key("content-encoding"), "device replies are not compressed: {h:?}");
    assert!(handshake.text().await.unwrap().contains("GET OPTION FROM: NGX00000"));
    app.ctx.activity.flush(&app.ctx.store).await.unwrap();
    assert_eq!(
        app.device("NGX00000").await.last_ip.as_deref(),
        Some("127.0.0.1"),
        "the proxy's view, not the forged one"
    );

    // A command waits for the simulated device: it polls it and acknowledges it through nginx.
    let device = app.device("NGX00000").await;
    app.ctx.queue.enqueue(&device, DeviceCommand::Info, EnqueueOptions::default()).await.unwrap();
    let sim = SimPushArgs {
        devices: 1,
        punches_per_minute: 6000.0,
        serial_prefix: "NGX".into(),
        duration_secs: 3,
        punches_per_device: 40,
        batch_lines: 10,
        poll_interval_ms: 200,
        drain_timeout_secs: 20,
        error_delay_ms: Some(100),
        ..SimPushArgs::new(&plain)
    };
    let report = run_all(sim).await.unwrap();
    assert_eq!(report.generated, 40);
    assert_eq!(report.acknowledged, 40, "{report:?}");
    assert!(report.commands_acked >= 1, "the queued command was delivered and acknowledged: {report:?}");
    assert_eq!(app.ctx.store.count_punches(None).await.unwrap(), 40);

    // An upload above nginx's default 1 MB body limit passes (up to ironclock's limit).
    let start = chrono::Utc::now() - chrono::Duration::days(30);
    let big: String =
        (0..30_000).map(|i| super::attlog_line(5000 + i % 100, start + chrono::Duration::seconds(i as i64))).collect();
    assert!(big.len() > 1024 * 1024);
    let resp = client.post(format!("{plain}/iclock/cdata?SN=NGX00000&table=ATTLOG")).body(big).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "OK:30000");

    // The dashboard and the API on port 80 go to HTTPS; /metrics is not exposed.
    let api = client.get(format!("{plain}/api/v1/auth/me")).send().await.unwrap();
    assert_eq!(api.status(), 301);
    assert!(api.headers()["location"].to_str().unwrap().starts_with("https://"));
    assert_eq!(client.get(format!("{plain}/metrics")).send().await.unwrap().status(), 404);

    // An admin logs in over TLS and uses the API with the token.
    api::make_admin(&app, "ops@example.org", AdminRole::SuperAdmin, None).await;
    let body = serde_json::json!({"email": "ops@example.org", "password": api::PASSWORD}).to_string();
    let base = format!("https://localhost:{https}");
    let login = format!("{base}/api/v1/auth/login");
    let (code, reply) = curl_tls(
        &curl,
        dir.path(),
        https,
        &["-X", "POST", "-H", "Content-Type: application/json", "-d", &body, &login],
    );
    assert_eq!(code, 200, "{reply}");
    let reply: serde_json::Value = serde_json::from_str(&reply).unwrap();
    let token = reply["data"]["access_token"].as_str().expect("an access token").to_string();
    let me = format!("{base}/api/v1/auth/me");
    let (code, reply) = curl_tls(&curl, dir.path(), https, &["-H", &format!("Authorization: Bearer {token}"), &me]);
    assert_eq!(code, 200, "{reply}");
    assert!(reply.contains("ops@example.org"), "{reply}");
    let (code, _) = curl_tls(&curl, dir.path(), https, &[&format!("{base}/login")]);
    assert_eq!(code, 200, "the dashboard's login page over TLS");
}
