//! Custom field definitions (T12).

use super::Admin;
use crate::auth::permissions::{Action, Model, Permission};
use crate::domain::custom_field::{
    self, CustomField, CustomFieldInput, CustomFieldView, FieldKind,
};
use crate::domain::{Page, PageRequest};
use crate::error::{Error, FieldErrors, Result};
use crate::store::tables::{CUSTOM_FIELD_BY_NAME, Kind};
use crate::store::{Txn, read, write};

impl Admin {
    /// Defines a custom field.
    pub fn create_custom_field(&self, input: CustomFieldInput) -> Result<CustomFieldView> {
        let granted = self.allow(Permission::new(Action::Add, Model::CustomField))?;
        let now = self.now_micros();
        granted.write(|txn| {
            let mut field = CustomField {
                id: 0,
                uuid: 0,
                name: String::new(),
                kind: FieldKind::Text,
                choices: Vec::new(),
                required: false,
                created: now,
                modified: now,
            };
            check(txn, &mut field, &input, None)?;
            field.id = write::next_id(txn, Kind::CustomField)?;
            field.uuid = crate::random::uuid()?;
            write::put_custom_field(txn, None, &field)?;
            Ok(CustomFieldView::from(&field))
        })
    }

    /// The keys ([`custom_field::name_key`]) of the number fields' names:
    /// how an import of CSV, whose cells are all text, knows which to read
    /// as numbers. Needs `add_user`, as the import itself does.
    pub(crate) fn number_field_keys(&self) -> Result<std::collections::HashSet<String>> {
        self.allow(Permission::new(Action::Add, Model::User))?;
        let fields = self.store().reading(read::custom_fields)?;
        Ok(fields
            .iter()
            .filter(|f| f.kind == FieldKind::Number)
            .map(|f| custom_field::name_key(&f.name))
            .collect())
    }

    /// Every definition, by id.
    pub fn list_custom_fields(&self, page: PageRequest) -> Result<Page<CustomFieldView>> {
        self.allow(Permission::new(Action::View, Model::CustomField))?;
        self.store().reading(|txn| {
            let all = read::custom_fields(txn)?
                .iter()
                .map(CustomFieldView::from)
                .collect();
            self.page_of(page, all)
        })
    }

    /// Definition `id`.
    pub fn get_custom_field(&self, id: u64) -> Result<CustomFieldView> {
        self.allow(Permission::new(Action::View, Model::CustomField))?;
        self.store().reading(|txn| {
            read::custom_field(txn, id)?
                .map(|f| CustomFieldView::from(&f))
                .ok_or_else(Error::not_found)
        })
    }

    /// Changes definition `id`. Changing its type or choices leaves stored
    /// values as they are; they are checked again when next written.
    pub fn update_custom_field(&self, id: u64, input: CustomFieldInput) -> Result<CustomFieldView> {
        let granted = self.allow(Permission::new(Action::Change, Model::CustomField))?;
        let now = self.now_micros();
        granted.write(|txn| {
            let old = read::custom_field(txn, id)?.ok_or_else(Error::not_found)?;
            let mut field = old.clone();
            check(txn, &mut field, &input, Some(id))?;
            if field != old {
                field.modified = now;
            }
            write::put_custom_field(txn, Some(&old), &field)?;
            Ok(CustomFieldView::from(&field))
        })
    }

    /// Deletes definition `id` and every user's value of it.
    pub fn delete_custom_field(&self, id: u64) -> Result<()> {
        let granted = self.allow(Permission::new(Action::Delete, Model::CustomField))?;
        granted.write(|txn| {
            let field = read::custom_field(txn, id)?.ok_or_else(Error::not_found)?;
            write::delete_custom_field(txn, &field)
        })
    }
}

fn check(
    txn: &Txn<'_>,
    field: &mut CustomField,
    input: &CustomFieldInput,
    me: Option<u64>,
) -> Result<()> {
    let mut errors = FieldErrors::new();
    custom_field::apply(field, input, me.is_none(), &mut errors);
    if !errors.has("name") && !field.name.is_empty() {
        let key = custom_field::name_key(&field.name);
        if read::lookup(txn, CUSTOM_FIELD_BY_NAME, &key)?.is_some_and(|other| Some(other) != me) {
            errors.add("name", "A custom field with this name already exists.");
        }
    }
    errors.into_result()
}
