//! What each `ironclock pull` subcommand does with an open session.

use std::time::Duration;

use anyhow::Context as _;
use chrono::NaiveDateTime;

use super::render::{print_json, Table};
use super::{PullArgs, PullCommand};
use crate::pull::client::{Client, UserSpec, DEFAULT_EVENT_MASK};
use crate::pull::wire::attendance::AttendanceRecord;
use crate::pull::wire::event::LiveEvent;
use crate::pull::wire::face::decode_faces;
use crate::pull::wire::template::Template;
use crate::pull::wire::user::{User, PRIVILEGE_ADMIN};

/// The JSON document of `dump`.
#[derive(serde::Serialize)]
struct Dump<'a> {
    users: &'a [User],
    templates: &'a [Template],
    attendance: &'a [AttendanceRecord],
}

/// How long `dump` keeps the device disabled at most, should we die half-way.
const DUMP_DISABLE: Duration = Duration::from_secs(300);

/// Runs `args.command` on `client`.
pub async fn execute(client: &mut Client, args: &PullArgs) -> anyhow::Result<()> {
    let json = args.json;
    match &args.command {
        PullCommand::Info => {
            let info = client.info().await?;
            if json {
                return print_json(&info);
            }
            let s = &info.sizes;
            let mut t = Table::new(&["field", "value"]);
            t.row(vec!["firmware".into(), info.firmware.clone()]);
            t.row(vec!["serial".into(), info.serial.clone().unwrap_or_default()]);
            t.row(vec!["platform".into(), info.platform.clone().unwrap_or_default()]);
            t.row(vec!["device name".into(), info.device_name.clone().unwrap_or_default()]);
            t.row(vec!["transport".into(), format!("{:?}", info.transport).to_lowercase()]);
            t.row(vec!["fingerprint version".into(), opt(info.fp_version)]);
            t.row(vec!["face version".into(), format!("{} (on: {})", opt(info.face_version), info.face_enabled)]);
            t.row(vec!["user id width".into(), opt(info.pin_width)]);
            t.row(vec!["users".into(), format!("{} / {}", s.users, s.users_capacity)]);
            t.row(vec!["fingerprints".into(), format!("{} / {}", s.fingers, s.fingers_capacity)]);
            t.row(vec!["attendance".into(), format!("{} / {}", s.records, s.records_capacity)]);
            t.row(vec!["users with faces".into(), format!("{} / {}", opt(s.faces), opt(s.faces_capacity))]);
            t.row(vec!["clock".into(), info.time.map(|t| t.to_string()).unwrap_or_default()]);
            t.print();
        }
        PullCommand::Users => {
            let users = client.read_users().await?;
            if json {
                return print_json(&users);
            }
            let mut t = Table::new(&["uid", "user_id", "name", "privilege", "card", "password"]);
            for u in &users {
                let pw = if u.password.is_empty() { "" } else { "***" };
                t.row(vec![
                    u.uid.to_string(),
                    u.user_id.clone(),
                    u.name.clone(),
                    u.privilege.to_string(),
                    u.card.to_string(),
                    pw.into(),
                ]);
            }
            t.print();
            eprintln!("{} users", users.len());
        }
        PullCommand::Logs => {
            let records = client.read_attendance().await?;
            if json {
                return print_json(&records);
            }
            let mut t = Table::new(&["time", "user_id", "uid", "verify", "state", "workcode"]);
            for r in &records {
                t.row(vec![
                    r.timestamp.to_string(),
                    r.user_id.clone(),
                    r.uid.to_string(),
                    r.verify.to_string(),
                    r.state.to_string(),
                    r.workcode.to_string(),
                ]);
            }
            t.print();
            eprintln!("{} records", records.len());
        }
        PullCommand::Templates => {
            let templates = client.read_templates().await?;
            if json {
                return print_json(&templates);
            }
            let mut t = Table::new(&["uid", "finger", "flag", "bytes"]);
            for x in &templates {
                t.row(vec![x.uid.to_string(), x.finger.to_string(), x.flag.to_string(), x.data.len().to_string()]);
            }
            t.print();
            eprintln!("{} templates", templates.len());
        }
        PullCommand::Faces { user_ids } => faces(client, user_ids, json).await?,
        PullCommand::Photos { user_ids, out } => photos(client, user_ids, out.as_deref(), json).await?,
        PullCommand::Dump => {
            client.disable(DUMP_DISABLE).await?;
            let users = client.read_users().await?;
            let templates = client.read_templates().await?;
            let attendance = client.read_attendance().await?;
            client.enable().await?;
            if json {
                // serialised straight from the records: no intermediate JSON tree
                return print_json(&Dump { users: &users, templates: &templates, attendance: &attendance });
            }
            println!("{} users, {} templates, {} attendance records", users.len(), templates.len(), attendance.len());
        }
        PullCommand::Live { seconds } => live(client, *seconds, json).await?,
        PullCommand::Time => {
            let t = client.time().await?;
            if json {
                return print_json(&t);
            }
            println!("{t}");
        }
        PullCommand::SetTime { time } => {
            let t = parse_time(time)?;
            client.set_time(t).await?;
            eprintln!("device clock set to {t}");
        }
        PullCommand::SetUser { user_id, name, card, password, admin } => {
            let spec = UserSpec {
                user_id: user_id.clone(),
                name: name.clone(),
                privilege: if *admin { PRIVILEGE_ADMIN } else { 0 },
                password: password.clone(),
                card: *card,
                group: 1,
            };
            let user = client.upsert_user(&spec).await?;
            if json {
                return print_json(&user);
            }
            println!("user {} stored at uid {}", user.user_id, user.uid);
        }
        PullCommand::DeleteUser { user_id } => {
            let deleted = client.delete_user(user_id).await?;
            anyhow::ensure!(deleted, "no user {user_id:?} on the device");
            eprintln!("deleted user {user_id}");
        }
        PullCommand::ClearLogs { yes } => {
            anyhow::ensure!(*yes, "clearing the attendance log cannot be undone: pass --yes");
            client.clear_attendance().await?;
            eprintln!("attendance log cleared");
        }
        // Several devices: `cli::area_sync` runs it (the dispatcher never sends it here).
        PullCommand::Sync { .. } => anyhow::bail!("`ironclock pull sync ADDR ADDR …` syncs several devices"),
    }
    Ok(())
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
}

