//! Pull devices on the dashboard, against an `ironclock sim pull` device over loopback: the add
//! form (field errors kept next to their fields, values kept as typed), the device page's
//! connection facts and actions (test connection, collect now, realtime off and on), the edit
//! form, the overview's pull line and "Refresh all logs", CSRF and school scoping.

use ironclock::domain::{DeviceId, DeviceMode};
use ironclock::sim::pull::{Seed, SimConfig, SimDevice};
use ironclock::store::admin::{DeviceFilter, Page as Paging, SchoolScope, Sort};

use super::super::support::{backends, spawn_pull_app};
use super::{people, Dash, Page, PASSWORD};

/// The flash message a form's redirect carries.
fn flash(page: &Page) -> String {
    assert_eq!(page.status, 303, "expected a redirect, got {}: {}", page.status, page.body);
    let location = page.location.clone().unwrap();
    let url = reqwest::Url::parse(&format!("http://x{location}")).unwrap();
    url.query_pairs().find(|(k, _)| k == "flash").map(|(_, v)| v.into_owned()).unwrap_or_default()
}

#[tokio::test]
async fn a_pull_device_is_added_tested_collected_switched_and_edited_from_the_dashboard() {
    for db in backends().await {
        let app = spawn_pull_app(db).await;
        let (school_a, _) = people(&app).await;
        let seed = Seed { user_ids: (1..=20).collect(), fingers_per_user: 1, faces: false, photos: false, records: 50 };
        let sim = SimDevice::start("127.0.0.1:0".parse().unwrap(), SimConfig::default(), &seed).await.unwrap();
        let port = sim.addr().port().to_string();
        let mut dash = Dash::new(&app);
        dash.login("root@example.org", PASSWORD).await;

        // The form, then bad input: each field's message next to it, values kept, nothing stored.
        let form = dash.get("/pull-devices/new").await;
        assert_eq!(form.status, 200, "{}", form.body);
        assert!(form.body.contains("School A"), "super admins choose the school");
        let csrf = form.csrf();
        let school = school_a.to_string();
        let bad = dash
            .post(
                "/pull-devices/new",
                &[
                    ("csrf", &csrf),
                    ("school_id", &school),
                    ("host", "not a host!"),
                    ("port", "4370"),
                    ("transport", "tcp"),
                ],
            )
            .await;
        assert_eq!(bad.status, 422, "{}: {}", app.backend, bad.body);
        assert!(bad.body.contains("id=\"host-error\""), "{}", bad.body);
        assert!(bad.body.contains("value=\"not a host!\""), "the address is kept as typed");
        let bad = dash
            .post(
                "/pull-devices/new",
                &[("csrf", &csrf), ("school_id", &school), ("host", "127.0.0.1"), ("port", "70000")],
            )
            .await;
        assert_eq!(bad.status, 422);
        assert!(bad.body.contains("id=\"port-error\""), "{}", bad.body);
        let bad = dash
            .post(
                "/pull-devices/new",
                &[
                    ("csrf", &csrf),
                    ("school_id", &school),
                    ("host", "127.0.0.1"),
                    ("port", &port),
                    ("comm_key", "1000000"),
                ],
            )
            .await;
        assert_eq!(bad.status, 422);
        assert!(bad.body.contains("id=\"comm_key-error\""), "{}", bad.body);
        let pull = DeviceFilter {
            scope: SchoolScope::all(),
            approval: None,
            school_id: None,
            area_id: None,
            mode: Some(DeviceMode::Pull),
            search: None,
            sort: Sort::default(),
            page: Paging::everything(),
        };
        assert_eq!(app.ctx.store.list_device_records(&pull).await.unwrap().total, 0, "nothing stored from bad forms");

        // Added: realtime off so that only the actions below collect.
        let added = dash
            .post(
                "/pull-devices/new",
                &[
                    ("csrf", &csrf),
                    ("school_id", &school),
                    ("name", "Old gate"),
                    ("host", "127.0.0.1"),
                    ("port", &port),
                    ("transport", "tcp"),
                    ("enabled", "true"),
                ],
            )
            .await;
        assert!(flash(&added).contains("added"), "{}", flash(&added));
        let path = added.location.clone().unwrap();
        let path = path.split('?').next().unwrap().to_string();
        let id: i64 = path.trim_start_matches("/devices/").parse().unwrap();

        let page = dash.get(&path).await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains(&format!("127.0.0.1:{port} (tcp)")), "{}", page.body);
        assert!(page.body.contains("off (switched off by an admin)"), "realtime off as added");
        assert!(!page.body.contains("id=\"command-reboot\""), "push commands are not offered to a pull device");

        // Test connection: the device's own counters in the flash.
        let csrf = page.csrf();
        let tested = dash.post(&format!("/devices/{id}/test-connection"), &[("csrf", &csrf)]).await;
        let message = flash(&tested);
        assert!(message.contains("connected: 20 users"), "{}: {message}", app.backend);

        // Collect now: every record ends up stored once, whoever collected first.
        let collected = dash.post(&format!("/devices/{id}/collect"), &[("csrf", &csrf)]).await;
        let message = flash(&collected);
        assert!(message.contains("of 50 records"), "{}: {message}", app.backend);
        assert_eq!(app.ctx.store.count_punches(Some(DeviceId(id))).await.unwrap(), 50);
        let page = dash.get(&path).await;
        assert!(page.body.contains("<span class=\"badge ok\">ok</span>"), "the last collection shows ok");

        // Realtime on, then the page offers to switch it off; an unknown value is refused.
        let on = dash.post(&format!("/devices/{id}/realtime"), &[("csrf", &csrf), ("realtime", "on")]).await;
        assert!(flash(&on).contains("Realtime switched on"));
        let record = app.ctx.store.pull_device(DeviceId(id)).await.unwrap().unwrap();
        assert!(record.realtime_enabled);
        assert!(dash.get(&path).await.body.contains("Switch realtime off"));
        let odd = dash.post(&format!("/devices/{id}/realtime"), &[("csrf", &csrf), ("realtime", "maybe")]).await;
        assert_eq!(odd.status, 400);

        // Edit: a bad comm key is a field error; a good edit changes name and key, audited.
        let edit = dash.get(&format!("/devices/{id}/edit")).await;
        assert_eq!(edit.status, 200);
        assert!(edit.body.contains(&format!("value=\"{port}\"")), "{}", edit.body);
        let edit_with = |key: &str| -> Vec<(&'static str, String)> {
            let mut v = vec![("csrf", csrf.clone()), ("name", "Back gate".into()), ("host", "127.0.0.1".into())];
            v.extend([("port", port.clone()), ("transport", "tcp".into()), ("comm_key", key.into())]);
            v.push(("enabled", "true".into()));
            v
        };
        let bad = edit_with("12a");
        let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let refused = dash.post(&format!("/devices/{id}/edit"), &bad).await;
        assert_eq!(refused.status, 422);
        assert!(refused.body.contains("id=\"comm_key-error\""));
        let good = edit_with("4321");
        let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let saved = dash.post(&format!("/devices/{id}/edit"), &good).await;
        assert!(flash(&saved).contains("saved"), "{}", saved.body);
        let record = app.ctx.store.pull_device(DeviceId(id)).await.unwrap().unwrap();
        assert_eq!(record.name.as_deref(), Some("Back gate"));
        assert!(record.comm_key_enc.is_some(), "the comm key is stored (sealed)");
        assert!(!record.realtime_enabled, "an unticked box switches realtime off");
        let edit = dash.get(&format!("/devices/{id}/edit")).await;
        assert!(edit.body.contains("a key is stored"), "the form says a key is stored");
        assert!(!edit.body.contains("4321"), "the key is never shown back");

        // The overview: the pull line and "Refresh all logs".
        let overview = dash.get("/").await;
        assert!(overview.body.contains("pull · collected"), "{}", overview.body);
        let refresh = dash.post("/attendance/refresh-all", &[("csrf", &overview.csrf())]).await;
        assert!(flash(&refresh).contains("Collection queued on all 1 pull devices"), "{}", flash(&refresh));

        // No CSRF token, no action; another school's admin sees no such device.
        let forged = dash.post(&format!("/devices/{id}/collect"), &[("csrf", "forged")]).await;
        assert_eq!(forged.status, 403);
        let mut other = Dash::new(&app);
        other.login("b@example.org", PASSWORD).await;
        assert_eq!(other.get(&format!("/devices/{id}/edit")).await.status, 404);
        assert_eq!(other.get(&path).await.status, 404);
        let csrf_b = other.get("/").await.csrf();
        assert_eq!(other.post(&format!("/devices/{id}/collect"), &[("csrf", &csrf_b)]).await.status, 404);
    }
}
