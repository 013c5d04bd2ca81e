//! `Actor`: who performs an admin action (an admin through the API or the dashboard, or the
//! operator at the server's shell), what they may see, and how the action is audited.

use crate::domain::SchoolId;
use crate::store::admin::{NewAudit, SchoolScope};

#[derive(Debug, Clone)]
pub struct Actor {
    pub admin_id: Option<i64>,
    /// The admin's email, or `cli` for the shell.
    pub name: String,
    pub ip: Option<String>,
    /// Rows outside this scope behave as missing.
    pub scope: SchoolScope,
}

impl Actor {
    /// The operator running `ironclock …` on the server (sees every school).
    pub fn shell() -> Self {
        Self { admin_id: None, name: "cli".into(), ip: None, scope: SchoolScope::all() }
    }

    /// An audit entry for `action` on a row, by this actor.
    pub fn audit(
        &self,
        action: &str,
        target_type: &str,
        target_id: Option<i64>,
        school_id: Option<SchoolId>,
    ) -> NewAudit {
        NewAudit {
            actor_id: self.admin_id,
            actor_email: Some(self.name.clone()),
            action: action.into(),
            target_type: Some(target_type.into()),
            target_id,
            school_id,
            ip: self.ip.clone(),
            detail: serde_json::Value::Null,
        }
    }
}
