//! Courses themselves and their batches (T11).

use super::Admin;
use crate::auth::permissions::{Action, Model, Permission};
use crate::domain::course::{self, Course, CourseInput, CourseView};
use crate::domain::{Batch, BatchView, Page, PageRequest};
use crate::error::{Error, FieldErrors, Result};
use crate::store::tables::{COURSE_BATCHES, COURSE_BY_SLUG, COURSES, Kind};
use crate::store::{Snapshot, Txn, read, write};

impl Admin {
    /// Creates a course and its hidden batch. The slug is derived from the
    /// title when not given (with `-2`, `-3`... when taken); a given slug
    /// must be free.
    pub fn create_course(&self, input: CourseInput) -> Result<CourseView> {
        let granted = self.allow(Permission::new(Action::Add, Model::Course))?;
        let now = self.now_micros();
        granted.write(|txn| {
            let id = write::next_id(txn, Kind::Course)?;
            let mut course = Course {
                id,
                uuid: crate::random::uuid()?,
                title: String::new(),
                slug: String::new(),
                description: String::new(),
                image: String::new(),
                is_public: false,
                enable_progressive_lock: false,
                order: id as i64,
                local_batch: 0,
                created: now,
                modified: now,
            };
            let mut errors = FieldErrors::new();
            course::apply(&mut course, &input, true, &mut errors);
            if input.slug.is_none() && !errors.has("title") {
                course.slug = free_slug(txn, &course)?;
            }
            check_slug(txn, &course, &mut errors)?;
            errors.into_result()?;
            let local = Batch {
                id: write::next_id(txn, Kind::Batch)?,
                uuid: crate::random::uuid()?,
                name: course.title.clone(),
                course: Some(id),
                created: now,
                modified: now,
            };
            write::put_batch(txn, None, &local)?;
            course.local_batch = local.id;
            write::put_course(txn, None, &course)?;
            write::link_course_batch(txn, id, local.id, true)?;
            Ok(CourseView::from(&course))
        })
    }

    /// Courses by id, filtered by a case-insensitive substring of the title
    /// or slug. Without a filter, any page is found by position in a few
    /// reads.
    pub fn list_courses(&self, q: Option<&str>, page: PageRequest) -> Result<Page<CourseView>> {
        self.allow(Permission::new(Action::View, Model::Course))?;
        self.store().reading(|txn| {
            let needle = q.map(|s| s.trim().to_lowercase()).unwrap_or_default();
            if needle.is_empty() {
                let every = |_: &Course| true;
                return self.listed_page_of(txn, page, COURSES, every, |c| CourseView::from(c));
            }
            let mut all = Vec::new();
            for c in read::records::<Course>(txn, COURSES)? {
                if c.title.to_lowercase().contains(&needle) || c.slug.contains(&needle) {
                    all.push(CourseView::from(&c));
                }
            }
            self.page_of(page, all)
        })
    }

    /// Course `id`.
    pub fn get_course(&self, id: u64) -> Result<CourseView> {
        self.allow(Permission::new(Action::View, Model::Course))?;
        self.store().reading(|txn| {
            read::course(txn, id)?
                .map(|c| CourseView::from(&c))
                .ok_or_else(Error::not_found)
        })
    }

    /// Changes course `id`; its hidden batch takes a new title along.
    pub fn update_course(&self, id: u64, input: CourseInput) -> Result<CourseView> {
        let granted = self.allow(Permission::new(Action::Change, Model::Course))?;
        let now = self.now_micros();
        granted.write(|txn| {
            let old = read::course(txn, id)?.ok_or_else(Error::not_found)?;
            let mut course = old.clone();
            let mut errors = FieldErrors::new();
            course::apply(&mut course, &input, false, &mut errors);
            check_slug(txn, &course, &mut errors)?;
            errors.into_result()?;
            if course != old {
                course.modified = now;
            }
            write::put_course(txn, Some(&old), &course)?;
            if course.title != old.title
                && let Some(local) = read::batch(txn, course.local_batch)?
            {
                let renamed = Batch {
                    name: course.title.clone(),
                    modified: now,
                    ..local.clone()
                };
                write::put_batch(txn, Some(&local), &renamed)?;
            }
            Ok(CourseView::from(&course))
        })
    }

    /// Deletes course `id`, its direct grants and its batch links.
    pub fn delete_course(&self, id: u64) -> Result<()> {
        let granted = self.allow(Permission::new(Action::Delete, Model::Course))?;
        granted.write(|txn| {
            let course = read::course(txn, id)?.ok_or_else(Error::not_found)?;
            write::delete_course(txn, &course)
        })
    }

    /// The ordinary batches that give course `id`, by id.
    pub fn course_batches(&self, id: u64, page: PageRequest) -> Result<Page<BatchView>> {
        self.allow(Permission::new(Action::View, Model::Course))?;
        self.store().reading(|txn| {
            read::course(txn, id)?.ok_or_else(Error::not_found)?;
            let all = linked_batches(txn, id)?;
            self.page_of(page, all)
        })
    }

    /// Links ordinary batches to course `id`; returns the first page of its
    /// batches, read in the same transaction: the answer of the write
    /// `change_course` allows, never a second call that could fail after
    /// the links were made.
    pub fn add_course_batches(&self, id: u64, batches: &[u64]) -> Result<Page<BatchView>> {
        let granted = self.allow(Permission::new(Action::Change, Model::Course))?;
        granted.write(|txn| {
            self.link(txn, id, batches, true)?;
            self.page_of(PageRequest::default(), linked_batches(txn, id)?)
        })
    }

    /// Unlinks batches from course `id`.
    pub fn remove_course_batches(&self, id: u64, batches: &[u64]) -> Result<()> {
        let granted = self.allow(Permission::new(Action::Change, Model::Course))?;
        granted.write(|txn| self.link(txn, id, batches, false))
    }

    fn link(&self, txn: &Txn<'_>, id: u64, batches: &[u64], linked: bool) -> Result<()> {
        read::course(txn, id)?.ok_or_else(Error::not_found)?;
        self.ordinary_batches(txn, "batches", batches)?;
        write::link_course_batches(txn, id, batches, linked)
    }
}

fn linked_batches(s: &Snapshot<'_>, course: u64) -> Result<Vec<BatchView>> {
    let mut out = Vec::new();
    for b in read::related(s, COURSE_BATCHES, course)? {
        match read::batch(s, b)? {
            Some(batch) if !batch.is_local() => out.push(BatchView::from(&batch)),
            _ => {}
        }
    }
    Ok(out)
}

/// The slug derived from the course's title, made unique with a suffix.
fn free_slug(txn: &Txn<'_>, course: &Course) -> Result<String> {
    let base = match course::slugify(&course.title) {
        s if s.is_empty() => format!("course-{}", course.id),
        s => s,
    };
    let mut candidate = base.clone();
    let mut n = 2;
    while read::lookup(txn, COURSE_BY_SLUG, &candidate)?.is_some() {
        candidate = format!("{base}-{n}");
        n += 1;
    }
    Ok(candidate)
}

fn check_slug(txn: &Txn<'_>, course: &Course, errors: &mut FieldErrors) -> Result<()> {
    if !errors.has("slug")
        && read::lookup(txn, COURSE_BY_SLUG, &course.slug)?.is_some_and(|other| other != course.id)
    {
        errors.add("slug", "A course with this slug already exists.");
    }
    Ok(())
}
