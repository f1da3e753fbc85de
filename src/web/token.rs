//! Entitlement token verification: placeholder, being written.
