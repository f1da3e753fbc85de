//! Entitlement tokens: placeholder, being written.
