//! `State`: what every web handler gets. It wraps the service [`Core`] (and derefs to it, so
//! handlers write `ctx.store`, `ctx.queue`) and adds what only the web layer keeps: the
//! configuration, the device directory and activity, and the admin API's keys and limiter.

use std::ops::Deref;
use std::sync::Arc;

use crate::config::ServeArgs;
use crate::core::Core;
use crate::http::api::ApiState;
use crate::http::client_addr::ProxyTrust;
use crate::http::device::{activity::DeviceActivity, DeviceDirectory};

pub struct State {
    pub core: Arc<Core>,
    pub config: Arc<ServeArgs>,
    pub devices: Arc<DeviceDirectory>,
    pub activity: DeviceActivity,
    pub api: ApiState,
    /// Whose `X-Forwarded-For` is believed (see `client_addr`).
    pub proxy_trust: ProxyTrust,
}

impl Deref for State {
    type Target = Core;
    fn deref(&self) -> &Core {
        &self.core
    }
}
