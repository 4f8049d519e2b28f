//! Django password hashes (SPEC A4), being written.