async fn target_ids(client: &mut Client, user_ids: &[String]) -> anyhow::Result<Vec<String>> {
    if !user_ids.is_empty() {
        return Ok(user_ids.to_vec());
    }
    Ok(client.read_users().await?.into_iter().map(|u| u.user_id).collect())
}

async fn faces(client: &mut Client, user_ids: &[String], json: bool) -> anyhow::Result<()> {
    let ids = target_ids(client, user_ids).await?;
    let mut found = Vec::new();
    for id in &ids {
        if let Some(blob) = client.read_face_blob(id).await? {
            found.push((id.clone(), decode_faces(&blob)?));
        }
    }
    if json {
        let out: Vec<_> = found.iter().map(|(id, f)| serde_json::json!({"user_id": id, "faces": f})).collect();
        return print_json(&out);
    }
    let mut t = Table::new(&["user_id", "records", "face ids"]);
    for (id, f) in &found {
        let face_ids: Vec<String> = f.iter().map(|r| r.face_id.to_string()).collect();
        t.row(vec![id.clone(), f.len().to_string(), face_ids.join(",")]);
    }
    t.print();
    eprintln!("{} of {} users have faces", found.len(), ids.len());
    Ok(())
}

async fn photos(
    client: &mut Client,
    user_ids: &[String],
    out: Option<&std::path::Path>,
    json: bool,
) -> anyhow::Result<()> {
    use base64::Engine as _;
    let ids = target_ids(client, user_ids).await?;
    let mut rows = Vec::new();
    for id in &ids {
        let Some(jpeg) = client.read_photo(id).await? else {
            continue;
        };
        if let Some(dir) = out {
            let path = dir.join(format!("{id}.jpg"));
            std::fs::write(&path, &jpeg).with_context(|| format!("writing {}", path.display()))?;
        }
        rows.push((id.clone(), jpeg));
    }
    if json {
        let engine = base64::engine::general_purpose::STANDARD;
        let out: Vec<_> = rows
            .iter()
            .map(|(id, j)| match out {
                Some(_) => serde_json::json!({"user_id": id, "bytes": j.len()}),
                None => {
                    serde_json::json!({"user_id": id, "bytes": j.len(), "jpeg": engine.encode(j)})
                }
            })
            .collect();
        return print_json(&out);
    }
    let mut t = Table::new(&["user_id", "bytes"]);
    for (id, j) in &rows {
        t.row(vec![id.clone(), j.len().to_string()]);
    }
    t.print();
    eprintln!("{} of {} users have photos", rows.len(), ids.len());
    Ok(())
}

async fn live(client: &mut Client, seconds: Option<u64>, json: bool) -> anyhow::Result<()> {
    client.listen(DEFAULT_EVENT_MASK).await?;
    let until = seconds.map(|s| tokio::time::Instant::now() + Duration::from_secs(s));
    eprintln!("listening for events{}", if seconds.is_some() { "" } else { " (Ctrl-C to stop)" });
    loop {
        if until.is_some_and(|u| tokio::time::Instant::now() >= u) {
            break;
        }
        let event = tokio::select! {
            e = client.next_event(Duration::from_millis(500)) => e?,
            _ = tokio::signal::ctrl_c() => break,
        };
        let Some(event) = event else { continue };
        if json {
            println!("{}", serde_json::to_string(&event)?);
        } else {
            match &event {
                LiveEvent::Attendance(a) => {
                    println!("{}  punch  user {}  verify {}  state {}", a.timestamp, a.user_id, a.verify, a.state)
                }
                other => println!("{other:?}"),
            }
        }
    }
    client.stop_listening().await?;
    Ok(())
}

fn parse_time(text: &str) -> anyhow::Result<NaiveDateTime> {
    if text == "now" {
        let now = chrono::Local::now().naive_local();
        return Ok(now - Duration::from_nanos(u64::from(chrono::Timelike::nanosecond(&now))));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .with_context(|| format!("{text:?}: expected `now` or YYYY-MM-DD HH:MM:SS"))
}
