//! `GET /readyz`: 200 `ready` when the database answers and every migration of this build is
//! applied; 503 with the reason otherwise (a load balancer stops sending traffic here meanwhile).

use actix_web::{web, HttpResponse};

use crate::http::State;

pub async fn readyz(ctx: web::Data<State>) -> HttpResponse {
    match ctx.store.readiness().await {
        Ok(()) => HttpResponse::Ok().content_type("text/plain; charset=utf-8").body("ready"),
        Err(reason) => {
            tracing::warn!(%reason, "not ready");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain; charset=utf-8")
                .body(format!("not ready: {reason}"))
        }
    }
}
