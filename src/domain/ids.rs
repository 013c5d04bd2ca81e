//! Typed identifiers that travel between layers: a school's id, a device user's PIN, and a
//! device's mode. They parse at the boundary; inside, a `SchoolId` cannot be mixed up with
//! another id, nor a `Pin` with a name or a card.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Database id of a school (`Default` is 0, which no school has: an empty value, never a real one).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    sqlx::Type,
    utoipa::ToSchema,
)]
#[serde(transparent)]
#[sqlx(transparent)]
#[schema(value_type = i64)]
pub struct SchoolId(pub i64);

impl fmt::Display for SchoolId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::str::FromStr for SchoolId {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim().parse().map(SchoolId)
    }
}

/// A user's id on a device (the PIN, `user_id` in pull terms): what punches and user records
/// name a person by. ironclock's students get digits-only PINs; devices may hold others.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[serde(transparent)]
#[sqlx(transparent)]
#[schema(value_type = String)]
pub struct Pin(pub String);

impl Pin {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Pin {
    fn from(s: &str) -> Self {
        Pin(s.to_string())
    }
}

impl From<String> for Pin {
    fn from(s: String) -> Self {
        Pin(s)
    }
}

impl PartialEq<str> for Pin {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Pin {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// How the server talks to a device: it calls us (`push`, ADMS) or we call it (`pull`, port 4370).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeviceMode {
    Push,
    Pull,
}

impl DeviceMode {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceMode::Push => "push",
            DeviceMode::Pull => "pull",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "push" => Some(DeviceMode::Push),
            "pull" => Some(DeviceMode::Pull),
            _ => None,
        }
    }
}

impl TryFrom<String> for DeviceMode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s).ok_or_else(|| format!("unknown device mode {s:?}"))
    }
}

impl fmt::Display for DeviceMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_serialise_as_their_plain_values() {
        assert_eq!(serde_json::to_string(&SchoolId(7)).unwrap(), "7");
        assert_eq!(serde_json::to_string(&Pin("1007".into())).unwrap(), "\"1007\"");
        assert_eq!(serde_json::to_string(&DeviceMode::Pull).unwrap(), "\"pull\"");
        assert_eq!(DeviceMode::parse("push"), Some(DeviceMode::Push));
        assert_eq!(DeviceMode::parse("PUSH"), None);
    }
}
