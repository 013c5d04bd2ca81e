//! One pull device's session owner. Exactly one task per device (on the instance holding its
//! lease) talks to it, so a poll, the realtime listener, roster writes and an area sync never
//! fight over the device's one session: they are all done here, in turn.
//!
//! The loop: renew the lease; keep a realtime session open while realtime is wanted (reconnect
//! with back-off, alert after 5 failures, switch off after 24 h); store live punches at once;
//! carry out the commands queued for the device; collect attendance when the schedule asks or
//! a retry is due; refresh the device's facts every 5 minutes. On stop: stop listening, unlock
//! the keypad, end the session, release the lease.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::connect::{self, Unreachable};
use super::work::{self, Collected, WorkError};
use super::{punches, Shared};
use crate::core::sessions::Loan;
use crate::domain::DeviceId;
use crate::pull::client::DEFAULT_EVENT_MASK;
use crate::pull::wire::event::LiveEvent;
use crate::pull::Client;
use crate::store::pull::{PullDevice, RealtimeReport};

mod commands;
use commands::{next_claim, serve_commands};

/// Kind of the alert raised after repeated realtime failures.
pub const REALTIME_ALERT: &str = "pull_realtime";

/// What wakes an actor.
#[derive(Debug)]
pub enum Wake {
    /// Commands were queued for the device (or acks may have unblocked some).
    Work,
    /// The device's row changed: re-read it.
    Reload,
    /// The schedule's collection; the answer goes back on the channel.
    Collect(oneshot::Sender<Result<Collected, String>>),
    /// Lend the session (area sync) until it comes back.
    Lend(oneshot::Sender<Result<Loan, String>>),
}

struct State {
    device: PullDevice,
    tz: Tz,
    session: Option<Client>,
    listening: bool,
    next_connect: Instant,
    failures: i32,
    failing_since: Option<DateTime<Utc>>,
    next_lease: Instant,
    next_facts: Instant,
    next_retry: Option<Instant>,
    poll_failures: i32,
    work: bool,
    /// When the queue is looked at again without a wake-up: commands held back by quiet hours
    /// become deliverable, and `sent` user writes of a failed session time out and are re-sent.
    next_claim: Instant,
}

/// Runs the device until `stop`, the lease is lost, or the device leaves service.
pub async fn run(shared: Arc<Shared>, id: DeviceId, mut wake: mpsc::Receiver<Wake>, stop: CancellationToken) {
    let Some(device) = load(&shared, id).await else { return };
    let now = Instant::now();
    let mut st = State {
        tz: shared.zone(&device),
        failures: device.realtime_failures,
        failing_since: device.realtime_failing_since,
        poll_failures: device.poll_failures,
        device,
        session: None,
        listening: false,
        next_connect: now,
        next_lease: now + shared.settings.lease_renew,
        next_facts: now,
        next_retry: None,
        work: true,
        next_claim: now,
    };
    loop {
        if stop.is_cancelled() {
            break;
        }
        if Instant::now() >= st.next_lease {
            if !renew(&shared, id).await {
                tracing::warn!(device = id.0, "pull: lease lost to another instance; leaving the device to it");
                close(&shared, &mut st, false).await;
                return;
            }
            st.next_lease = Instant::now() + shared.settings.lease_renew;
        }
        if !st.device.in_service() {
            break;
        }
        if st.device.wants_realtime() && st.session.is_none() && Instant::now() >= st.next_connect {
            open_realtime(&shared, &mut st).await;
        }
        if st.work || Instant::now() >= st.next_claim {
            st.work = false;
            let recheck = serve_commands(&shared, &mut st).await;
            st.next_claim = next_claim(&shared, recheck);
        }
        if st.session.is_some() && Instant::now() >= st.next_facts {
            refresh_facts(&shared, &mut st).await;
        }
        if st.next_retry.is_some_and(|at| Instant::now() >= at) {
            st.next_retry = None;
            let _ = collect(&shared, &mut st).await;
        }
        let deadline = next_deadline(&st);
        if st.listening {
            // Live events, a short wait at a time so that wake-ups are served promptly.
            let wait = deadline.saturating_duration_since(Instant::now()).min(shared.settings.event_wait);
            listen_once(&shared, &mut st, wait).await;
            while let Ok(w) = wake.try_recv() {
                on_wake(&shared, &mut st, w).await;
            }
            continue;
        }
        tokio::select! {
            _ = stop.cancelled() => break,
            w = wake.recv() => match w {
                Some(w) => on_wake(&shared, &mut st, w).await,
                None => break,
            },
            _ = tokio::time::sleep_until(deadline) => {}
        }
    }
    close(&shared, &mut st, true).await;
    if let Err(e) = shared.core.store.release_lease(id, &shared.holder).await {
        tracing::warn!(device = id.0, error = %e, "pull: could not release the lease; it expires on its own");
    }
}

