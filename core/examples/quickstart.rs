//! A short tour of the typed API: batches, a user with a subscription that
//! expires, a course granted directly, and the same data through the REST
//! facade. Run with `cargo run -p roster --example quickstart`.

use roster::rest::{Request, handle};
use roster::{
    BatchInput, Config, CourseInput, CreateOptions, Institute, NewUser, PageRequest, ProfileInput,
};

fn main() -> roster::Result<()> {
    let institute = Institute::in_memory(Config::default())?;
    let admin = institute.operator();

    admin.create_batch(BatchInput {
        name: Some("UPSC Morning Batch".into()),
    })?;
    let course = admin.create_course(CourseInput {
        title: Some("Language training".into()),
        ..Default::default()
    })?;

    let created = admin.create_user(
        NewUser {
            username: Some("lorem".into()),
            password: Some("ipsum1$".into()),
            profile: ProfileInput {
                first_name: Some("John".into()),
                last_name: Some("Appleseed".into()),
                email: Some("test@example.com".into()),
                birth_date: Some("03/07/2016".into()),
                state: Some("IN-TN".into()),
                ..Default::default()
            },
            batches: vec!["upsc morning batch".into()],
            expires: Some(
                (admin.today() + chrono::Days::new(30))
                    .format("%Y-%m-%d")
                    .to_string(),
            ),
            ..Default::default()
        },
        CreateOptions::default(),
    )?;
    let user = created.user;
    println!(
        "created {} ({}), state {:?}",
        user.display_name,
        user.id,
        user.state.map(|s| s.name)
    );

    admin.add_user_courses(user.id, &[course.id])?;
    for sub in admin
        .user_subscriptions(user.id, PageRequest::default())?
        .items
    {
        println!(
            "  subscribed to {:?} until {:?}",
            sub.batch.name, sub.expires
        );
    }

    let reply = handle(
        &institute,
        Request::new("GET", "/api/v2.5/admin/users/?q=LOR"),
    );
    println!(
        "GET /api/v2.5/admin/users/?q=LOR -> {}\n{}",
        reply.status,
        reply.body.unwrap_or_default()
    );
    Ok(())
}
