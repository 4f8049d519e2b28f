//! Draining the outbox (X3): a host-level operation, since the messages
//! carry credentials.

use super::Admin;
use crate::domain::outbox::{Message, OutboxMessage};
use crate::error::Result;
use crate::store::{read, write};

impl Admin {
    /// Returns every queued message, oldest first, and deletes them: each
    /// is handed out once. Only the operator may take them.
    pub fn take_outbox(&self) -> Result<Vec<OutboxMessage>> {
        self.allow_operator()?;
        self.write(|txn| {
            let messages: Vec<Message> = read::messages(txn)?;
            for m in &messages {
                write::delete_message(txn, m.user, m.id)?;
            }
            Ok(messages.into_iter().map(OutboxMessage::from).collect())
        })
    }
}
