//! Protocol-neutral domain types that parse at the boundary.
