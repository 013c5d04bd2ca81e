//! The physical-limit reference for a whole push device, for the mixed-load benchmark
//! (`SERVER=bare benches/scale/mixed.sh`): the bare actix server of `main.rs` plus the two
//! answers a device needs to run at all. `GET /iclock/cdata?…options=all` gets a minimal option
//! block (the simulator, like firmware, does not upload before one), an upload gets `OK:<lines>`;
//! every other request `OK`. No storage, no parsing beyond counting newlines: what is left is
//! the cost of HTTP connections on this box.
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};

async fn answer(req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let query = req.query_string();
    let text = if query.contains("options=all") {
        "GET OPTION FROM: BARE\nErrorDelay=30\nDelay=5\nTransTimes=00:00\nTransInterval=1\nRealtime=1\n".to_string()
    } else if req.method() == actix_web::http::Method::POST && query.contains("table=") {
        format!("OK:{}", body.iter().filter(|&&b| b == b'\n').count())
    } else {
        "OK".to_string()
    };
    HttpResponse::Ok().content_type("text/plain").body(text)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8091".into());
    HttpServer::new(|| App::new().default_service(web::to(answer))).bind(bind)?.run().await
}
