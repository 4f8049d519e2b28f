//! Courses (T8, T11). A course is reached through batches; its hidden batch
//! holds the users granted the course directly.

use super::rules::{self, BLANK, REQUIRED, TEXT_MAX};
use super::{Micros, instant, uuid_string};
use crate::error::FieldErrors;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest course title.
pub const TITLE_MAX: usize = 255;
/// Longest slug.
pub const SLUG_MAX: usize = 255;

/// A stored course.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Course {
    /// Id, never reused.
    pub id: u64,
    /// Random UUID.
    #[serde(with = "crate::domain::uuid_serde")]
    pub uuid: u128,
    /// Title.
    pub title: String,
    /// Unique slug.
    pub slug: String,
    /// Description.
    pub description: String,
    /// Image URL (empty: none).
    pub image: String,
    /// Whether the course is public.
    pub is_public: bool,
    /// Whether contents unlock in order.
    pub enable_progressive_lock: bool,
    /// Position among the institute's courses.
    pub order: i64,
    /// The hidden batch of direct grants.
    pub local_batch: u64,
    /// Creation instant.
    pub created: Micros,
    /// Last change.
    pub modified: Micros,
}

/// Input to create or change a course.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CourseInput {
    /// Title: required on create.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub title: Option<String>,
    /// Slug: derived from the title when absent on create.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub slug: Option<String>,
    /// Description.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub description: Option<String>,
    /// Image URL.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub image: Option<String>,
    /// Default false.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub is_public: Option<bool>,
    /// Default false.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub enable_progressive_lock: Option<bool>,
    /// Default: the course's id.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub order: Option<i64>,
}

/// A course as returned.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CourseView {
    /// Id.
    pub id: u64,
    /// UUID, hyphenated.
    pub uuid: String,
    /// Title.
    pub title: String,
    /// Slug.
    pub slug: String,
    /// Description.
    pub description: String,
    /// Image URL (empty: none).
    pub image: String,
    /// Whether public.
    pub is_public: bool,
    /// Creation instant.
    pub created: DateTime<Utc>,
    /// Last change.
    pub modified: DateTime<Utc>,
    /// Progressive lock.
    pub enable_progressive_lock: bool,
    /// Order.
    pub order: i64,
}

impl From<&Course> for CourseView {
    fn from(c: &Course) -> Self {
        CourseView {
            id: c.id,
            uuid: uuid_string(c.uuid),
            title: c.title.clone(),
            slug: c.slug.clone(),
            description: c.description.clone(),
            image: c.image.clone(),
            is_public: c.is_public,
            created: instant(c.created),
            modified: instant(c.modified),
            enable_progressive_lock: c.enable_progressive_lock,
            order: c.order,
        }
    }
}

/// The slug of a title: lower-case ASCII letters and digits, every other run
/// of characters one hyphen (`Master of Business Administration` ->
/// `master-of-business-administration`). May be empty.
pub fn slugify(title: &str) -> String {
    let mut slug = String::with_capacity(title.len());
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    slug.truncate(SLUG_MAX - 12);
    slug
}

/// Whether `slug` is a well-formed slug.
pub fn is_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= SLUG_MAX
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Applies `input` to `course` (a default one when creating), collecting every
/// problem. The slug's uniqueness and derivation are the caller's.
pub fn apply(course: &mut Course, input: &CourseInput, creating: bool, errors: &mut FieldErrors) {
    match &input.title {
        Some(t) => match rules::text(t, TITLE_MAX) {
            Ok(t) if t.is_empty() => errors.add("title", BLANK),
            Ok(t) => course.title = t,
            Err(m) => errors.add("title", m),
        },
        None if creating => errors.add("title", REQUIRED),
        None => {}
    }
    if let Some(slug) = &input.slug {
        let slug = slug.trim();
        if is_slug(slug) {
            course.slug = slug.to_string();
        } else {
            errors.add(
                "slug",
                "Enter a valid \"slug\" consisting of lower-case letters, numbers, underscores or hyphens.",
            );
        }
    }
    if let Some(d) = &input.description {
        match rules::multiline_text(d, TEXT_MAX) {
            Ok(d) => course.description = d,
            Err(m) => errors.add("description", m),
        }
    }
    if let Some(image) = &input.image {
        if image.trim().is_empty() {
            course.image.clear();
        } else {
            match rules::url(image) {
                Ok(u) => course.image = u,
                Err(m) => errors.add("image", m),
            }
        }
    }
    if let Some(v) = input.is_public {
        course.is_public = v;
    }
    if let Some(v) = input.enable_progressive_lock {
        course.enable_progressive_lock = v;
    }
    if let Some(v) = input.order {
        course.order = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_the_seed() {
        assert_eq!(
            slugify("Master of Business Administration"),
            "master-of-business-administration"
        );
        assert_eq!(slugify("Language training"), "language-training");
        assert_eq!(slugify("TD"), "td");
        assert_eq!(slugify("  C++ & Java!! "), "c-java");
        assert_eq!(slugify("हिंदी"), "");
        assert!(is_slug("entrance-coaching"));
        assert!(!is_slug("Entrance Coaching"));
    }
}
