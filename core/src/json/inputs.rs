//! Request bodies to typed inputs: one mapping per input type, shared by
//! the REST routes and the import formats, so a JSON object means the same
//! wherever it arrives.

use super::body::Body;
use crate::domain::course::CourseInput;
use crate::domain::custom_field::CustomFieldInput;
use crate::domain::group::GroupInput;
use crate::domain::user::{AccessInput, NewUser, ProfileInput, UserPatch};

/// The profile fields of a user body. `state_code` wins over `state`: both
/// are accepted, since the representation carries both.
pub(crate) fn profile(body: &mut Body) -> ProfileInput {
    let state_code = body.string("state_code");
    let state = body.string("state");
    ProfileInput {
        email: body.string("email"),
        phone: body.phone("phone"),
        first_name: body.string("first_name"),
        last_name: body.string("last_name"),
        display_name: body.string("display_name"),
        photo: body.string("photo"),
        birth_date: body.string("birth_date"),
        address1: body.string("address1"),
        address2: body.string("address2"),
        city: body.string("city"),
        zip: body.string("zip"),
        state: state_code.or(state),
        gender_code: body.string("gender_code"),
        custom_fields: body.custom_fields("custom_fields"),
    }
}

pub(crate) fn new_user(body: &mut Body) -> NewUser {
    let batches = match body.has("batches") {
        true => body.strings("batches").unwrap_or_default(),
        false => Vec::new(),
    };
    NewUser {
        username: body.string("username"),
        password: body.string("password"),
        profile: profile(body),
        is_active: body.bool("is_active"),
        is_blocked: body.bool("is_blocked"),
        access: AccessInput::default(),
        batches,
        expires: body.string("expires").filter(|e| !e.is_empty()),
    }
}

pub(crate) fn user_patch(body: &mut Body) -> UserPatch {
    UserPatch {
        username: body.string("username"),
        password: body.string("password"),
        profile: profile(body),
        is_active: body.bool("is_active"),
        is_blocked: body.bool("is_blocked"),
        access: AccessInput::default(),
    }
}

/// The access fields of seed 003.
pub(crate) fn access(body: &mut Body) -> AccessInput {
    let ids = |body: &mut Body, key: &str| body.has(key).then(|| body.ids(key)).flatten();
    AccessInput {
        is_superuser: body.bool("is_superuser"),
        is_staff: body.bool("is_staff"),
        groups: ids(body, "groups"),
        user_permissions: ids(body, "user_permissions"),
    }
}

pub(crate) fn group_input(body: &mut Body) -> GroupInput {
    GroupInput {
        name: body.string("name"),
        permissions: body
            .has("permissions")
            .then(|| body.ids("permissions"))
            .flatten(),
    }
}

pub(crate) fn course_input(body: &mut Body) -> CourseInput {
    CourseInput {
        title: body.string("title"),
        slug: body.string("slug"),
        description: body.string("description"),
        image: body.string("image"),
        is_public: body.bool("is_public"),
        enable_progressive_lock: body.bool("enable_progressive_lock"),
        order: body.int("order"),
    }
}

pub(crate) fn custom_field_input(body: &mut Body) -> CustomFieldInput {
    CustomFieldInput {
        name: body.string("name"),
        kind: body.string("type"),
        choices: body.strings("choices"),
        required: body.bool("required"),
    }
}