async fn load(shared: &Shared, id: DeviceId) -> Option<PullDevice> {
    match shared.core.store.pull_device(id).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(device = id.0, error = %e, "pull: could not read the device");
            None
        }
    }
}

async fn renew(shared: &Shared, id: DeviceId) -> bool {
    let now = shared.core.clock.now();
    let until = now + chrono::Duration::from_std(shared.settings.lease_ttl).unwrap_or_default();
    shared.core.store.try_lease(id, &shared.holder, now, until).await.unwrap_or(false)
}

fn next_deadline(st: &State) -> Instant {
    let mut at = st.next_lease.min(Instant::now() + Duration::from_secs(60));
    if st.device.wants_realtime() && st.session.is_none() {
        at = at.min(st.next_connect);
    }
    if st.session.is_some() {
        at = at.min(st.next_facts);
    }
    if let Some(r) = st.next_retry {
        at = at.min(r);
    }
    at.min(st.next_claim)
}

async fn on_wake(shared: &Shared, st: &mut State, w: Wake) {
    match w {
        Wake::Work => st.work = true,
        Wake::Reload => {
            if let Some(d) = load(shared, st.device.id).await {
                let moved = d.host != st.device.host
                    || d.port != st.device.port
                    || d.transport != st.device.transport
                    || d.comm_key_enc != st.device.comm_key_enc;
                st.tz = shared.zone(&d);
                st.failures = d.realtime_failures;
                st.failing_since = d.realtime_failing_since;
                st.device = d;
                if moved || !st.device.wants_realtime() {
                    close(shared, st, false).await;
                    st.next_connect = Instant::now();
                }
            }
            st.work = true;
        }
        Wake::Collect(reply) => {
            let result = collect(shared, st).await;
            let _ = reply.send(result);
        }
        Wake::Lend(reply) => lend(shared, st, reply).await,
    }
}

/// Lends the session (opened for the loan when none is open) and waits for it to come back,
/// renewing the lease meanwhile: the device keeps ONE session, now used by the borrower. Live
/// events that arrive during the loan are queued by the client and stored after it returns.
async fn lend(shared: &Shared, st: &mut State, reply: oneshot::Sender<Result<Loan, String>>) {
    let fresh = match open_for_work(shared, st).await {
        Ok(fresh) => fresh,
        Err(e) => {
            let _ = reply.send(Err(e));
            return;
        }
    };
    let Some(client) = st.session.take() else { return };
    let (loan, mut back) = Loan::new(client);
    if let Err(Ok(unsent)) = reply.send(Ok(loan)) {
        // The borrower gave up before the loan arrived.
        st.session = Some(unsent.client);
        return;
    }
    let returned = loop {
        tokio::select! {
            r = &mut back => break r.ok().flatten(),
            _ = tokio::time::sleep(shared.settings.lease_renew) => {
                if !renew(shared, st.device.id).await {
                    tracing::warn!(device = st.device.id.0, "pull: lease not renewed during a loan");
                }
                st.next_lease = Instant::now() + shared.settings.lease_renew;
            }
        }
    };
    match returned {
        Some(client) if st.listening || !fresh => st.session = Some(client),
        Some(client) => {
            let _ = client.close().await;
        }
        None => drop_session(st, "the lent session failed"),
    }
}

/// A session for work: the realtime one, or a fresh one for the length of the work.
async fn connect(shared: &Shared, device: &PullDevice) -> Result<Client, String> {
    let addr = format!("{}:{}", device.host, device.port);
    let opts = connect::options(device, &shared.core.cipher, shared.settings.reply_timeout, shared.settings.retries)
        .await
        .map_err(|Unreachable(m)| m)?;
    Client::connect(opts).await.map_err(|e| connect::explain(&e, &addr))
}

