//! Reading and purging the change feed (SPEC X4).

use super::Admin;
use crate::auth::permissions::{Action, Model, Permission};
use crate::domain::feed::{Change, ChangePage, Entity};
use crate::domain::{instant, uuid_string};
use crate::error::{Error, FieldErrors, Result};
use crate::store::feed;

/// The most entries one call returns.
pub const MAX_CHANGES: u32 = 1000;

impl Admin {
    /// Up to `limit` (1 ..= [`MAX_CHANGES`]; 0 is 100) entries of the change
    /// feed after entry `since` (0: from the start), oldest first. Needs
    /// `view_change`.
    ///
    /// Pass the page's `next` as the following call's `since`: a reader
    /// that does so sees every entry exactly once, in order, including
    /// those of writes that commit while it reads. A `since` below the
    /// feed's floor (entries after it were trimmed away by the retention
    /// window) is a validation error on `since`, never a page with a hole
    /// in it: such a reader must start again from a full copy. So is a
    /// `since` outside the numbers this feed has given: a new store's feed
    /// starts at a random number (above 2^40, below 2^53), so a number from
    /// another feed (the store a restored or recovered one came from) is
    /// all but certainly outside them.
    pub fn changes_since(&self, since: u64, limit: u32) -> Result<ChangePage> {
        self.allow(Permission::new(Action::View, Model::Change))?;
        let limit = match limit {
            0 => 100,
            n => n.min(MAX_CHANGES),
        };
        let (since, bounds, entries, more) = self.store().reading(|s| {
            let bounds = feed::bounds(s)?;
            // 0: from the feed's start, whatever number it started at.
            let since = if since == 0 { bounds.origin } else { since };
            if since < bounds.floor || since > bounds.head {
                return Ok((since, bounds, Vec::new(), false));
            }
            let (entries, more) = feed::since(s, since, limit as usize)?;
            Ok((since, bounds, entries, more))
        })?;
        let feed::Bounds {
            origin,
            floor,
            head,
        } = bounds;
        let refused = if since > head || since < origin {
            Some(format!(
                "The change feed has no entry {since}: its numbers run from {origin} to \
                 {head}. This is not the feed that number came from (a restored or \
                 recovered store starts a new one). Start again from a full copy and read \
                 on from {head} or later."
            ))
        } else if since < floor {
            Some(format!(
                "The change feed no longer holds the entries after {since}: every entry up to \
                 {floor} was trimmed (retention). Start again from a full copy and read on \
                 from {floor} or later."
            ))
        } else {
            None
        };
        if let Some(message) = refused {
            let mut errors = FieldErrors::new();
            errors.add("since", message);
            return Err(Error::validation(errors));
        }
        let mut changes = Vec::with_capacity(entries.len());
        for (seq, entry) in entries {
            let record = match &entry.record {
                Some(bytes) => Some(feed::record(seq, bytes)?.to_json()),
                None => None,
            };
            changes.push(Change {
                seq,
                at: instant(entry.at),
                actor: entry.actor.map(uuid_string),
                entity: entry.entity,
                uuid: match entry.entity {
                    Entity::Setting => entry.name,
                    _ => uuid_string(entry.uuid),
                },
                op: entry.op,
                record,
            });
        }
        let next = changes.last().map_or(since, |c| c.seq);
        Ok(ChangePage {
            changes,
            next,
            more,
        })
    }

    /// Removes every entry of the change feed older than the retention
    /// window ([`crate::Config::change_retention`]); how many went. A
    /// host-level operation (the operator only): a store file trims as it
    /// goes, a PostgreSQL institute needs this run now and then (`roster
    /// serve` runs it every hour).
    pub fn purge_changes(&self) -> Result<u64> {
        self.allow_operator()?;
        let window = self.config().change_retention.num_microseconds();
        let horizon = self.now_micros().saturating_sub(window.unwrap_or(i64::MAX));
        self.write(|txn| feed::trim(txn, horizon))
    }
}
