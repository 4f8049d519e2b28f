//! The rules of SPEC 3 that the document examples do not show on their own:
//! pagination, search, expiry in the institute's zone, hidden course
//! batches, cascades, atomicity, ids, persistence and concurrency.

use roster::{
    BatchInput, CourseInput, CreateOptions, CustomFieldInput, CustomInput, ErrorCode, GroupInput,
    Institute, NewUser, PageRequest, ProfileInput, UserPatch,
};
use roster_tests::{
    HOUR, SEED_NOW, call, expect, ids_of_every_page, institute, seed_plus_hours as at, snapshot,
};
use serde_json::{Value, json};
use std::collections::BTreeSet;

const USERS: &str = "/api/v2.5/admin/users/";

fn post(i: &Institute, path: &str, body: Value) -> Value {
    expect(
        i,
        "POST",
        &format!("/api/v2.5/admin/{path}"),
        Some(body),
        201,
    )
}

fn id(v: &Value) -> u64 {
    v["id"].as_u64().expect("id")
}

fn new_user(i: &Institute, username: &str) -> u64 {
    id(&post(
        i,
        "users/",
        json!({"username": username, "password": "ipsum1$"}),
    ))
}

fn names(v: &Value) -> Vec<String> {
    v["results"]
        .as_array()
        .or(v.as_array())
        .expect("a list")
        .iter()
        .map(|x| {
            x["name"]
                .as_str()
                .or(x["username"].as_str())
                .or(x["title"].as_str())
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

mod pagination {
    use super::*;

    fn with_users(n: usize) -> Institute {
        let (i, _) = institute(SEED_NOW);
        for k in 1..=n {
            new_user(&i, &format!("user{k:02}"));
        }
        i
    }

    #[test]
    fn pages_of_twenty_by_id_with_links() {
        let i = with_users(45);
        let p1 = expect(&i, "GET", USERS, None, 200);
        assert_eq!(
            (p1["count"].as_u64(), p1["per_page"].as_u64()),
            (Some(45), Some(20))
        );
        assert_eq!(names(&p1)[0], "user01");
        assert_eq!(p1["next"], "/api/v2.5/admin/users/?page=2");
        assert!(p1["previous"].is_null());
        let p2 = expect(&i, "GET", "/api/v2.5/admin/users/?page=2", None, 200);
        assert_eq!(names(&p2)[0], "user21");
        assert_eq!(
            p2["previous"], "/api/v2.5/admin/users/",
            "as in DRF, page 1 has no page parameter"
        );
        assert_eq!(p2["next"], "/api/v2.5/admin/users/?page=3");
        let p3 = expect(&i, "GET", "/api/v2.5/admin/users/?page=3", None, 200);
        assert_eq!(names(&p3).len(), 5);
        assert!(p3["next"].is_null());
        assert_eq!(p3["previous"], "/api/v2.5/admin/users/?page=2");
    }

    /// Batches, courses and groups are paged by position when unfiltered:
    /// every page holds what the filtered walk (which reads every record)
    /// holds there, course batches never show, and deletions of either
    /// kind of batch, of courses and of groups move the pages on.
    #[test]
    fn batch_course_and_group_lists_page_by_position_as_a_full_walk_does() {
        let (i, _) = institute(SEED_NOW);
        let admin = i.operator();
        let (mut batches, mut courses, mut groups) = (Vec::new(), Vec::new(), Vec::new());
        for k in 0..40 {
            // Courses between the batches: their hidden batches take batch ids.
            let name = format!("b{k}");
            batches.push(
                admin
                    .create_batch(BatchInput { name: Some(name) })
                    .expect("batch")
                    .id,
            );
            if k % 2 == 0 {
                let title = Some(format!("c{k}"));
                let c = admin.create_course(CourseInput {
                    title,
                    ..Default::default()
                });
                courses.push(c.expect("course").id);
            }
            let name = Some(format!("g{k}"));
            let g = admin.create_group(GroupInput {
                name,
                ..Default::default()
            });
            groups.push(g.expect("group").id);
        }
        let kept = |ids: &[u64], gone: &[usize]| -> Vec<u64> {
            let kept = ids.iter().enumerate().filter(|(at, _)| !gone.contains(at));
            kept.map(|(_, id)| *id).collect()
        };
        for at in [0, 7, 8, 39] {
            admin.delete_batch(batches[at]).expect("delete batch");
            admin.delete_group(groups[at]).expect("delete group");
        }
        for at in [0, 5, 19] {
            admin.delete_course(courses[at]).expect("delete course");
        }
        let (batches, groups) = (
            kept(&batches, &[0, 7, 8, 39]),
            kept(&groups, &[0, 7, 8, 39]),
        );
        let courses = kept(&courses, &[0, 5, 19]);
        assert_eq!(i.check_integrity().expect("check"), Vec::<String>::new());
        // The filtered lists read every record.
        let scanned = ids_of_every_page(100, |p| admin.list_batches(Some("b"), p), |b| b.id);
        assert_eq!(scanned, (batches.clone(), BTreeSet::from([36])));
        let scanned = ids_of_every_page(100, |p| admin.list_courses(Some("c"), p), |c| c.id);
        assert_eq!(scanned, (courses.clone(), BTreeSet::from([17])));
        for per_page in [1, 3, 20] {
            let got = ids_of_every_page(per_page, |p| admin.list_batches(None, p), |b| b.id);
            assert_eq!(got, (batches.clone(), BTreeSet::from([36])), "{per_page}");
            let got = ids_of_every_page(per_page, |p| admin.list_courses(None, p), |c| c.id);
            assert_eq!(got, (courses.clone(), BTreeSet::from([17])), "{per_page}");
            let got = ids_of_every_page(per_page, |p| admin.list_groups(None, p), |g| g.id);
            assert_eq!(got, (groups.clone(), BTreeSet::from([36])), "{per_page}");
        }
        let past = admin.list_batches(
            None,
            PageRequest {
                page: 3,
                per_page: Some(20),
            },
        );
        assert_eq!(past.unwrap_err().code(), ErrorCode::NotFound);
    }

    #[test]
    fn links_keep_the_other_parameters_sorted() {
        let i = with_users(12);
        let p = expect(
            &i,
            "GET",
            "/api/v2.5/admin/users/?q=user&per_page=5&page=2",
            None,
            200,
        );
        assert_eq!(p["per_page"], 5);
        assert_eq!(p["next"], "/api/v2.5/admin/users/?page=3&per_page=5&q=user");
        assert_eq!(p["previous"], "/api/v2.5/admin/users/?per_page=5&q=user");
    }

    #[test]
    fn per_page_falls_back_and_is_capped() {
        let i = with_users(3);
        for (query, expected) in [
            ("per_page=abc", 20),
            ("per_page=-5", 20),
            ("per_page=0", 20),
            ("per_page=1000", 100),
            ("per_page=2", 2),
        ] {
            let p = expect(&i, "GET", &format!("{USERS}?{query}"), None, 200);
            assert_eq!(p["per_page"], expected, "{query}");
        }
    }

    #[test]
    fn invalid_pages_are_404() {
        let i = with_users(3);
        for page in ["0", "-1", "abc", "2", "1.5", ""] {
            let r = call(&i, "GET", &format!("{USERS}?page={page}"), None);
            assert_eq!(
                (r.status, r.json()),
                (404, json!({"detail": "Invalid page."})),
                "page={page}"
            );
        }
        let (empty, _) = institute(SEED_NOW);
        let p = expect(&empty, "GET", USERS, None, 200);
        assert_eq!(
            p,
            json!({"count": 0, "next": null, "previous": null, "per_page": 20, "results": []})
        );
        assert_eq!(
            call(&empty, "GET", &format!("{USERS}?page=2"), None).status,
            404
        );
    }

    #[test]
    fn urls_follow_the_request_version_and_base_url() {
        let (config, _) = roster_tests::config(SEED_NOW);
        let i = roster_tests::store(config.with_base_url("https://demo.testpress.in/"));
        let uid = new_user(&i, "lorem");
        let v22 = expect(
            &i,
            "GET",
            &format!("/api/v2.2/admin/users/{uid}"),
            None,
            200,
        );
        assert_eq!(
            v22["url"],
            format!("https://demo.testpress.in/api/v2.2/admin/users/{uid}/")
        );
        assert_eq!(
            v22["batches_url"],
            format!("https://demo.testpress.in/api/v2.2/admin/users/{uid}/batches/")
        );
    }
}

mod search {
    use super::*;

    fn people() -> Institute {
        let (i, _) = institute(SEED_NOW);
        post(
            &i,
            "users/",
            json!({"username": "John.Doe", "password": "ipsum1$", "email": "jd@x.in"}),
        );
        post(
            &i,
            "users/",
            json!({"username": "mary", "password": "ipsum1$", "email": "Mary.JOHNSON@Example.com"}),
        );
        post(
            &i,
            "users/",
            json!({"username": "ravi", "password": "ipsum1$", "first_name": "John"}),
        );
        i
    }

    #[test]
    fn q_is_a_case_insensitive_substring_of_username_or_email() {
        let i = people();
        assert_eq!(
            names(&expect(&i, "GET", &format!("{USERS}?q=JOHN"), None, 200)),
            ["John.Doe", "mary"]
        );
        assert_eq!(
            names(&expect(
                &i,
                "GET",
                &format!("{USERS}?q=example.COM"),
                None,
                200
            )),
            ["mary"]
        );
        assert_eq!(
            names(&expect(&i, "GET", &format!("{USERS}?q=zzz"), None, 200)),
            Vec::<String>::new()
        );
        assert_eq!(
            names(&expect(
                &i,
                "GET",
                &format!("{USERS}?q=john+doe"),
                None,
                200
            )),
            Vec::<String>::new(),
            "'+' is a space"
        );
        assert_eq!(
            names(&expect(&i, "GET", &format!("{USERS}?q=%2Edoe"), None, 200)),
            ["John.Doe"]
        );
    }

    #[test]
    fn email_is_exact_ignoring_case_and_embeds_batches() {
        let i = people();
        post(&i, "batches/", json!({"name": "Older"}));
        post(&i, "batches/", json!({"name": "Newer"}));
        let uid = id(&post(
            &i,
            "users/",
            json!({"username": "b", "password": "ipsum1$", "email": "b@x.in", "batches": ["older", "NEWER"]}),
        ));
        let p = expect(&i, "GET", &format!("{USERS}?email=B@X.IN"), None, 200);
        assert_eq!(p["count"], 1);
        assert_eq!(p["results"][0]["id"], uid);
        assert_eq!(
            names(&json!(p["results"][0]["batches"])),
            ["Newer", "Older"],
            "newest batch first"
        );
        assert_eq!(
            expect(&i, "GET", &format!("{USERS}?email=x.in"), None, 200)["count"],
            0,
            "exact, not a substring"
        );
        assert_eq!(
            expect(&i, "GET", &format!("{USERS}?email=b@x.in&q=zzz"), None, 200)["count"],
            0,
            "q still applies"
        );
        assert!(
            expect(&i, "GET", USERS, None, 200)["results"][0]
                .get("batches")
                .is_none(),
            "only the email view embeds batches"
        );
    }
}

mod expiry {
    use super::*;

    /// 2023-01-13 23:59 in India is 18:29 UTC; the subscription expiring on
    /// the 13th counts until then and not a minute later.
    #[test]
    fn a_subscription_counts_through_its_last_day_in_the_institute_zone() {
        let (i, clock) = institute("2023-01-13T10:00:00+05:30");
        post(&i, "batches/", json!({"name": "Test Batch"}));
        let uid = id(&post(
            &i,
            "users/",
            json!({"username": "lorem", "password": "ipsum1$", "batches": ["Test Batch"], "expires": "2023-01-13"}),
        ));
        let batches = format!("{USERS}{uid}/batches/");
        clock.set(roster_tests::at("2023-01-13T18:29:59Z"));
        assert_eq!(
            expect(&i, "GET", &batches, None, 200)["count"],
            1,
            "23:59:59 in India"
        );
        clock.set(roster_tests::at("2023-01-13T18:30:00Z"));
        assert_eq!(
            expect(&i, "GET", &batches, None, 200)["count"],
            0,
            "00:00 on the 14th in India, still the 13th in UTC"
        );
        assert_eq!(
            expect(
                &i,
                "GET",
                &format!("{USERS}{uid}/subscriptions/"),
                None,
                200
            )["count"],
            0
        );
        let listed = expect(&i, "GET", &format!("{USERS}?email=&q=lorem"), None, 200);
        assert_eq!(listed["count"], 1, "an empty email filter filters nothing");
        // Expired but not purged: the record is still there until purged.
        assert_eq!(
            expect(
                &i,
                "POST",
                "/api/v2.5/admin/subscriptions/purge-expired/",
                None,
                200
            ),
            json!({"removed": 1})
        );
        assert_eq!(
            expect(
                &i,
                "POST",
                "/api/v2.5/admin/subscriptions/purge-expired/",
                None,
                200
            ),
            json!({"removed": 0})
        );
        assert!(i.check_integrity().expect("check").is_empty());
    }

    #[test]
    fn expired_memberships_hide_courses_too() {
        let (i, clock) = institute(SEED_NOW);
        let b = id(&post(&i, "batches/", json!({"name": "B"})));
        let c = id(&post(&i, "courses/", json!({"title": "C"})));
        post(
            &i,
            &format!("courses/{c}/batches/"),
            json!({"batches": [b]}),
        );
        let uid = id(&post(
            &i,
            "users/",
            json!({"username": "u", "password": "ipsum1$", "batches": ["B"], "expires": "2023-01-12"}),
        ));
        assert_eq!(
            expect(&i, "GET", &format!("{USERS}{uid}/courses/"), None, 200)["count"],
            1
        );
        clock.advance(chrono::Duration::days(1));
        assert_eq!(
            expect(&i, "GET", &format!("{USERS}{uid}/courses/"), None, 200)["count"],
            0
        );
    }

    #[test]
    fn expires_must_be_today_or_later_and_needs_batches() {
        let (i, _) = institute(SEED_NOW);
        post(&i, "batches/", json!({"name": "B"}));
        let r = call(
            &i,
            "POST",
            USERS,
            Some(
                json!({"username": "u", "password": "ipsum1$", "batches": ["B"], "expires": "2023-01-11"}),
            ),
        );
        assert_eq!(r.status, 400);
        assert!(
            r.json()["expires"][0]
                .as_str()
                .is_some_and(|m| m.contains("past"))
        );
        let r = call(
            &i,
            "POST",
            USERS,
            Some(json!({"username": "u", "password": "ipsum1$", "expires": "2023-01-20"})),
        );
        assert_eq!(r.status, 400);
        assert!(r.json().get("expires").is_some());
        assert_eq!(expect(&i, "GET", USERS, None, 200)["count"], 0);
    }

    #[test]
    fn adding_a_batch_keeps_an_expiry_and_revives_an_expired_one() {
        let (i, clock) = institute(SEED_NOW);
        let b = id(&post(&i, "batches/", json!({"name": "B"})));
        let uid = id(&post(
            &i,
            "users/",
            json!({"username": "u", "password": "ipsum1$", "batches": ["B"], "expires": "2023-01-13"}),
        ));
        let subs = format!("{USERS}{uid}/subscriptions/");
        expect(
            &i,
            "POST",
            &format!("{USERS}{uid}/batches/"),
            Some(json!({"batches": [b]})),
            201,
        );
        assert_eq!(
            expect(&i, "GET", &subs, None, 200)["results"][0]["expires"],
            "2023-01-13",
            "kept"
        );
        clock.advance(chrono::Duration::days(3));
        assert_eq!(expect(&i, "GET", &subs, None, 200)["count"], 0);
        expect(
            &i,
            "POST",
            &format!("{USERS}{uid}/batches/"),
            Some(json!({"batches": [b]})),
            201,
        );
        let now = expect(&i, "GET", &subs, None, 200);
        assert_eq!(now["count"], 1);
        assert!(
            now["results"][0]["expires"].is_null(),
            "revived without expiry"
        );
    }

    /// The batches, courses and subscriptions of a user that does not exist
    /// (never did, or was deleted) are not found, and nothing is written for
    /// it.
    #[test]
    fn a_missing_user_has_no_batches_courses_or_subscriptions() {
        let (i, _) = institute(SEED_NOW);
        let b = id(&post(&i, "batches/", json!({"name": "Bee"})));
        let c = id(&post(&i, "courses/", json!({"title": "Sea"})));
        let gone = new_user(&i, "gone");
        expect(&i, "DELETE", &format!("{USERS}{gone}/"), None, 204);
        for uid in [gone, 9_999] {
            let batches = format!("{USERS}{uid}/batches/");
            let courses = format!("{USERS}{uid}/courses/");
            let subscriptions = format!("{USERS}{uid}/subscriptions/");
            for (method, path, body) in [
                ("GET", &batches, None),
                ("POST", &batches, Some(json!({"batches": [b]}))),
                ("DELETE", &batches, Some(json!({"batches": [b]}))),
                ("GET", &courses, None),
                ("POST", &courses, Some(json!({"courses": [c]}))),
                ("DELETE", &courses, Some(json!({"courses": [c]}))),
                ("GET", &subscriptions, None),
                (
                    "POST",
                    &subscriptions,
                    Some(json!({"batches": [b], "expires": "2023-02-01"})),
                ),
            ] {
                expect(&i, method, path, body, 404);
            }
        }
        assert_eq!(i.check_integrity().expect("check"), Vec::<String>::new());
    }

    /// A batch named twice in one create (in other cases or with spaces)
    /// is one subscription.
    #[test]
    fn a_batch_named_twice_is_one_subscription() {
        let (i, _) = institute(SEED_NOW);
        let b = id(&post(&i, "batches/", json!({"name": "Bee"})));
        let uid = id(&post(
            &i,
            "users/",
            json!({"username": "u", "password": "ipsum1$", "batches": ["Bee", "BEE", " bee "],
                "expires": "2023-02-01"}),
        ));
        let subs = expect(
            &i,
            "GET",
            &format!("{USERS}{uid}/subscriptions/"),
            None,
            200,
        );
        assert_eq!(subs["count"], 1, "{subs}");
        assert_eq!(subs["results"][0]["batch"]["id"], b);
        // One subscription id given: the store's first.
        assert_eq!(subs["results"][0]["id"], 1);
        assert_eq!(i.check_integrity().expect("check"), Vec::<String>::new());
    }

    #[test]
    fn subscriptions_create_or_update_the_expiry() {
        let (i, _) = institute(SEED_NOW);
        let b = id(&post(&i, "batches/", json!({"name": "B"})));
        let uid = new_user(&i, "u");
        let path = format!("{USERS}{uid}/subscriptions/");
        let first = expect(
            &i,
            "POST",
            &path,
            Some(json!({"batches": [b], "expires": "2023-02-01"})),
            201,
        );
        let again = expect(&i, "POST", &path, Some(json!({"batches": [b]})), 201);
        assert_eq!(
            first[0]["id"], again[0]["id"],
            "one record per user and batch"
        );
        assert!(
            again[0]["expires"].is_null(),
            "absent expires means no expiry"
        );
        let r = call(
            &i,
            "POST",
            &path,
            Some(json!({"batches": [b], "expires": "2023-01-11"})),
        );
        assert_eq!(r.status, 400);
    }
}

mod batches {
    use super::*;

    const BATCHES: &str = "/api/v2.5/admin/batches/";

    /// T11: a batch's name is required, trimmed and unique ignoring case,
    /// on a rename as on a create. A rename may keep the batch's own name
    /// (in another case), and a body without a name keeps it.
    #[test]
    fn names_are_required_and_unique_ignoring_case_on_a_rename_too() {
        let (i, _) = institute(SEED_NOW);
        post(&i, "batches/", json!({"name": "Alpha"}));
        let beta = id(&post(&i, "batches/", json!({"name": "Beta"})));
        let refused = |method: &str, path: &str, body: Value| {
            let r = call(&i, method, path, Some(body));
            assert_eq!(r.status, 400, "{method} {path}: {}", r.json());
            r.json()
        };
        let taken = json!({"name": ["A batch with this name already exists."]});
        let blank = json!({"name": ["This field may not be blank."]});
        let path = format!("{BATCHES}{beta}/");
        assert_eq!(refused("PATCH", &path, json!({"name": " ALPHA "})), taken);
        assert_eq!(refused("PATCH", &path, json!({"name": "  "})), blank);
        assert_eq!(refused("POST", BATCHES, json!({"name": "alpha"})), taken);
        assert_eq!(refused("POST", BATCHES, json!({"name": "\t"})), blank);
        assert_eq!(
            refused("POST", BATCHES, json!({})),
            json!({"name": ["This field is required."]})
        );
        let kept = expect(&i, "PATCH", &path, Some(json!({})), 200);
        assert_eq!(kept["name"], "Beta", "no name: the name stays");
        let recased = expect(&i, "PATCH", &path, Some(json!({"name": " BETA "})), 200);
        assert_eq!(recased["name"], "BETA", "its own name, in another case");
        let listed = expect(&i, "GET", BATCHES, None, 200);
        assert_eq!(names(&listed), ["Alpha", "BETA"]);
    }

    /// `search=` keeps the ordinary batches whose name holds the text,
    /// ignoring case; a course's hidden batch is never listed, even when
    /// its name matches.
    #[test]
    fn search_is_a_case_insensitive_substring_of_ordinary_names() {
        let (i, _) = institute(SEED_NOW);
        for name in ["Alpha", "Beta", "Alphabet soup"] {
            post(&i, "batches/", json!({"name": name}));
        }
        post(&i, "courses/", json!({"title": "Alpha course"}));
        let found = |q: &str| {
            let page = expect(&i, "GET", &format!("{BATCHES}?search={q}"), None, 200);
            names(&page)
        };
        assert_eq!(found("LPH"), ["Alpha", "Alphabet soup"]);
        assert_eq!(found("soup"), ["Alphabet soup"]);
        assert_eq!(found("course"), Vec::<String>::new());
        assert_eq!(found("z"), Vec::<String>::new());
    }

    /// A batch's `modified` moves when its name changes, and only then.
    #[test]
    fn a_batch_is_stamped_only_when_it_changes() {
        let (i, clock) = institute(SEED_NOW);
        let admin = i.operator();
        let named = |name: &str| BatchInput {
            name: Some(name.into()),
        };
        let b = admin.create_batch(named("Alpha")).unwrap();
        assert_eq!((b.created, b.modified), (at(0), at(0)));
        clock.advance(HOUR);
        let same = admin.update_batch(b.id, named("Alpha")).unwrap();
        assert_eq!(same.modified, at(0), "the same name again");
        let renamed = admin.update_batch(b.id, named("Gamma")).unwrap();
        assert_eq!((renamed.created, renamed.modified), (at(0), at(1)));
        assert_eq!(admin.get_batch(b.id).unwrap(), renamed);
    }
}

mod courses {
    use super::*;

    #[test]
    fn direct_grants_are_hidden_batches() {
        let (i, _) = institute(SEED_NOW);
        let c = id(&post(
            &i,
            "courses/",
            json!({"title": "Master of Business Administration"}),
        ));
        let course = expect(
            &i,
            "GET",
            &format!("/api/v2.5/admin/courses/{c}/"),
            None,
            200,
        );
        assert_eq!(course["slug"], "master-of-business-administration");
        assert_eq!(course["is_public"], false);
        let uid = new_user(&i, "u");
        post(
            &i,
            &format!("users/{uid}/courses/"),
            json!({"courses": [c]}),
        );
        // Never among ordinary batches...
        assert_eq!(
            expect(&i, "GET", &format!("{USERS}{uid}/batches/"), None, 200)["count"],
            0
        );
        assert_eq!(
            expect(&i, "GET", "/api/v2.5/admin/batches/", None, 200)["count"],
            0
        );
        assert_eq!(
            expect(
                &i,
                "GET",
                &format!("/api/v2.5/admin/courses/{c}/batches/"),
                None,
                200
            )["count"],
            0
        );
        // ...but a subscription like any other, with is_local.
        let subs = expect(
            &i,
            "GET",
            &format!("{USERS}{uid}/subscriptions/"),
            None,
            200,
        );
        assert_eq!(subs["results"][0]["batch"]["is_local"], true);
        assert_eq!(
            subs["results"][0]["batch"]["name"],
            "Master of Business Administration"
        );
        // It cannot be renamed, deleted or joined as a batch.
        let local = subs["results"][0]["batch"]["id"].as_u64().expect("id");
        assert_eq!(
            call(
                &i,
                "DELETE",
                &format!("/api/v2.5/admin/batches/{local}/"),
                None
            )
            .status,
            400
        );
        assert_eq!(
            call(
                &i,
                "POST",
                &format!("{USERS}{uid}/batches/"),
                Some(json!({"batches": [local]}))
            )
            .status,
            400
        );
    }

    #[test]
    fn removing_a_course_reached_through_a_batch_removes_nothing() {
        let (i, _) = institute(SEED_NOW);
        let b = id(&post(&i, "batches/", json!({"name": "B"})));
        let c = id(&post(&i, "courses/", json!({"title": "C"})));
        post(
            &i,
            &format!("courses/{c}/batches/"),
            json!({"batches": [b]}),
        );
        let uid = id(&post(
            &i,
            "users/",
            json!({"username": "u", "password": "ipsum1$", "batches": ["B"]}),
        ));
        post(
            &i,
            &format!("users/{uid}/courses/"),
            json!({"courses": [c]}),
        );
        let courses = format!("{USERS}{uid}/courses/");
        assert_eq!(
            expect(&i, "GET", &courses, None, 200)["count"],
            1,
            "one course, two ways"
        );
        expect(&i, "DELETE", &courses, Some(json!({"courses": [c]})), 204);
        assert_eq!(
            expect(&i, "GET", &courses, None, 200)["count"],
            1,
            "still through the batch"
        );
        expect(
            &i,
            "DELETE",
            &format!("{USERS}{uid}/batches/"),
            Some(json!({"batches": [b]})),
            204,
        );
        assert_eq!(expect(&i, "GET", &courses, None, 200)["count"], 0);
    }

    #[test]
    fn slugs_are_unique_and_derived() {
        let (i, _) = institute(SEED_NOW);
        assert_eq!(post(&i, "courses/", json!({"title": "TD"}))["slug"], "td");
        assert_eq!(
            post(&i, "courses/create/", json!({"title": "td!"}))["slug"],
            "td-2"
        );
        let r = call(
            &i,
            "POST",
            "/api/v2.5/admin/courses/",
            Some(json!({"title": "X", "slug": "td"})),
        );
        assert_eq!((r.status, r.json()["slug"][0].is_string()), (400, true));
        let r = call(
            &i,
            "POST",
            "/api/v2.5/admin/courses/",
            Some(json!({"description": "no title"})),
        );
        assert_eq!(r.json(), json!({"title": ["This field is required."]}));
    }

    /// Without a usable title the slug is `course-<id>`; a taken slug takes
    /// the first free suffix, counting up.
    #[test]
    fn a_derived_slug_counts_up_and_falls_back_to_the_id() {
        let (i, _) = institute(SEED_NOW);
        let slugs: Vec<Value> = ["Go", "GO!", "go?", "!!!"]
            .iter()
            .map(|t| post(&i, "courses/", json!({"title": t}))["slug"].clone())
            .collect();
        let last = &post(&i, "courses/", json!({"title": "¿?"}));
        assert_eq!(
            slugs,
            [json!("go"), json!("go-2"), json!("go-3"), json!("course-4")]
        );
        assert_eq!(last["slug"], format!("course-{}", id(last)));
    }

    /// `q=` keeps the courses whose title (ignoring case) or slug holds the
    /// text.
    #[test]
    fn q_matches_the_title_or_the_slug() {
        let (i, _) = institute(SEED_NOW);
        post(
            &i,
            "courses/",
            json!({"title": "Physics", "slug": "sci-101"}),
        );
        post(&i, "courses/", json!({"title": "Chemistry 101"}));
        post(&i, "courses/", json!({"title": "Poetry"}));
        let found = |q: &str| {
            let path = format!("/api/v2.5/admin/courses/?q={q}");
            names(&expect(&i, "GET", &path, None, 200))
        };
        assert_eq!(found("101"), ["Physics", "Chemistry 101"]);
        assert_eq!(found("SCI"), ["Physics"], "the slug alone");
        assert_eq!(found("PHYS"), ["Physics"], "the title alone");
        assert_eq!(found("try"), ["Chemistry 101", "Poetry"]);
        assert_eq!(found("xyz"), Vec::<String>::new());
    }

    /// A course's `modified` moves when it changes, and only then; a new
    /// title renames its hidden batch, stamped too, as a subscription
    /// through it shows.
    #[test]
    fn a_new_title_renames_the_hidden_batch_and_each_is_stamped_only_when_it_changes() {
        let (i, clock) = institute(SEED_NOW);
        let admin = i.operator();
        let titled = |title: &str| CourseInput {
            title: Some(title.into()),
            ..Default::default()
        };
        let c = admin.create_course(titled("Algebra")).unwrap();
        let uid = new_user(&i, "u");
        admin.add_user_courses(uid, &[c.id]).unwrap();
        let hidden = || {
            let subs = admin
                .user_subscriptions(uid, PageRequest::default())
                .unwrap();
            assert_eq!(subs.items.len(), 1);
            subs.items[0].batch.clone()
        };
        assert_eq!(
            (hidden().name.as_str(), hidden().modified),
            ("Algebra", at(0))
        );
        clock.advance(HOUR);
        let same = admin.update_course(c.id, titled("Algebra")).unwrap();
        assert_eq!(same.modified, at(0), "the same title again");
        assert_eq!(hidden().modified, at(0));
        let public = CourseInput {
            is_public: Some(true),
            ..Default::default()
        };
        let opened = admin.update_course(c.id, public).unwrap();
        assert_eq!((opened.title.as_str(), opened.modified), ("Algebra", at(1)));
        assert_eq!(hidden().modified, at(0), "the title did not change");
        clock.advance(HOUR);
        let renamed = admin.update_course(c.id, titled("Geometry")).unwrap();
        assert_eq!((renamed.created, renamed.modified), (at(0), at(2)));
        let batch = hidden();
        assert_eq!(
            (batch.name.as_str(), batch.created, batch.modified),
            ("Geometry", at(0), at(2))
        );
        assert_eq!(admin.get_batch(batch.id).unwrap(), batch);
        assert!(i.check_integrity().unwrap().is_empty());
    }

    #[test]
    fn deleting_a_course_ends_its_grants() {
        let (i, _) = institute(SEED_NOW);
        let c = id(&post(&i, "courses/", json!({"title": "C"})));
        let uid = new_user(&i, "u");
        post(
            &i,
            &format!("users/{uid}/courses/"),
            json!({"courses": [c]}),
        );
        expect(
            &i,
            "DELETE",
            &format!("/api/v2.5/admin/courses/{c}/"),
            None,
            204,
        );
        assert_eq!(
            expect(
                &i,
                "GET",
                &format!("{USERS}{uid}/subscriptions/"),
                None,
                200
            )["count"],
            0
        );
        assert!(i.check_integrity().expect("check").is_empty());
    }
}

mod lifecycle {
    use super::*;

    #[test]
    fn delete_removes_everything_and_frees_the_username_and_email() {
        let (i, _) = institute(SEED_NOW);
        post(&i, "batches/", json!({"name": "B"}));
        post(
            &i,
            "custom-fields/",
            json!({"name": "Roll", "type": "text"}),
        );
        let c = id(&post(&i, "courses/", json!({"title": "C"})));
        let uid = id(&post(
            &i,
            "users/",
            json!({"username": "lorem", "password": "ipsum1$", "email": "t@x.in", "phone": "9787231006",
            "batches": ["B"], "custom_fields": {"roll": "R1"}}),
        ));
        post(
            &i,
            &format!("users/{uid}/courses/"),
            json!({"courses": [c]}),
        );
        expect(&i, "DELETE", &format!("{USERS}{uid}/"), None, 204);
        for tail in ["", "batches/", "courses/", "subscriptions/"] {
            assert_eq!(
                call(&i, "GET", &format!("{USERS}{uid}/{tail}"), None).status,
                404,
                "{tail}"
            );
        }
        assert_eq!(
            call(&i, "DELETE", &format!("{USERS}{uid}/"), None).status,
            404
        );
        assert!(i.check_integrity().expect("check").is_empty());
        let again = id(&post(
            &i,
            "users/",
            json!({"username": "LOREM", "password": "ipsum1$", "email": "T@X.IN", "phone": "+91 97872 31006"}),
        ));
        assert!(again > uid, "ids are never reused");
    }

    #[test]
    fn a_new_user_keeps_its_given_states_and_is_stamped_with_the_clock() {
        let (i, clock) = institute(SEED_NOW);
        let now = roster_tests::at(SEED_NOW);
        let made = |name: &str, blocked, active| {
            let input = NewUser {
                username: Some(name.into()),
                password: Some("ipsum1$x".into()),
                is_blocked: blocked,
                is_active: active,
                ..Default::default()
            };
            let admin = i.operator();
            let view = admin
                .create_user(input, CreateOptions::default())
                .unwrap()
                .user;
            (view.is_blocked, view.is_active, view.created, view.modified)
        };
        assert_eq!(made("plain", None, None), (false, true, now, now));
        assert_eq!(made("blocked", Some(true), None), (true, true, now, now));
        assert_eq!(
            made("inactive", None, Some(false)),
            (false, false, now, now)
        );
        // Stored so: read back after the clock moved on.
        clock.advance(chrono::Duration::hours(1));
        let id = i.operator().find_user("blocked").unwrap();
        let view = i.operator().get_user(id).unwrap();
        assert_eq!(
            (view.is_blocked, view.created, view.modified),
            (true, now, now)
        );
        assert!(i.login("blocked", "ipsum1$x").is_err(), "a blocked user");
        // Its password set at the same instant (the full export alone
        // shows it).
        let record = roster_tests::exported_user(&i, id);
        assert_eq!(
            record["password_changed"],
            now.timestamp_micros(),
            "{record}"
        );
    }

    #[test]
    fn ids_are_never_reused_even_after_the_newest_is_deleted() {
        let (i, _) = institute(SEED_NOW);
        let a = new_user(&i, "a");
        expect(&i, "DELETE", &format!("{USERS}{a}/"), None, 204);
        let b = new_user(&i, "b");
        assert_eq!(b, a + 1);
        let x = id(&post(&i, "batches/", json!({"name": "X"})));
        expect(
            &i,
            "DELETE",
            &format!("/api/v2.5/admin/batches/{x}/"),
            None,
            204,
        );
        assert_eq!(id(&post(&i, "batches/", json!({"name": "X"}))), x + 1);
    }

    #[test]
    fn a_failed_create_writes_nothing() {
        let (i, _) = institute(SEED_NOW);
        post(&i, "batches/", json!({"name": "Test Batch"}));
        let before = snapshot(&i);
        let r = call(
            &i,
            "POST",
            USERS,
            Some(
                json!({"username": "lorem", "password": "ipsum1$", "batches": ["Test Batch", "Nope"]}),
            ),
        );
        assert_eq!(r.status, 400);
        assert_eq!(
            r.json(),
            json!({"batches": ["Batch \"Nope\" does not exist."]})
        );
        assert_eq!(snapshot(&i), before);
        // The id was not used up either.
        assert_eq!(new_user(&i, "lorem"), 1);
    }

    #[test]
    fn all_field_errors_come_together() {
        let (i, _) = institute(SEED_NOW);
        new_user(&i, "taken");
        let r = call(
            &i,
            "POST",
            USERS,
            Some(
                json!({"username": "TAKEN", "password": "123", "email": "bad", "phone": "12",
            "birth_date": "29/02/2023", "zip": "012345", "state": "IN-XX", "gender_code": "x", "custom_fields": {"Nope": 1}}),
            ),
        );
        assert_eq!(r.status, 400);
        let body = r.json();
        for field in [
            "username",
            "password",
            "email",
            "phone",
            "birth_date",
            "zip",
            "state",
            "gender_code",
            "custom_fields",
        ] {
            assert!(body.get(field).is_some(), "{field} missing from {body}");
        }
        assert_eq!(
            body["custom_fields"],
            json!({"Nope": ["There is no custom field of this name."]})
        );
        assert_eq!(
            body["username"],
            json!(["A user with that username already exists."])
        );
    }

    #[test]
    fn update_changes_present_fields_only_and_clears_with_null_or_empty() {
        let (i, _) = institute(SEED_NOW);
        let uid = id(&post(
            &i,
            "users/",
            json!({"username": "u", "password": "ipsum1$", "city": "Chennai", "zip": "600001", "state": "IN-TN", "birth_date": "01/01/2000"}),
        ));
        let path = format!("{USERS}{uid}/");
        let v = expect(
            &i,
            "PATCH",
            &path,
            Some(
                json!({"first_name": "Ravi", "id": 999, "gender": "Female", "password_hash": "x", "unknown": 1}),
            ),
            200,
        );
        assert_eq!(
            (
                v["id"].as_u64(),
                v["first_name"].as_str(),
                v["city"].as_str()
            ),
            (Some(uid), Some("Ravi"), Some("Chennai"))
        );
        assert_eq!(v["gender"], "", "read-only fields are ignored");
        let v = expect(
            &i,
            "PUT",
            &path,
            Some(
                json!({"city": null, "zip": "", "state": "", "birth_date": null, "is_active": "false"}),
            ),
            200,
        );
        assert_eq!(
            (
                v["city"].as_str(),
                v["zip"].as_str(),
                v["state"].as_str(),
                v["state_code"].as_str()
            ),
            (Some(""), Some(""), Some(""), Some(""))
        );
        assert!(v["birth_date"].is_null());
        assert_eq!(v["is_active"], false);
        assert_eq!(v["first_name"], "Ravi");
    }

    #[test]
    fn state_input_takes_codes_aliases_and_names() {
        let (i, _) = institute(SEED_NOW);
        let uid = new_user(&i, "u");
        let path = format!("{USERS}{uid}/");
        for (input, name, code) in [
            ("in-or", "Odisha", "IN-OD"),
            ("IN-UL", "Uttarakhand", "IN-UK"),
            ("Tamil Nadu", "Tamil Nadu", "IN-TN"),
        ] {
            let v = expect(&i, "PUT", &path, Some(json!({"state": input})), 200);
            assert_eq!(
                (v["state"].as_str(), v["state_code"].as_str()),
                (Some(name), Some(code)),
                "{input}"
            );
        }
        let v = expect(&i, "PUT", &path, Some(json!({"state_code": "IN-DN"})), 200);
        assert_eq!(v["state"], "Dadra and Nagar Haveli and Daman and Diu");
        // A representation read back can be sent unchanged.
        let read = expect(&i, "GET", &path, None, 200);
        assert_eq!(
            expect(&i, "PUT", &path, Some(read.clone()), 200)["state_code"],
            read["state_code"]
        );
        // A blank (or null) code beside a name is no code: the name is the
        // change (a user read back with no state carries `state_code: ""`).
        for blank in [json!(""), json!(null)] {
            let body = json!({"state": "IN-TN", "state_code": blank});
            let v = expect(&i, "PUT", &path, Some(body), 200);
            assert_eq!(v["state_code"], "IN-TN", "{blank}");
            expect(&i, "PUT", &path, Some(json!({"state_code": ""})), 200);
        }
        let body = json!({"username": "stated", "password": "secret-pass-1",
            "state": "IN-KL", "state_code": ""});
        let v = expect(&i, "POST", USERS, Some(body), 201);
        assert_eq!(v["state_code"], "IN-KL");
        // A code given beside a name still wins.
        let body = json!({"state": "IN-KL", "state_code": "IN-TN"});
        assert_eq!(
            expect(&i, "PUT", &path, Some(body), 200)["state_code"],
            "IN-TN"
        );
    }
}

mod custom_fields {
    use super::*;

    #[test]
    fn names_match_ignoring_case_and_deleting_a_definition_removes_its_values() {
        let (i, _) = institute(SEED_NOW);
        let f = id(&post(
            &i,
            "custom-fields/",
            json!({"name": "Graduation Year", "type": "number"}),
        ));
        post(
            &i,
            "custom-fields/",
            json!({"name": "Stream", "type": "choice", "choices": ["Science", "Commerce"]}),
        );
        let r = call(
            &i,
            "POST",
            "/api/v2.5/admin/custom-fields/",
            Some(json!({"name": " graduation year ", "type": "text"})),
        );
        assert_eq!(r.status, 400, "names are unique ignoring case");
        let uid = id(&post(
            &i,
            "users/",
            json!({"username": "u", "password": "ipsum1$", "custom_fields": {"GRADUATION YEAR ": 2020, "stream": "science"}}),
        ));
        let v = expect(&i, "GET", &format!("{USERS}{uid}/"), None, 200);
        assert_eq!(
            v["custom_fields"],
            json!({"Graduation Year": 2020, "Stream": "Science"})
        );
        let r = call(
            &i,
            "PUT",
            &format!("{USERS}{uid}/"),
            Some(json!({"custom_fields": {"Graduation Year": "2020"}})),
        );
        assert_eq!(
            r.json(),
            json!({"custom_fields": {"Graduation Year": ["A valid number is required."]}})
        );
        expect(
            &i,
            "DELETE",
            &format!("/api/v2.5/admin/custom-fields/{f}/"),
            None,
            204,
        );
        let v = expect(&i, "GET", &format!("{USERS}{uid}/"), None, 200);
        assert_eq!(v["custom_fields"], json!({"Stream": "Science"}));
        assert!(i.check_integrity().expect("check").is_empty());
    }

    #[test]
    fn required_fields_are_required_on_create() {
        let (i, _) = institute(SEED_NOW);
        post(
            &i,
            "custom-fields/",
            json!({"name": "Roll", "type": "text", "required": true}),
        );
        let r = call(
            &i,
            "POST",
            USERS,
            Some(json!({"username": "u", "password": "ipsum1$"})),
        );
        assert_eq!(
            r.json(),
            json!({"custom_fields": {"Roll": ["This field is required."]}})
        );
        let uid = id(&post(
            &i,
            "users/",
            json!({"username": "u", "password": "ipsum1$", "custom_fields": {"roll": "R1"}}),
        ));
        expect(
            &i,
            "PUT",
            &format!("{USERS}{uid}/"),
            Some(json!({"city": "Pune"})),
            200,
        );
        assert_eq!(
            call(
                &i,
                "PUT",
                &format!("{USERS}{uid}/"),
                Some(json!({"custom_fields": {"Roll": null}}))
            )
            .status,
            400
        );
    }

    /// SPEC: "`null` or `""` clears an optional field on update";
    /// `custom_fields` is one, so `null` clears every value, and a
    /// required field then needs one in the same request.
    #[test]
    fn a_null_map_clears_every_value_unless_one_is_required() {
        let (i, _) = institute(SEED_NOW);
        post(
            &i,
            "custom-fields/",
            json!({"name": "Stream", "type": "choice", "choices": ["Science", "Arts"]}),
        );
        post(
            &i,
            "custom-fields/",
            json!({"name": "Club", "type": "text"}),
        );
        let uid = id(&post(
            &i,
            "users/",
            json!({"username": "u", "password": "ipsum1$", "custom_fields": {"stream": "arts", "club": "Chess"}}),
        ));
        let user = format!("{USERS}{uid}/");
        let v = expect(&i, "PATCH", &user, Some(json!({"custom_fields": {}})), 200);
        assert_eq!(
            v["custom_fields"],
            json!({"Stream": "Arts", "Club": "Chess"}),
            "an empty map changes nothing"
        );
        let v = expect(
            &i,
            "PUT",
            &user,
            Some(json!({"custom_fields": null, "city": "Pune"})),
            200,
        );
        assert_eq!(v["custom_fields"], json!({}));
        assert_eq!(v["city"], "Pune");
        assert_eq!(
            expect(&i, "GET", &user, None, 200)["custom_fields"],
            json!({})
        );

        // With a required field, `null` alone is refused and nothing changes.
        expect(
            &i,
            "PATCH",
            &user,
            Some(json!({"custom_fields": {"Stream": "Science", "Club": "Go"}})),
            200,
        );
        post(
            &i,
            "custom-fields/",
            json!({"name": "Roll", "type": "text", "required": true}),
        );
        expect(
            &i,
            "PATCH",
            &user,
            Some(json!({"custom_fields": {"roll": "R7"}})),
            200,
        );
        let before = expect(&i, "GET", &user, None, 200);
        let r = call(
            &i,
            "PATCH",
            &user,
            Some(json!({"custom_fields": null, "city": "Goa"})),
        );
        assert_eq!(
            r.json(),
            json!({"custom_fields": {"Roll": ["This field is required."]}})
        );
        assert_eq!(expect(&i, "GET", &user, None, 200), before);
        // The typed API can clear and give in one call: only the given stay.
        let view = i
            .operator()
            .update_user(
                uid,
                UserPatch {
                    profile: ProfileInput {
                        clear_custom_fields: true,
                        custom_fields: vec![("roll".into(), CustomInput::Text("R8".into()))],
                        ..Default::default()
                    },
                    ..Default::default()
                },
            )
            .expect("updated");
        let names: Vec<&str> = view.custom_fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["Roll"]);
        assert!(i.check_integrity().expect("check").is_empty());
    }

    /// A definition's `modified` moves when it changes, and only then.
    #[test]
    fn a_definition_is_stamped_only_when_it_changes() {
        let (i, clock) = institute(SEED_NOW);
        let admin = i.operator();
        let named = |name: &str| CustomFieldInput {
            name: Some(name.into()),
            ..Default::default()
        };
        let text = CustomFieldInput {
            kind: Some("text".into()),
            ..named("Roll number")
        };
        let f = admin.create_custom_field(text).unwrap();
        assert_eq!((f.created, f.modified), (at(0), at(0)));
        clock.advance(HOUR);
        let same = admin
            .update_custom_field(f.id, named("Roll number"))
            .unwrap();
        assert_eq!(same.modified, at(0), "the same name again");
        let required = CustomFieldInput {
            required: Some(true),
            ..Default::default()
        };
        let changed = admin.update_custom_field(f.id, required).unwrap();
        assert_eq!((changed.required, changed.modified), (true, at(1)));
        assert_eq!(admin.get_custom_field(f.id).unwrap(), changed);
    }
}

mod typed_api {
    use super::*;

    #[test]
    fn auto_generated_passwords_are_returned_once_and_never_by_rest() {
        let (i, _) = institute(SEED_NOW);
        let admin = i.operator();
        let options = CreateOptions {
            auto_generate_password: true,
            notify_credential: false,
            ..Default::default()
        };
        let created = admin
            .create_user(
                NewUser {
                    username: Some("gen".into()),
                    ..Default::default()
                },
                options,
            )
            .expect("created");
        let password = created.generated_password.expect("a generated password");
        assert!(
            roster::domain::rules::password(&password, "gen", &i.config().password_policy).is_ok()
        );
        let r = call(
            &i,
            "POST",
            &format!("{USERS}?auto_generate_password=true"),
            Some(json!({"username": "rest"})),
        );
        assert_eq!(r.status, 201);
        let body = r.body.unwrap_or_default();
        assert!(!body.contains("password"), "{body}");
        assert!(!body.contains("argon2"), "{body}");
        let r = call(&i, "POST", USERS, Some(json!({"username": "nopass"})));
        assert_eq!(r.json(), json!({"password": ["This field is required."]}));
    }

    #[test]
    fn errors_carry_stable_codes() {
        let (i, _) = institute(SEED_NOW);
        let admin = i.operator();
        assert_eq!(admin.get_user(7).unwrap_err().code(), ErrorCode::NotFound);
        let e = admin
            .create_user(NewUser::default(), CreateOptions::default())
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::Validation);
        assert_eq!(e.code().as_str(), "validation_failed");
        assert!(e.fields().has("username") && e.fields().has("password"));
        let e = admin.update_user(7, UserPatch::default()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::NotFound);
        let e = admin.user_batches(1, PageRequest::page(1)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::NotFound);
    }

    #[test]
    fn check_new_user_reports_without_writing() {
        let (i, _) = institute(SEED_NOW);
        let admin = i.operator();
        let input = NewUser {
            username: Some("u".into()),
            password: Some("ipsum1$".into()),
            profile: ProfileInput {
                zip: Some("0".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let errors = admin
            .check_new_user(&input, CreateOptions::default())
            .expect("checked");
        assert!(errors.has("zip"));
        assert_eq!(
            admin
                .list_users(&roster::UserQuery::default())
                .expect("list")
                .count,
            0
        );
    }
}

mod store {
    use super::*;

    #[test]
    fn a_file_store_keeps_everything_across_reopening() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("institute.redb");
        let (config, _) = roster_tests::config(SEED_NOW);
        let uid = {
            let i = Institute::open(&path, config.clone()).expect("create");
            post(&i, "batches/", json!({"name": "B"}));
            id(&post(
                &i,
                "users/",
                json!({"username": "lorem", "password": "ipsum1$", "batches": ["B"], "expires": "2023-02-01"}),
            ))
        };
        let i = Institute::open(&path, config).expect("reopen");
        let v = expect(
            &i,
            "GET",
            &format!("{USERS}{uid}/subscriptions/"),
            None,
            200,
        );
        assert_eq!(v["results"][0]["expires"], "2023-02-01");
        assert!(i.check_integrity().expect("check").is_empty());
    }

    #[test]
    fn a_shared_file_can_be_opened_twice_and_each_handle_sees_the_others_commits() {
        // Opened shared: as two processes would.
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("institute.redb");
        let (config, _) = roster_tests::config(SEED_NOW);
        let first = Institute::open_shared(&path, config.clone()).expect("create");
        let second = Institute::open_shared(&path, config.clone()).expect("open again");
        new_user(&first, "from-first");
        new_user(&second, "from-second");
        for i in [&first, &second] {
            for name in ["from-first", "from-second"] {
                i.operator().find_user(name).expect(name);
            }
        }
        // Opened for one process, the file refuses a second opener.
        drop((first, second));
        let only = Institute::open(&path, config.clone()).expect("open alone");
        let err = Institute::open_shared(&path, config).unwrap_err();
        assert_eq!(err.code(), roster::ErrorCode::Storage, "{err}");
        drop(only);
    }

    #[test]
    fn many_threads_read_while_one_writes() {
        let (i, _) = institute(SEED_NOW);
        new_user(&i, "seed");
        std::thread::scope(|s| {
            let writer = s.spawn(|| {
                for k in 0..50 {
                    new_user(&i, &format!("w{k}"));
                }
            });
            for _ in 0..3 {
                s.spawn(|| {
                    for _ in 0..50 {
                        let page = i
                            .operator()
                            .list_users(&roster::UserQuery::default())
                            .expect("list");
                        assert!(page.count >= 1);
                    }
                });
            }
            writer.join().expect("writer");
        });
        assert_eq!(expect(&i, "GET", USERS, None, 200)["count"], 51);
        assert!(i.check_integrity().expect("check").is_empty());
    }
}
