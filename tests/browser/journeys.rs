//! What an admin does on a school morning, in the browser.

use ironclock::store::admin::{AdminRole, NewSchool};
use reqwest::Method;

use super::driver::{launch, Browser};
use super::support::api::{call, login as api_login, make_admin, PASSWORD};
use super::support::{backends, spawn_app, TestApp};

/// One app on the most production-like backend available (PostgreSQL when configured).
async fn app() -> TestApp {
    let db = backends().await.pop().expect("a backend");
    spawn_app(db, false).await
}

async fn log_in(b: &Browser, base: &str, email: &str) {
    b.client.goto(&format!("{base}/login")).await.unwrap();
    b.fill("#email", email).await;
    b.fill("#password", PASSWORD).await;
    b.click("#login").await;
    b.css("#main h1").await;
}

#[tokio::test]
async fn an_admin_logs_in_sees_the_apis_numbers_and_approves_a_pending_device() {
    let Some(b) = launch().await else { return };
    let app = app().await;
    let school = app
        .ctx
        .store
        .add_school(&NewSchool { name: "Hillside Primary".into(), timezone: "UTC".into(), pin_start: None })
        .await
        .unwrap()
        .id;
    make_admin(&app, "root@example.org", AdminRole::SuperAdmin, None).await;
    app.handshake("GATE0001").await;

    b.client.goto(&format!("{}/", app.base)).await.unwrap();
    assert!(
        b.client.current_url().await.unwrap().path().starts_with("/login"),
        "not logged in: sent to the login page"
    );
    b.screenshot("login").await;
    log_in(&b, &app.base, "root@example.org").await;
    assert_eq!(b.text("#main h1").await, "Overview");

    // The numbers on the page are the API's numbers.
    let token = api_login(&app, "root@example.org").await;
    let pending = call(&app, Method::GET, "/api/v1/devices?status=pending", Some(&token), None).await;
    let pending_count = pending.body["data"].as_array().map(|a| a.len()).unwrap_or(0);
    assert_eq!(b.text("#pending-count").await, pending_count.to_string());
    assert_eq!(pending_count, 1);
    assert_eq!(b.text("#punches-today").await, "0");
    b.screenshot("overview-pending").await;

    // Approve the pending gate into the school.
    let device = app.device("GATE0001").await;
    let select = b.css(&format!("#school-{}", device.id.0)).await;
    select.select_by_value(&school.to_string()).await.unwrap();
    b.click("tr[data-pending='GATE0001'] button").await;
    b.css(".flash").await;
    assert!(b.text(".flash").await.contains("GATE0001 approved"));
    assert_eq!(app.device("GATE0001").await.approval, ironclock::domain::Approval::Approved);
    assert!(b.text("#devices").await.contains("GATE0001"));
    assert_eq!(b.text("#pending-count").await, "0");

    // On a phone.
    b.resize(390, 844).await;
    b.client.refresh().await.unwrap();
    b.css("#devices").await;
    b.screenshot("overview-phone").await;
    b.client.clone().close().await.unwrap();
}