async fn open_realtime(shared: &Shared, st: &mut State) {
    let now = shared.core.clock.now();
    let attempt = match connect(shared, &st.device).await {
        Ok(mut client) => match client.listen(DEFAULT_EVENT_MASK).await {
            Ok(()) => Ok(client),
            Err(e) => Err(connect::explain(&e, &st.device.host)),
        },
        Err(e) => Err(e),
    };
    match attempt {
        Ok(client) => {
            st.session = Some(client);
            st.listening = true;
            st.failures = 0;
            st.failing_since = None;
            st.next_facts = Instant::now();
            if let Err(e) = shared.core.store.record_realtime(st.device.id, &RealtimeReport::Connected, now).await {
                tracing::warn!(device = st.device.id.0, error = %e, "pull: could not record the realtime state");
            }
            resolve_alert(shared, st.device.id).await;
            tracing::info!(device = st.device.id.0, "pull: realtime session open");
        }
        Err(error) => realtime_failed(shared, st, error, now).await,
    }
}

async fn realtime_failed(shared: &Shared, st: &mut State, error: String, now: DateTime<Utc>) {
    st.failures += 1;
    let since = *st.failing_since.get_or_insert(now);
    let decision = shared.settings.backoff.after_failure(st.failures, since, now, &error);
    st.next_connect = Instant::now() + decision.wait;
    tracing::warn!(device = st.device.id.0, failures = st.failures, wait = ?decision.wait, %error,
        "pull: realtime connection failed");
    let report = RealtimeReport::Failed { error: error.clone(), disable: decision.disable.clone() };
    if let Err(e) = shared.core.store.record_realtime(st.device.id, &report, now).await {
        tracing::warn!(device = st.device.id.0, error = %e, "pull: could not record the realtime state");
    }
    if let Some(reason) = decision.disable {
        tracing::warn!(device = st.device.id.0, %reason, "pull: realtime switched off");
        st.device.realtime_disabled_at = Some(now);
        st.device.realtime_disabled_reason = Some(reason);
    }
    if decision.alert {
        raise_alert(shared, &st.device, st.failures, &error).await;
    }
}

async fn raise_alert(shared: &Shared, device: &PullDevice, failures: i32, error: &str) {
    let Some(school) = device.school_id else { return };
    let store = &shared.core.store;
    if matches!(store.open_alert(device.id.0, REALTIME_ALERT).await, Ok(Some(_))) {
        return;
    }
    let name = device.name.clone().unwrap_or_else(|| format!("{}:{}", device.host, device.port));
    let message = format!("{name}: the realtime connection failed {failures} times in a row ({error})");
    let detail = serde_json::json!({ "host": device.host, "port": device.port, "failures": failures, "error": error });
    if let Err(e) = store.create_alert(school, device.id.0, REALTIME_ALERT, &message, &detail).await {
        tracing::warn!(device = device.id.0, error = %e, "pull: could not raise the realtime alert");
    }
}

async fn resolve_alert(shared: &Shared, id: DeviceId) {
    let store = &shared.core.store;
    if let Ok(Some(alert)) = store.open_alert(id.0, REALTIME_ALERT).await {
        // Nothing for an admin to confirm: the condition is gone (`dismissed`, by the service).
        if let Err(e) = store.resolve_alert(alert.id, "dismissed", "pull service: connected again").await {
            tracing::warn!(device = id.0, error = %e, "pull: could not close the realtime alert");
        }
    }
}

/// Waits up to `wait` for live events and stores their punches at once.
async fn listen_once(shared: &Shared, st: &mut State, wait: Duration) {
    let Some(client) = st.session.as_mut() else { return };
    let mut punches = Vec::new();
    let mut failure = None;
    let now = shared.core.clock.now();
    match client.next_event(wait).await {
        Ok(Some(first)) => {
            let mut event = Some(first);
            while let Some(e) = event {
                if let LiveEvent::Attendance(a) = &e {
                    punches.extend(punches::from_event(a, st.tz, now));
                }
                // Drain what already arrived, without waiting.
                event = match client.next_event(Duration::ZERO).await {
                    Ok(next) => next,
                    Err(e) => {
                        failure = Some(connect::explain(&e, &st.device.host));
                        None
                    }
                };
            }
        }
        Ok(None) => {}
        Err(e) => failure = Some(connect::explain(&e, &st.device.host)),
    }
    if !punches.is_empty() {
        match shared.core.store.store_pulled_punches(st.device.id, st.device.school_id, &punches, now).await {
            Ok(r) => tracing::debug!(device = st.device.id.0, stored = r.inserted, "pull: live punches stored"),
            // The device keeps them in its log: the next poll collects what was not stored.
            Err(e) => tracing::error!(device = st.device.id.0, error = %e, "pull: live punches not stored yet"),
        }
    }
    if let Some(error) = failure {
        st.session = None;
        st.listening = false;
        realtime_failed(shared, st, error, now).await;
    }
}

