//! `Admin`: batches, courses and custom field definitions (T11, T12).

use crate::admin::Admin;
use crate::error::Result;
use crate::pages::{BatchPage, CoursePage, CustomFieldPage};
use roster::{BatchInput, BatchView, CourseInput, CourseView, CustomFieldInput};
use roster::{CustomFieldView, PageRequest};

#[uniffi::export]
impl Admin {
    /// Creates a batch; the name is required and unique ignoring case.
    pub fn create_batch(&self, input: BatchInput) -> Result<BatchView> {
        Ok(self.core().create_batch(input)?)
    }

    /// Ordinary batches by id, filtered by a substring of the name.
    #[uniffi::method(default(search = None, page))]
    pub fn list_batches(&self, search: Option<String>, page: PageRequest) -> Result<BatchPage> {
        Ok(self.core().list_batches(search.as_deref(), page)?.into())
    }

    /// Batch `id`.
    pub fn get_batch(&self, id: u64) -> Result<BatchView> {
        Ok(self.core().get_batch(id)?)
    }

    /// Renames batch `id`.
    pub fn update_batch(&self, id: u64, input: BatchInput) -> Result<BatchView> {
        Ok(self.core().update_batch(id, input)?)
    }

    /// Deletes batch `id` and its memberships.
    pub fn delete_batch(&self, id: u64) -> Result<()> {
        Ok(self.core().delete_batch(id)?)
    }

    /// Creates a course and its hidden batch; the slug is derived from the
    /// title when not given.
    pub fn create_course(&self, input: CourseInput) -> Result<CourseView> {
        Ok(self.core().create_course(input)?)
    }

    /// Courses by id, filtered by a substring of the title or slug.
    #[uniffi::method(default(q = None, page))]
    pub fn list_courses(&self, q: Option<String>, page: PageRequest) -> Result<CoursePage> {
        Ok(self.core().list_courses(q.as_deref(), page)?.into())
    }

    /// Course `id`.
    pub fn get_course(&self, id: u64) -> Result<CourseView> {
        Ok(self.core().get_course(id)?)
    }

    /// Changes course `id`.
    pub fn update_course(&self, id: u64, input: CourseInput) -> Result<CourseView> {
        Ok(self.core().update_course(id, input)?)
    }

    /// Deletes course `id`, its direct grants and its batch links.
    pub fn delete_course(&self, id: u64) -> Result<()> {
        Ok(self.core().delete_course(id)?)
    }

    /// The ordinary batches that give course `id`.
    #[uniffi::method(default(page))]
    pub fn course_batches(&self, id: u64, page: PageRequest) -> Result<BatchPage> {
        Ok(self.core().course_batches(id, page)?.into())
    }

    /// Links batches to course `id`; returns the first page of its batches.
    pub fn add_course_batches(&self, id: u64, batches: Vec<u64>) -> Result<BatchPage> {
        Ok(self.core().add_course_batches(id, &batches)?.into())
    }

    /// Unlinks batches from course `id`.
    pub fn remove_course_batches(&self, id: u64, batches: Vec<u64>) -> Result<()> {
        Ok(self.core().remove_course_batches(id, &batches)?)
    }

    /// Defines a custom field (`kind`: `text`, `number`, `date`, `choice`).
    pub fn create_custom_field(&self, input: CustomFieldInput) -> Result<CustomFieldView> {
        Ok(self.core().create_custom_field(input)?)
    }

    /// Every custom field definition, by id.
    #[uniffi::method(default(page))]
    pub fn list_custom_fields(&self, page: PageRequest) -> Result<CustomFieldPage> {
        Ok(self.core().list_custom_fields(page)?.into())
    }

    /// Custom field definition `id`.
    pub fn get_custom_field(&self, id: u64) -> Result<CustomFieldView> {
        Ok(self.core().get_custom_field(id)?)
    }

    /// Changes custom field definition `id`.
    pub fn update_custom_field(&self, id: u64, input: CustomFieldInput) -> Result<CustomFieldView> {
        Ok(self.core().update_custom_field(id, input)?)
    }

    /// Deletes custom field definition `id` and every user's value of it.
    pub fn delete_custom_field(&self, id: u64) -> Result<()> {
        Ok(self.core().delete_custom_field(id)?)
    }
}
