//! The desk where a pull device's session is borrowed: the pull service's actor owns a device's
//! one session, and work that needs the device for a while (area sync) borrows that very session
//! instead of opening a second one beside it. The pull service installs itself as the lender;
//! without one (no pull service on this instance) nothing is lent.

use std::sync::{Arc, OnceLock, Weak};

use async_trait::async_trait;
use tokio::sync::oneshot;

use crate::domain::DeviceId;
use crate::pull::Client;

/// A borrowed session. Give it back with [`Loan::give_back`] (`None` when it broke: the owner
/// reconnects); dropping the loan gives nothing back, as a broken session.
pub struct Loan {
    pub client: Client,
    back: oneshot::Sender<Option<Client>>,
}

impl std::fmt::Debug for Loan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Loan")
    }
}

impl Loan {
    /// A loan of `client`, and the receiver its owner waits on.
    pub fn new(client: Client) -> (Self, oneshot::Receiver<Option<Client>>) {
        let (back, rx) = oneshot::channel();
        (Self { client, back }, rx)
    }

    /// Returns the session to its owner (`ok` false: it failed; the owner drops it).
    pub fn give_back(self, ok: bool) {
        let _ = self.back.send(ok.then_some(self.client));
    }
}

/// Who can lend sessions (the pull service).
#[async_trait]
pub trait SessionLender: Send + Sync {
    /// The device's session, when this instance's owner holds the device: `None` when it does
    /// not; `Some(Err)` when it holds it but could not reach the device.
    async fn lend(&self, device: DeviceId) -> Option<Result<Loan, String>>;
}

/// Where the lender is found (set once, by the pull service).
#[derive(Default)]
pub struct SessionDesk {
    lender: OnceLock<Weak<dyn SessionLender>>,
}

impl SessionDesk {
    /// Installs the lender (the first one stays).
    pub fn install(&self, lender: Weak<dyn SessionLender>) {
        let _ = self.lender.set(lender);
    }

    /// Borrows the device's session from its owner on this instance; `None` when no owner here.
    pub async fn borrow(&self, device: DeviceId) -> Option<Result<Loan, String>> {
        let lender: Arc<dyn SessionLender> = self.lender.get()?.upgrade()?;
        lender.lend(device).await
    }
}