async fn refresh_facts(shared: &Shared, st: &mut State) {
    st.next_facts = Instant::now() + shared.settings.facts_every;
    let Some(client) = st.session.as_mut() else { return };
    match work::facts(client).await {
        Ok(f) => {
            if let Err(e) = shared.core.store.record_pull_contact(st.device.id, &f, shared.core.clock.now()).await {
                tracing::warn!(device = st.device.id.0, error = %e, "pull: could not record the device's facts");
            }
        }
        Err(e) => drop_session(st, &connect::explain(&e, &st.device.host)),
    }
}

fn drop_session(st: &mut State, why: &str) {
    tracing::warn!(device = st.device.id.0, %why, "pull: session lost");
    st.session = None;
    st.listening = false;
    st.next_connect = Instant::now();
}

/// Opens a session for work when none is open; returns whether it was opened for it (and
/// must be closed after, when realtime is off).
async fn open_for_work(shared: &Shared, st: &mut State) -> Result<bool, String> {
    if st.session.is_some() {
        return Ok(false);
    }
    st.session = Some(connect(shared, &st.device).await?);
    Ok(true)
}

/// After work: a transient failure drops the session (the next attempt reconnects); a
/// session opened just for the work is closed.
async fn after_work<T>(st: &mut State, fresh: bool, result: Result<T, WorkError>) -> Result<T, String> {
    match &result {
        Err(WorkError::Device(e)) if e.is_transient() => drop_session(st, &e.to_string()),
        _ if fresh && !st.listening => {
            if let Some(c) = st.session.take() {
                let _ = c.close().await;
            }
        }
        _ => {}
    }
    let addr = format!("{}:{}", st.device.host, st.device.port);
    result.map_err(|e| match e {
        WorkError::Device(e) => connect::explain(&e, &addr),
        WorkError::Store(e) => format!("storage: {e}"),
    })
}

async fn collect_on(shared: &Shared, client: &mut Client, device: &PullDevice, tz: Tz) -> Result<Collected, WorkError> {
    let core = &shared.core;
    let facts = work::facts(client).await?;
    core.store.record_pull_contact(device.id, &facts, core.clock.now()).await?;
    work::collect(core, client, device, tz, core.clock.now()).await
}

/// Collects attendance now; schedules the next retry (5, 10, 20 minutes) after a failure.
async fn collect(shared: &Shared, st: &mut State) -> Result<Collected, String> {
    let result = {
        let _permit = shared.busy.acquire().await;
        match open_for_work(shared, st).await {
            Err(e) => Err(e),
            Ok(fresh) => {
                let outcome = match st.session.as_mut() {
                    Some(client) => collect_on(shared, client, &st.device, st.tz).await,
                    None => Err(WorkError::Device(crate::pull::Error::Protocol("no session".into()))),
                };
                after_work(st, fresh, outcome).await
            }
        }
    };
    let error = result.as_ref().err().map(String::as_str);
    match shared.core.store.record_pull_poll(st.device.id, error, shared.core.clock.now()).await {
        Ok(failures) => st.poll_failures = failures,
        Err(e) => tracing::warn!(device = st.device.id.0, error = %e, "pull: could not record the poll"),
    }
    st.next_retry = match &result {
        Ok(_) => None,
        Err(_) => usize::try_from(st.poll_failures - 1)
            .ok()
            .and_then(|i| shared.settings.retry_after.get(i))
            .map(|d| Instant::now() + *d),
    };
    if result.is_ok() && st.device.realtime_disabled_at.is_some() {
        // The store switched realtime back on with the successful contact: pick it up.
        if let Some(d) = load(shared, st.device.id).await {
            st.device = d;
            st.next_connect = Instant::now();
        }
    }
    result
}

/// Ends the session: stop listening, unlock the keypad (the client re-enables a device it
/// disabled), CMD_EXIT.
async fn close(shared: &Shared, st: &mut State, record: bool) {
    if let Some(mut client) = st.session.take() {
        if st.listening {
            let _ = client.stop_listening().await;
        }
        if let Err(e) = client.close().await {
            tracing::debug!(device = st.device.id.0, error = %e, "pull: session did not close cleanly");
        }
    }
    if st.listening && record {
        let _ = shared.core.store.record_realtime(st.device.id, &RealtimeReport::Closed, shared.core.clock.now()).await;
    }
    st.listening = false;
}
