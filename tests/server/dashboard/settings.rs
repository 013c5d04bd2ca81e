//! The settings page: super admins only, the area-sync interval validated with a clear error,
//! stored, audited, and read by the scheduler's minute tick without a restart (a stored interval
//! replaces the `IRONCLOCK_AREA_SYNC_CRON` default; empty goes back to it).

use ironclock::store::admin::AuditFilter;
use ironclock::sync::area::interval::{self, INTERVAL_SETTING, LAST_RUN_SETTING};
use ironclock::sync::area::{sync_by_cron, AreaSyncOptions};

use super::super::support::{backends, spawn_app_with};
use super::{people, Dash, PASSWORD};

#[tokio::test]
async fn a_super_admin_sets_the_area_sync_interval_and_the_scheduler_follows_it() {
    for db in backends().await {
        // A cron of its own (tests default to off); no pull service, so nothing runs by itself.
        let app = spawn_app_with(db, |args| {
            args.pull_service = "off".into();
            args.pull.area_sync_cron = "0 0 3 * * *".into();
        })
        .await;
        people(&app).await;
        let backend = app.backend;
        let store = &app.ctx.store;
        let core = &app.ctx.core;
        let opts = AreaSyncOptions::default();

        // A school admin neither sees nor changes it.
        let mut school_admin = Dash::new(&app);
        school_admin.login("a@example.org", PASSWORD).await;
        assert_eq!(school_admin.get("/settings").await.status, 403, "{backend}");
        let overview = school_admin.get("/").await;
        assert!(!overview.body.contains("href=\"/settings\""), "{backend}: no menu entry for school admins");
        let csrf = overview.csrf();
        let refused = school_admin.post("/settings/area-sync", &[("csrf", &csrf), ("interval", "30")]).await;
        assert_eq!(refused.status, 403, "{backend}");

        let mut root = Dash::new(&app);
        root.login("root@example.org", PASSWORD).await;
        let page = root.get("/settings").await;
        assert_eq!(page.status, 200, "{backend}: {}", page.body);
        assert!(page.body.contains("the default: cron"), "{backend}: {}", page.body);
        let csrf = page.csrf();

        let forged = root.post("/settings/area-sync", &[("csrf", "forged"), ("interval", "30")]).await;
        assert_eq!(forged.status, 403, "{backend}: a form without this session's token");
        let bad = root.post("/settings/area-sync", &[("csrf", &csrf), ("interval", "3")]).await;
        assert_eq!(bad.status, 422, "{backend}: {}", bad.body);
        assert!(bad.body.contains("whole minutes from 5"), "{backend}: {}", bad.body);
        assert!(bad.body.contains("value=\"3\""), "{backend}: kept as typed");
        assert_eq!(store.get_setting(INTERVAL_SETTING).await.unwrap(), None, "{backend}: nothing stored");
        assert_eq!(school_admin.post("/settings/area-sync", &[("csrf", &csrf), ("interval", "30")]).await.status, 403);

        let saved = root.post("/settings/area-sync", &[("csrf", &csrf), ("interval", "30")]).await;
        assert_eq!(saved.status, 303, "{backend}: {}", saved.body);
        assert_eq!(store.get_setting(INTERVAL_SETTING).await.unwrap().as_deref(), Some("30"), "{backend}");
        let shown = root.get("/settings").await;
        assert!(shown.body.contains("every 30 minutes (set on this page)"), "{backend}: {}", shown.body);
        let filter = AuditFilter { action: Some("settings.area_sync_interval".into()), ..Default::default() };
        let audit = store.list_audit(&filter).await.unwrap().items;
        assert_eq!(audit.len(), 1, "{backend}");
        assert_eq!(audit[0].detail["to"], "30", "{backend}");
        assert!(audit[0].detail["from"].is_null(), "{backend}");

        // The scheduler: the stored interval replaces the cron; a run when due, then not again.
        assert!(sync_by_cron(core, &opts).await.unwrap().is_none(), "{backend}: the cron defers to the page");
        assert!(interval::tick(core, &opts).await.unwrap().is_some(), "{backend}: never ran: due");
        assert!(interval::tick(core, &opts).await.unwrap().is_none(), "{backend}: ran this minute: not due");
        let earlier = (app.ctx.clock.now() - chrono::Duration::minutes(31)).to_rfc3339();
        store.put_setting(LAST_RUN_SETTING, &earlier).await.unwrap();
        assert!(interval::tick(core, &opts).await.unwrap().is_some(), "{backend}: 31 minutes later: due");

        root.post("/settings/area-sync", &[("csrf", &csrf), ("interval", "off")]).await;
        store.put_setting(LAST_RUN_SETTING, &earlier).await.unwrap();
        assert!(interval::tick(core, &opts).await.unwrap().is_none(), "{backend}: off");
        assert!(sync_by_cron(core, &opts).await.unwrap().is_none(), "{backend}: off on the page stops the cron too");

        let reset = root.post("/settings/area-sync", &[("csrf", &csrf), ("interval", "")]).await;
        assert_eq!(reset.status, 303, "{backend}");
        assert_eq!(store.get_setting(INTERVAL_SETTING).await.unwrap(), None, "{backend}");
        assert!(sync_by_cron(core, &opts).await.unwrap().is_some(), "{backend}: back to the cron");
        assert_eq!(store.list_audit(&filter).await.unwrap().total, 3, "{backend}: every change audited");
    }
}
