//! Batches themselves (T11).

use super::Admin;
use crate::auth::permissions::{Action, Model, Permission};
use crate::domain::rules::{self, BLANK, NAME_MAX, REQUIRED, fold};
use crate::domain::{Batch, BatchInput, BatchView, Page, PageRequest};
use crate::error::{Error, FieldErrors, Result};
use crate::store::tables::{BATCH_BY_NAME, BATCHES, Kind};
use crate::store::{Txn, read, write};
use crate::text::fold_lookup;

impl Admin {
    /// Creates a batch; the name is required and unique ignoring case.
    pub fn create_batch(&self, input: BatchInput) -> Result<BatchView> {
        let granted = self.allow(Permission::new(Action::Add, Model::Batch))?;
        let now = self.now_micros();
        granted.write(|txn| {
            let name = self.batch_name(txn, None, input.name.as_deref(), true)?;
            let batch = Batch {
                id: write::next_id(txn, Kind::Batch)?,
                uuid: crate::random::uuid()?,
                name: name.unwrap_or_default(),
                course: None,
                created: now,
                modified: now,
            };
            write::put_batch(txn, None, &batch)?;
            Ok(BatchView::from(&batch))
        })
    }

    /// The names among `names` that no ordinary batch has (ignoring case,
    /// as a create-user body's `batches` are matched), in their order, each
    /// once (two spellings of one name count once: the first is kept):
    /// what an import checks before its first row.
    pub fn missing_batches(&self, names: &[String]) -> Result<Vec<String>> {
        self.allow(Permission::new(Action::View, Model::Batch))?;
        self.store().reading(|txn| {
            let mut missing = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for name in names {
                // A name too long to be any batch's is missing, unfolded.
                let Some(key) = fold_lookup(name.trim(), NAME_MAX) else {
                    missing.push(name.clone());
                    continue;
                };
                if seen.insert(key.clone()) && read::lookup(txn, BATCH_BY_NAME, &key)?.is_none() {
                    missing.push(name.clone());
                }
            }
            Ok(missing)
        })
    }

    /// Ordinary batches by id, filtered by a case-insensitive substring of
    /// the name. Without a filter, any page is found by position in a few
    /// reads.
    pub fn list_batches(&self, search: Option<&str>, page: PageRequest) -> Result<Page<BatchView>> {
        self.allow(Permission::new(Action::View, Model::Batch))?;
        self.store().reading(|txn| {
            // A needle longer than any name could fold to is in none.
            let Some(needle) =
                search.map_or(Some(String::new()), |s| fold_lookup(s.trim(), NAME_MAX))
            else {
                return self.page_of(page, Vec::<BatchView>::new());
            };
            if needle.is_empty() {
                let listed = |b: &Batch| !b.is_local();
                return self.listed_page_of(txn, page, BATCHES, listed, |b| BatchView::from(b));
            }
            let mut all = Vec::new();
            for batch in read::records::<Batch>(txn, BATCHES)? {
                if !batch.is_local() && fold(&batch.name).contains(&needle) {
                    all.push(BatchView::from(&batch));
                }
            }
            self.page_of(page, all)
        })
    }

    /// Batch `id` (hidden course batches too: subscriptions link to them).
    pub fn get_batch(&self, id: u64) -> Result<BatchView> {
        self.allow(Permission::new(Action::View, Model::Batch))?;
        self.store().reading(|txn| {
            read::batch(txn, id)?
                .map(|b| BatchView::from(&b))
                .ok_or_else(Error::not_found)
        })
    }

    /// Renames batch `id`. A course's hidden batch changes only with its course.
    pub fn update_batch(&self, id: u64, input: BatchInput) -> Result<BatchView> {
        let granted = self.allow(Permission::new(Action::Change, Model::Batch))?;
        let now = self.now_micros();
        granted.write(|txn| {
            let old = read::batch(txn, id)?.ok_or_else(Error::not_found)?;
            refuse_local(&old)?;
            let mut batch = old.clone();
            if let Some(name) = self.batch_name(txn, Some(id), input.name.as_deref(), false)? {
                batch.name = name;
            }
            if batch != old {
                batch.modified = now;
            }
            write::put_batch(txn, Some(&old), &batch)?;
            Ok(BatchView::from(&batch))
        })
    }

    /// Deletes batch `id` and its memberships.
    pub fn delete_batch(&self, id: u64) -> Result<()> {
        let granted = self.allow(Permission::new(Action::Delete, Model::Batch))?;
        granted.write(|txn| {
            let batch = read::batch(txn, id)?.ok_or_else(Error::not_found)?;
            refuse_local(&batch)?;
            write::delete_batch(txn, &batch)
        })
    }

    fn batch_name(
        &self,
        txn: &Txn<'_>,
        me: Option<u64>,
        name: Option<&str>,
        creating: bool,
    ) -> Result<Option<String>> {
        let mut errors = FieldErrors::new();
        let name = match name {
            None if creating => {
                errors.add("name", REQUIRED);
                None
            }
            None => None,
            Some(n) => match rules::text(n, NAME_MAX) {
                Ok(n) if n.is_empty() => {
                    errors.add("name", BLANK);
                    None
                }
                Ok(n) => Some(n),
                Err(m) => {
                    errors.add("name", m);
                    None
                }
            },
        };
        if let Some(n) = &name
            && read::lookup(txn, BATCH_BY_NAME, &fold(n))?.is_some_and(|other| Some(other) != me)
        {
            errors.add("name", "A batch with this name already exists.");
        }
        errors.into_result()?;
        Ok(name)
    }
}

fn refuse_local(batch: &Batch) -> Result<()> {
    match batch.is_local() {
        false => Ok(()),
        true => Err(Error::field(
            crate::error::NON_FIELD_ERRORS,
            "This batch holds a course's direct grants; it changes only with its course.",
        )),
    }
}
