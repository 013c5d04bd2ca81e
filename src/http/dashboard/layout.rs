//! What every page's frame needs: who is logged in, the CSRF token for its forms (logout is a
//! form), which menu entry is current, and a flash message from the last action.

use serde::Deserialize;

use super::session::Session;

pub struct Layout {
    pub email: String,
    pub role: String,
    pub csrf: String,
    /// `overview`, `students`, `attendance`…
    pub active: &'static str,
    pub flash: Option<String>,
}

impl Layout {
    pub fn new(session: &Session, active: &'static str, flash: Option<String>) -> Self {
        Layout {
            email: session.caller.user.email.clone(),
            role: if session.caller.is_super() { "super admin".into() } else { "school admin".into() },
            csrf: session.csrf.clone(),
            active,
            flash: flash.filter(|f| !f.is_empty()).map(|f| f.chars().take(300).collect()),
        }
    }
}

/// `?flash=` on any page (set by `page::redirect` after a form).
#[derive(Debug, Deserialize, Default)]
pub struct FlashQuery {
    pub flash: Option<String>,
}
