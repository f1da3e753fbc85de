//! TypeScript declarations for publishers: placeholder, being written.
