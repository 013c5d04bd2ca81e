//! The settings page (super admins only): the area-sync interval, stored in the database
//! (`sync::area::interval`) so the scheduler picks it up at its next minute tick, no restart.
//! The page says what decides the schedule now (the stored interval, or the
//! `IRONCLOCK_AREA_SYNC_CRON` default, or `off` from that variable); every change is audited.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::layout::{FlashQuery, Layout};
use super::page::{redirect, render, PageError};
use super::session::Session;
use crate::http::State;
use crate::sync::area::interval::{self, Interval, INTERVAL_SETTING, MAX_MINUTES, MIN_MINUTES};

pub fn mount(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/settings").route(web::get().to(page)))
        .service(web::resource("/settings/area-sync").route(web::post().to(save_area_sync)));
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    layout: Layout,
    /// The stored interval as the form shows it ('' when none is stored).
    value: String,
    /// What decides the schedule now, in words.
    effective: String,
    /// `IRONCLOCK_AREA_SYNC_CRON` of this instance.
    env_cron: String,
    min: u32,
    max: u32,
    error: Option<String>,
}

fn super_only(session: &Session) -> Result<(), PageError> {
    if session.caller.is_super() {
        Ok(())
    } else {
        Err(PageError::Forbidden("Only a super admin changes the server's settings.".into()))
    }
}

/// What decides the area sync's schedule, given the cron of this instance and what is stored.
pub fn effective(env_cron: &str, stored: Option<Interval>) -> String {
    let env_off = crate::scheduler::normalise_cron(env_cron).ok().flatten().is_none();
    match (env_off, stored) {
        (true, _) => "off: IRONCLOCK_AREA_SYNC_CRON=off on this server (it wins over this page)".into(),
        (false, Some(i)) => format!("{} (set on this page)", i.describe()),
        (false, None) => format!("the default: cron {env_cron:?} (IRONCLOCK_AREA_SYNC_CRON)"),
    }
}

async fn show(
    ctx: &State,
    session: &Session,
    flash: Option<String>,
    typed: Option<String>,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let stored = interval::stored(&ctx.core).await?;
    let env_cron = ctx.core.settings.area_sync_cron.clone();
    let page = SettingsPage {
        layout: Layout::new(session, "settings", flash),
        value: typed.unwrap_or_else(|| stored.map(|i| i.as_setting()).unwrap_or_default()),
        effective: effective(&env_cron, stored),
        env_cron,
        min: MIN_MINUTES,
        max: MAX_MINUTES,
        error,
    };
    let failed = page.error.is_some();
    let mut res = render(session, &page)?;
    if failed {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

/// `GET /settings`.
pub async fn page(
    ctx: web::Data<State>,
    session: Session,
    q: web::Query<FlashQuery>,
) -> Result<HttpResponse, PageError> {
    super_only(&session)?;
    show(&ctx, &session, q.into_inner().flash, None, None).await
}

#[derive(Debug, Deserialize)]
pub struct IntervalForm {
    csrf: String,
    /// Minutes, `off`, or empty for the default (the cron).
    #[serde(default)]
    interval: String,
}

/// `POST /settings/area-sync`: stores the interval (empty: back to the default); audited as
/// `settings.area_sync_interval` with the old and new values.
pub async fn save_area_sync(
    req: HttpRequest,
    ctx: web::Data<State>,
    session: Session,
    form: web::Form<IntervalForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&req, &form.csrf)?;
    super_only(&session)?;
    let typed = form.interval.trim().to_string();
    let before = ctx.store.get_setting(INTERVAL_SETTING).await?;
    let after = if typed.is_empty() {
        None
    } else {
        match Interval::parse(&typed) {
            Ok(i) => Some(i),
            Err(message) => return show(&ctx, &session, None, Some(typed), Some(message)).await,
        }
    };
    match after {
        Some(i) => ctx.store.put_setting(INTERVAL_SETTING, &i.as_setting()).await?,
        None => {
            ctx.store.delete_setting(INTERVAL_SETTING).await?;
        }
    }
    let mut audit = session.caller.audit("settings.area_sync_interval", "setting", None, None);
    audit.detail = serde_json::json!({
        "from": before,
        "to": after.map(|i| i.as_setting()),
        "via": "dashboard",
    });
    ctx.store.record_audit(&audit).await?;
    let message = match after {
        Some(i) => format!("Area sync: {} from now on (the scheduler reads it every minute).", i.describe()),
        None => "Area sync: back to the default schedule (IRONCLOCK_AREA_SYNC_CRON).".to_string(),
    };
    Ok(redirect(&session, "/settings", &message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_says_what_decides_the_schedule() {
        assert!(effective("off", Some(Interval::Minutes(30))).starts_with("off: IRONCLOCK_AREA_SYNC_CRON=off"));
        assert_eq!(effective("0 0 * * * *", Some(Interval::Minutes(30))), "every 30 minutes (set on this page)");
        assert_eq!(effective("0 0 * * * *", Some(Interval::Off)), "off (set on this page)");
        assert!(effective("0 0 * * * *", None).contains("the default"));
    }
}
