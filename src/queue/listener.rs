//! Applies changes made by other instances to this instance's caches: new commands wake a
//! device's queue hint, device changes drop the cached device, a lost connection resets both.

use actix_web::web;
use tokio::sync::mpsc::Receiver;
use tokio_util::sync::CancellationToken;

use crate::app::AppContext;
use crate::store::StoreChange;

pub async fn run(ctx: web::Data<AppContext>, mut changes: Receiver<StoreChange>, stop: CancellationToken) {
    loop {
        let change = tokio::select! {
            _ = stop.cancelled() => return,
            change = changes.recv() => match change {
                Some(change) => change,
                None => return,
            },
        };
        match change {
            StoreChange::Commands(id) => ctx.queue.wake(id),
            StoreChange::Device(id) => ctx.devices.invalidate_id(id),
            StoreChange::Resync => {
                ctx.devices.clear();
                ctx.queue.wake_all();
                if let Err(e) = ctx.queue.warm().await {
                    tracing::warn!(error = %e, "could not reload devices with open commands; every poll checks the queue");
                }
            }
        }
    }
}
