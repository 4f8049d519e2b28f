//! SPEC A7: no one takes over a stronger account. A caller may change
//! another user's password, sign-in identifiers (username, email, phone),
//! `is_active`/`is_staff`/`is_blocked`, groups or own permissions, unlock
//! it, end its sessions or delete it only when it holds every permission
//! that user holds (directly or through groups, active or not); superusers
//! and the operator are not limited. Every path is tried with every kind of
//! change: the Testpress API (v2.5 and v2.2, PUT and PATCH), the
//! Django-style API, self-service, the typed API; and the allowed cases
//! (equal or weaker targets, profile fields of a stronger one).

use roster::{
    AccessInput, Action, ErrorCode, GroupInput, Institute, Model, Permission, ProfileInput,
    UserPatch, UserView,
};
use roster_tests::{SEED_NOW, call_as, institute, superuser};
use serde_json::{Value, json};

use super::auth::{NO_PERMISSION, PASSWORD, perm, sign_in, user};

/// view, change and delete user: what the weaker administrator holds.
pub(super) fn weak_perms() -> Vec<u64> {
    vec![
        perm(Action::View, Model::User),
        perm(Action::Change, Model::User),
        perm(Action::Delete, Model::User),
    ]
}

/// The weaker set plus `delete_batch`.
pub(super) fn strong_perms() -> Vec<u64> {
    let mut p = weak_perms();
    p.push(perm(Action::Delete, Model::Batch));
    p
}

/// Active staff holding exactly `permissions`.
pub(super) fn staff_access(permissions: &[u64]) -> AccessInput {
    AccessInput {
        is_staff: Some(true),
        user_permissions: Some(permissions.to_vec()),
        ..Default::default()
    }
}

/// User `id` as the typed API shows it.
pub(super) fn view(i: &Institute, id: u64) -> UserView {
    i.operator().get_user(id).expect("user")
}

/// The world: a weaker administrator, and targets of every strength.
struct World {
    i: Institute,
    /// staff holding view/change/delete user.
    weak: String,
    /// staff holding the weaker set and `delete_batch` directly.
    strong: u64,
    /// staff holding the weaker set directly and `delete_batch` through a
    /// group.
    grouped: u64,
    /// not staff, holding `delete_batch`: staff-ness would make it stronger.
    dormant: u64,
    /// inactive staff holding `delete_batch`: activation would too.
    inactive: u64,
    /// a superuser.
    root: u64,
    /// staff holding exactly what the weaker administrator holds.
    peer: u64,
    /// no permission at all.
    student: u64,
    /// a group holding `delete_batch`.
    deleters: u64,
    /// a group holding `view_user`, which the weaker one holds.
    viewers: u64,
}

fn world() -> World {
    let (i, _) = institute(SEED_NOW);
    let admin = i.operator();
    let deleters = admin
        .create_group(GroupInput {
            name: Some("Deleters".into()),
            permissions: Some(vec![perm(Action::Delete, Model::Batch)]),
        })
        .expect("group")
        .id;
    let viewers = admin
        .create_group(GroupInput {
            name: Some("Viewers".into()),
            permissions: Some(vec![perm(Action::View, Model::User)]),
        })
        .expect("group")
        .id;
    user(&i, "weak", staff_access(&weak_perms()));
    let strong = user(&i, "strong", staff_access(&strong_perms()));
    let grouped = user(
        &i,
        "grouped",
        AccessInput {
            groups: Some(vec![deleters]),
            ..staff_access(&weak_perms())
        },
    );
    let dormant = user(
        &i,
        "dormant",
        AccessInput {
            user_permissions: Some(vec![perm(Action::Delete, Model::Batch)]),
            ..Default::default()
        },
    );
    let inactive = user(&i, "inactive", staff_access(&strong_perms()));
    admin
        .update_user(
            inactive,
            UserPatch {
                is_active: Some(false),
                ..Default::default()
            },
        )
        .expect("deactivate");
    let root = user(
        &i,
        "root",
        AccessInput {
            is_superuser: Some(true),
            is_staff: Some(true),
            ..Default::default()
        },
    );
    let peer = user(&i, "peer", staff_access(&weak_perms()));
    let student = user(&i, "student", AccessInput::default());
    let weak = sign_in(&i, "weak");
    World {
        i,
        weak,
        strong,
        grouped,
        dormant,
        inactive,
        root,
        peer,
        student,
        deleters,
        viewers,
    }
}

/// The changes that control an account, as REST bodies of the Testpress
/// API (which has no access fields), each a real change of `before`.
fn testpress_changes(before: &UserView) -> Vec<Value> {
    vec![
        json!({"password": "taken-over-9"}),
        json!({"username": "renamed"}),
        json!({"email": "attacker@example.com"}),
        json!({"phone": "9787231006"}),
        json!({"is_active": !before.is_active}),
        json!({"is_blocked": !before.is_blocked}),
        // Mixed with a harmless field, the whole change is refused.
        json!({"first_name": "Mallory", "email": "attacker@example.com"}),
    ]
}

/// The Django-style API also carries the access fields.
fn django_changes(w: &World, before: &UserView) -> Vec<Value> {
    let mut all = testpress_changes(before);
    let groups = match before.groups.is_empty() {
        true => json!([w.viewers]),
        false => json!([]),
    };
    let permissions = match before.user_permissions.is_empty() {
        true => json!([perm(Action::View, Model::User)]),
        false => json!([]),
    };
    all.extend([
        json!({"is_staff": !before.is_staff}),
        json!({ "groups": groups }),
        json!({ "user_permissions": permissions }),
    ]);
    all
}

/// The same changes through the typed API.
fn typed_changes(w: &World, before: &UserView) -> Vec<UserPatch> {
    let access = |access: AccessInput| UserPatch {
        access,
        ..Default::default()
    };
    vec![
        UserPatch {
            password: Some("taken-over-9".into()),
            ..Default::default()
        },
        UserPatch {
            username: Some("renamed".into()),
            ..Default::default()
        },
        UserPatch {
            profile: ProfileInput {
                email: Some("attacker@example.com".into()),
                ..Default::default()
            },
            ..Default::default()
        },
        UserPatch {
            profile: ProfileInput {
                phone: Some("9787231006".into()),
                ..Default::default()
            },
            ..Default::default()
        },
        UserPatch {
            is_active: Some(!before.is_active),
            ..Default::default()
        },
        UserPatch {
            is_blocked: Some(!before.is_blocked),
            ..Default::default()
        },
        access(AccessInput {
            is_staff: Some(!before.is_staff),
            ..Default::default()
        }),
        access(AccessInput {
            groups: Some(match before.groups.is_empty() {
                true => vec![w.viewers],
                false => vec![],
            }),
            ..Default::default()
        }),
        access(AccessInput {
            user_permissions: Some(match before.user_permissions.is_empty() {
                true => vec![perm(Action::View, Model::User)],
                false => vec![],
            }),
            ..Default::default()
        }),
    ]
}

/// The user paths of every API: (item path prefix, whether it takes the
/// access fields).
const PATHS: [(&str, bool); 3] = [
    ("/api/v2.5/admin/users/", false),
    ("/api/v2.2/admin/users/", false),
    ("/api/admin/users/", true),
];

#[track_caller]
fn assert_403(r: &roster::rest::Response, what: &str) {
    assert_eq!(
        (r.status, r.json()),
        (403, json!({ "detail": NO_PERMISSION })),
        "{what}"
    );
}

#[track_caller]
fn assert_forbidden(result: roster::Result<impl std::fmt::Debug>, what: &str) {
    let e = result.expect_err(what);
    assert_eq!(
        (e.code(), e.message()),
        (ErrorCode::Forbidden, NO_PERMISSION),
        "{what}"
    );
}

/// Sign-in with [`PASSWORD`] works for `name` (so the password, the
/// identifiers and the flags are as they were).
#[track_caller]
fn still_signs_in(i: &Institute, name: &str) {
    assert!(i.login(name, PASSWORD).is_ok(), "{name} still signs in");
}

mod refused {
    use super::*;

    /// A body with a type error is answered with every field's errors at
    /// once, but only after the caller's right to the change: otherwise the
    /// errors would tell a refused caller whether a guess is a stronger
    /// account's username (the password policy's similarity rule) or which
    /// identifiers are taken.
    #[test]
    fn a_body_with_a_type_error_is_refused_before_its_fields_are_checked() {
        let w = world();
        let names = [
            (w.strong, "strong"),
            (w.grouped, "grouped"),
            (w.dormant, "dormant"),
            (w.inactive, "inactive"),
            (w.root, "root"),
        ];
        for (target, name) in names {
            let before = view(&w.i, target);
            for (prefix, _) in PATHS {
                let path = format!("{prefix}{target}/");
                for body in [
                    json!({"password": name, "first_name": 5}),
                    json!({"email": "peer@example.com", "first_name": 5}),
                    json!({"username": "PEER", "first_name": 5}),
                ] {
                    let r = call_as(&w.i, &w.weak, "PATCH", &path, Some(body.clone()));
                    assert_403(&r, &format!("PATCH {path} {body}"));
                }
            }
            assert_eq!(view(&w.i, target), before, "user {target} unchanged");
        }
        // A change the caller may make still gets its field errors.
        let path = format!("/api/v2.5/admin/users/{}/", w.strong);
        let body = json!({"first_name": 5});
        let r = call_as(&w.i, &w.weak, "PATCH", &path, Some(body));
        assert_eq!(r.status, 400, "{:?}", r.body);
        assert!(r.json()["first_name"].is_array(), "{:?}", r.body);
    }

    /// Every kind of change, on every REST path, PUT and PATCH, against
    /// every stronger target: 403 and nothing changes.
    #[test]
    fn every_rest_path_refuses_every_control_change_of_a_stronger_account() {
        let w = world();
        for target in [w.strong, w.grouped, w.dormant, w.inactive, w.root] {
            let before = view(&w.i, target);
            for (prefix, access) in PATHS {
                let changes = match access {
                    true => django_changes(&w, &before),
                    false => testpress_changes(&before),
                };
                for body in changes {
                    for method in ["PUT", "PATCH"] {
                        let path = format!("{prefix}{target}/");
                        let r = call_as(&w.i, &w.weak, method, &path, Some(body.clone()));
                        assert_403(&r, &format!("{method} {path} {body}"));
                    }
                }
                let path = format!("{prefix}{target}/");
                let r = call_as(&w.i, &w.weak, "DELETE", &path, None);
                assert_403(&r, &format!("DELETE {path}"));
            }
            assert_eq!(view(&w.i, target), before, "user {target} unchanged");
        }
        for name in ["strong", "grouped", "dormant", "root"] {
            still_signs_in(&w.i, name);
        }
        assert_eq!(w.i.check_integrity().unwrap(), Vec::<String>::new());
    }

    /// The typed API: the same rule, with the same error.
    #[test]
    fn the_typed_api_refuses_every_control_change_of_a_stronger_account() {
        let w = world();
        let weak = w.i.session(&w.weak).unwrap();
        for target in [w.strong, w.grouped, w.dormant, w.inactive, w.root] {
            let before = view(&w.i, target);
            for patch in typed_changes(&w, &before) {
                assert_forbidden(
                    weak.update_user(target, patch.clone()),
                    &format!("{patch:?} of {target}"),
                );
            }
            assert_forbidden(weak.delete_user(target), "delete");
            assert_forbidden(weak.unlock_user(target), "unlock");
            assert_forbidden(weak.logout_everywhere(target), "logout everywhere");
            assert_eq!(view(&w.i, target), before, "user {target} unchanged");
        }
        // Turning staff on for a user holding more is the same takeover.
        let patch = UserPatch {
            access: AccessInput {
                is_staff: Some(true),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_forbidden(weak.update_user(w.dormant, patch), "is_staff on");
        let patch = UserPatch {
            is_active: Some(true),
            ..Default::default()
        };
        assert_forbidden(weak.update_user(w.inactive, patch), "is_active on");
    }

    /// The ended sessions of a stronger account are a denial of service
    /// at least: its sessions survive a weaker caller's attempts.
    #[test]
    fn a_stronger_accounts_sessions_survive() {
        let w = world();
        let token = sign_in(&w.i, "strong");
        let weak = w.i.session(&w.weak).unwrap();
        assert_forbidden(weak.logout_everywhere(w.strong), "logout everywhere");
        let r = call_as(
            &w.i,
            &w.weak,
            "PUT",
            &format!("/api/v2.5/admin/users/{}/", w.strong),
            Some(json!({"password": "taken-over-9"})),
        );
        assert_403(&r, "password");
        assert!(w.i.session(&token).is_ok(), "the session goes on");
    }

    /// The unlock path, v2.5 and v2.2, with and without the trailing slash:
    /// a locked stronger account stays locked.
    #[test]
    fn the_unlock_path_refuses_a_stronger_account() {
        let w = world();
        for _ in 0..5 {
            assert!(w.i.login("strong", "wrong-guess").is_err());
        }
        assert!(w.i.login("strong", PASSWORD).is_err(), "locked");
        for version in ["v2.5", "v2.2"] {
            for slash in ["/", ""] {
                let path = format!("/api/{version}/admin/users/{}/unlock{slash}", w.strong);
                let r = call_as(&w.i, &w.weak, "POST", &path, None);
                assert_403(&r, &path);
            }
        }
        assert!(w.i.login("strong", PASSWORD).is_err(), "still locked");
        let root = superuser(&w.i);
        let path = format!("/api/v2.5/admin/users/{}/unlock/", w.strong);
        let r = call_as(&w.i, &root, "POST", &path, None);
        assert_eq!(r.status, 204, "{:?}", r.body);
        still_signs_in(&w.i, "strong");
    }

    /// Self-service changes only the caller's own profile: the identifiers
    /// it may change are checked against every other user's, and the
    /// access fields, the username and the password in its body are ignored.
    #[test]
    fn self_service_cannot_raise_itself_or_reach_others() {
        let w = world();
        let weak_id = w.i.session(&w.weak).unwrap().me().unwrap().id;
        let before = view(&w.i, weak_id);
        let body = json!({
            "username": "strong2",
            "password": "taken-over-9",
            "is_staff": true,
            "is_superuser": true,
            "is_active": true,
            "is_blocked": false,
            "groups": [w.deleters],
            "user_permissions": strong_perms(),
            "id": w.strong,
        });
        for method in ["PUT", "PATCH"] {
            let r = call_as(&w.i, &w.weak, method, "/api/v2.5/me/", Some(body.clone()));
            assert_eq!(r.status, 200, "{:?}", r.body);
        }
        let after = view(&w.i, weak_id);
        assert_eq!(
            (
                &after.username,
                after.is_superuser,
                &after.groups,
                &after.user_permissions
            ),
            (
                &before.username,
                before.is_superuser,
                &before.groups,
                &before.user_permissions
            )
        );
        still_signs_in(&w.i, "weak");
        // Another user's email or username as one's own is refused.
        for email in ["strong@example.com", "STRONG@example.com", "strong"] {
            let r = call_as(
                &w.i,
                &w.weak,
                "PATCH",
                "/api/v2.5/me/",
                Some(json!({ "email": email })),
            );
            assert_eq!(r.status, 400, "{email}: {:?}", r.body);
        }
        // A student's self-service cannot make itself staff either.
        let student = sign_in(&w.i, "student");
        let r = call_as(
            &w.i,
            &student,
            "PATCH",
            "/api/v2.5/me/",
            Some(json!({"is_staff": true, "user_permissions": strong_perms()})),
        );
        assert_eq!(r.status, 200);
        let s = view(&w.i, w.student);
        assert!(!s.is_staff && s.user_permissions.is_empty());
        assert_eq!(view(&w.i, w.strong).email, "strong@example.com");
    }

    /// A new user cannot take a stronger user's sign-in identifiers, in any
    /// case or in the other namespace (username for email and back).
    #[test]
    fn a_new_user_cannot_borrow_a_stronger_users_identifiers() {
        let w = world();
        let creator = user(
            &w.i,
            "creator",
            staff_access(&[perm(Action::Add, Model::User)]),
        );
        let _ = creator;
        let token = sign_in(&w.i, "creator");
        for (username, email) in [
            ("STRONG", "fresh@example.com"),
            ("strong@example.com", "fresh@example.com"),
            ("fresh", "Strong@Example.com"),
            ("fresh", "strong"),
        ] {
            let body = json!({"username": username, "email": email, "password": PASSWORD});
            let r = call_as(&w.i, &token, "POST", "/api/v2.5/admin/users/", Some(body));
            assert_eq!(r.status, 400, "{username} {email}: {:?}", r.body);
        }
        // Nor be made stronger than its creator.
        let body = json!({
            "username": "fresh", "password": PASSWORD, "last_name": "X",
            "is_staff": true, "groups": [w.deleters],
        });
        let r = call_as(&w.i, &token, "POST", "/api/admin/users/", Some(body));
        assert_403(&r, "a group holding more");
        still_signs_in(&w.i, "strong");
    }

    /// The group endpoints have no member list: a body naming members adds
    /// nobody to a group.
    #[test]
    fn group_endpoints_do_not_change_membership() {
        let w = world();
        let root = superuser(&w.i);
        let path = format!("/api/admin/groups/{}/", w.deleters);
        for key in ["user_set", "users", "members"] {
            let body = json!({ key: [w.peer, w.student] });
            let r = call_as(&w.i, &root, "PATCH", &path, Some(body));
            assert_eq!(r.status, 200, "{:?}", r.body);
        }
        assert!(view(&w.i, w.peer).groups.is_empty());
        assert!(view(&w.i, w.student).groups.is_empty());
    }

    /// A superuser's account is another superuser's (or the operator's)
    /// to change, its profile fields included: a holder of `change_user`
    /// edits none of it, on any path or through the typed API.
    #[test]
    fn a_superusers_profile_is_not_editable_by_anyone_weaker() {
        let w = world();
        let before = view(&w.i, w.root);
        for (prefix, _) in PATHS {
            let path = format!("{prefix}{}/", w.root);
            for method in ["PUT", "PATCH"] {
                let body = json!({"first_name": "Renamed", "username": before.username});
                let r = call_as(&w.i, &w.weak, method, &path, Some(body));
                assert_403(&r, &format!("{method} {path}"));
            }
        }
        let renamed = UserPatch {
            profile: ProfileInput {
                first_name: Some("Renamed".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let weak = w.i.session(&w.weak).unwrap();
        assert_forbidden(weak.update_user(w.root, renamed), "typed update");
        assert_eq!(view(&w.i, w.root), before, "unchanged");
    }
}

mod allowed {
    use super::*;

    /// Every change on an equal or weaker account, on every path.
    #[test]
    fn equal_or_weaker_accounts_are_managed_as_before() {
        let w = world();
        let targets = [("peer", w.peer), ("student", w.student)];
        for (n, (prefix, access)) in PATHS.into_iter().enumerate() {
            for (name, like) in targets {
                let template = view(&w.i, like);
                let changes = match access {
                    true => django_changes(&w, &template),
                    false => testpress_changes(&template),
                };
                for (k, body) in changes.into_iter().enumerate() {
                    // A fresh target per change, as changes are lasting.
                    let fresh = format!("{name}{n}x{k}");
                    let id = user(
                        &w.i,
                        &fresh,
                        match name {
                            "peer" => staff_access(&weak_perms()),
                            _ => AccessInput::default(),
                        },
                    );
                    let mut body = body.clone();
                    if body.get("username").is_some() {
                        body["username"] = json!(format!("{fresh}-renamed"));
                    }
                    if body.get("email").is_some() {
                        body["email"] = json!(format!("{fresh}-new@example.com"));
                    }
                    if body.get("phone").is_some() {
                        body["phone"] = json!(format!("97872{:05}", id));
                    }
                    let path = format!("{prefix}{id}/");
                    let r = call_as(&w.i, &w.weak, "PATCH", &path, Some(body.clone()));
                    assert_eq!(r.status, 200, "PATCH {path} {body}: {:?}", r.body);
                    let r = call_as(&w.i, &w.weak, "DELETE", &path, None);
                    assert_eq!(r.status, 204, "DELETE {path}: {:?}", r.body);
                }
            }
        }
        // The typed API: unlock, logout everywhere, delete.
        let weak = w.i.session(&w.weak).unwrap();
        for target in [w.peer, w.student] {
            weak.unlock_user(target).expect("unlock");
            weak.logout_everywhere(target).expect("logout everywhere");
            weak.delete_user(target).expect("delete");
        }
    }

    /// Fields that grant nothing stay editable on a stronger account with
    /// `change_user`, and a PUT that repeats the current identifiers is no
    /// change of them.
    #[test]
    fn profile_fields_of_a_stronger_account_stay_editable() {
        let w = world();
        for target in [w.strong, w.grouped, w.dormant, w.inactive] {
            let before = view(&w.i, target);
            for (prefix, _) in PATHS {
                let body = json!({
                    "first_name": "Renamed",
                    "last_name": "Person",
                    "city": "Chennai",
                    "address1": "1 Main Road",
                    "username": before.username,
                    "email": before.email,
                    "is_active": before.is_active,
                    "is_blocked": before.is_blocked,
                });
                let path = format!("{prefix}{target}/");
                for method in ["PUT", "PATCH"] {
                    let r = call_as(&w.i, &w.weak, method, &path, Some(body.clone()));
                    assert_eq!(r.status, 200, "{method} {path}: {:?}", r.body);
                }
            }
            let after = view(&w.i, target);
            assert_eq!(
                (after.first_name.as_str(), after.city.as_str()),
                ("Renamed", "Chennai")
            );
            assert_eq!(
                (&after.username, &after.email, after.is_active),
                (&before.username, &before.email, before.is_active)
            );
        }
        still_signs_in(&w.i, "strong");
        // Batches are not access either.
        let admin = w.i.operator();
        admin
            .create_batch(roster::BatchInput {
                name: Some("Physics".into()),
            })
            .expect("batch");
        let weak = w.i.session(&w.weak).unwrap();
        let batch = admin.list_batches(None, Default::default()).unwrap().items[0].id;
        weak.add_user_batches(w.strong, &[batch]).expect("batches");
    }

    /// Superusers and the operator are not limited.
    #[test]
    fn superusers_and_the_operator_are_not_limited() {
        let w = world();
        let root = superuser(&w.i);
        for (k, target) in [w.strong, w.grouped].into_iter().enumerate() {
            let path = format!("/api/admin/users/{target}/");
            let body = json!({
                "password": "new-secret-2", "username": format!("renamed{k}"),
                "email": format!("renamed{k}@example.com"), "is_blocked": true,
                "groups": [], "user_permissions": [],
            });
            let r = call_as(&w.i, &root, "PATCH", &path, Some(body));
            assert_eq!(r.status, 200, "{:?}", r.body);
            w.i.session(&root)
                .unwrap()
                .unlock_user(target)
                .expect("unlock");
        }
        let operator = w.i.operator();
        operator
            .update_user(
                w.dormant,
                UserPatch {
                    access: AccessInput {
                        is_staff: Some(true),
                        ..Default::default()
                    },
                    ..Default::default()
                },
            )
            .expect("operator");
        operator
            .delete_user(w.root)
            .expect("operator deletes a superuser");
        let r = call_as(
            &w.i,
            &root,
            "DELETE",
            &format!("/api/v2.5/admin/users/{}/", w.inactive),
            None,
        );
        assert_eq!(r.status, 204);
    }

    /// A staff member holding what the target holds may manage it, and
    /// its own account.
    #[test]
    fn holding_as_much_is_enough() {
        let w = world();
        user(&w.i, "equal", staff_access(&strong_perms()));
        let equal = sign_in(&w.i, "equal");
        let r = call_as(
            &w.i,
            &equal,
            "PATCH",
            &format!("/api/admin/users/{}/", w.grouped),
            Some(json!({"password": "new-secret-2", "is_blocked": true})),
        );
        assert_eq!(r.status, 200, "{:?}", r.body);
        let me = w.i.session(&w.weak).unwrap().me().unwrap().id;
        let r = call_as(
            &w.i,
            &w.weak,
            "PATCH",
            &format!("/api/v2.5/admin/users/{me}/"),
            Some(json!({"email": "weak2@example.com"})),
        );
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
}

/// The adversarial pass of step 6: a weaker administrator who may also
/// manage groups, and an anonymous client.
mod redteam {
    use super::*;

    /// staff holding the weaker set and every group permission.
    fn grouper(w: &World) -> (u64, String) {
        let mut perms = weak_perms();
        for action in [Action::View, Action::Add, Action::Change, Action::Delete] {
            perms.push(perm(action, Model::Group));
        }
        let id = user(&w.i, "grouper", staff_access(&perms));
        (id, sign_in(&w.i, "grouper"))
    }

    /// Stripping a group a stronger user is in, then taking the user over:
    /// a caller may remove from a group, or delete with it, only
    /// permissions it holds itself, so it can never make a stronger user
    /// weak enough to control.
    #[test]
    fn stripping_a_stronger_users_group_is_refused() {
        let w = world();
        let (_, token) = grouper(&w);
        let path = format!("/api/admin/groups/{}/", w.deleters);
        for (method, body) in [
            ("PUT", Some(json!({"name": "Deleters", "permissions": []}))),
            ("PATCH", Some(json!({"permissions": []}))),
            ("DELETE", None),
        ] {
            let r = call_as(&w.i, &token, method, &path, body.clone());
            assert_403(&r, &format!("{method} {path} {body:?}"));
        }
        let g = w.i.operator().get_group(w.deleters).unwrap();
        assert_eq!(
            g.permissions,
            vec![Permission::new(Action::Delete, Model::Batch).id()]
        );
        let typed = w.i.session(&token).unwrap();
        assert_forbidden(typed.delete_group(w.deleters), "typed delete");
        assert_forbidden(
            typed.update_group(
                w.deleters,
                GroupInput {
                    name: None,
                    permissions: Some(vec![]),
                },
            ),
            "typed strip",
        );
        let r = call_as(
            &w.i,
            &token,
            "PATCH",
            &format!("/api/admin/users/{}/", w.grouped),
            Some(json!({"password": "taken-over-9"})),
        );
        assert_403(&r, "the takeover after the strip");
        still_signs_in(&w.i, "grouped");
        // What the caller holds it may still take away, and a group it
        // holds all of it may delete.
        let path = format!("/api/admin/groups/{}/", w.viewers);
        let r = call_as(
            &w.i,
            &token,
            "PATCH",
            &path,
            Some(json!({"permissions": []})),
        );
        assert_eq!(r.status, 200, "{:?}", r.body);
        let r = call_as(&w.i, &token, "DELETE", &path, None);
        assert_eq!(r.status, 204, "{:?}", r.body);
    }

    /// Deleting a group changes every member's groups (SPEC A7): a caller
    /// holding all of the group's permissions still may not delete it
    /// while a member holds more than the caller does, superusers
    /// included.
    #[test]
    fn deleting_a_group_a_stronger_user_is_in_is_refused() {
        let w = world();
        let (_, token) = grouper(&w);
        let admin = w.i.operator();
        for member in [w.strong, w.root] {
            let patch = UserPatch {
                access: AccessInput {
                    groups: Some(vec![w.viewers]),
                    ..Default::default()
                },
                ..Default::default()
            };
            admin.update_user(member, patch).expect("join Viewers");
            let path = format!("/api/admin/groups/{}/", w.viewers);
            let r = call_as(&w.i, &token, "DELETE", &path, None);
            assert_403(&r, &format!("delete with member {member}"));
            let typed = w.i.session(&token).unwrap();
            assert_forbidden(typed.delete_group(w.viewers), "typed delete");
            let groups = admin.get_user(member).unwrap().groups;
            assert_eq!(groups, vec![w.viewers], "member {member} kept its group");
            let patch = UserPatch {
                access: AccessInput {
                    groups: Some(vec![]),
                    ..Default::default()
                },
                ..Default::default()
            };
            admin.update_user(member, patch).expect("leave Viewers");
        }
        // A member the caller controls does not stand in the way.
        let patch = UserPatch {
            access: AccessInput {
                groups: Some(vec![w.viewers]),
                ..Default::default()
            },
            ..Default::default()
        };
        admin.update_user(w.peer, patch).expect("join Viewers");
        let path = format!("/api/admin/groups/{}/", w.viewers);
        let r = call_as(&w.i, &token, "DELETE", &path, None);
        assert_eq!(r.status, 204, "{:?}", r.body);
        assert_eq!(admin.get_user(w.peer).unwrap().groups, Vec::<u64>::new());
    }
}

/// Sessions (SPEC A8) against a realistic attacker's timing.
mod redteam_sessions {
    use super::*;

    /// A sign-in checks the account on a snapshot, then spends an argon2
    /// verification before it writes the session. A block committed in
    /// between must not leave a session behind that the unblock would
    /// bring back: whatever the interleaving, the token is dead after a
    /// block and an unblock.
    #[test]
    fn a_sign_in_racing_a_block_leaves_no_session_to_revive() {
        let (mut config, _) = roster_tests::config(SEED_NOW);
        // A verification long enough that the block lands inside it.
        config.argon2 = roster::Argon2Params::default();
        let i = roster_tests::store(config);
        let id = user(&i, "racer", AccessInput::default());
        let started = std::time::Instant::now();
        sign_in(&i, "racer");
        let verify = started.elapsed();
        let admin = i.operator();
        let set_blocked = |blocked: bool| {
            let patch = UserPatch {
                is_blocked: Some(blocked),
                ..Default::default()
            };
            admin.update_user(id, patch).expect("block or unblock");
        };
        for round in 0..3 {
            let racer = i.clone();
            let login = std::thread::spawn(move || racer.login("racer", PASSWORD));
            std::thread::sleep(verify / 4);
            set_blocked(true);
            let login = login.join().expect("no panic");
            set_blocked(false);
            if let Ok(login) = login {
                assert!(
                    i.session(&login.token).is_err(),
                    "round {round}: a session from before the block works after it"
                );
            }
        }
        still_signs_in(&i, "racer");
    }
}

/// More of the adversarial pass: attacks that held, kept as tests so that
/// the classes stay closed.
mod redteam_held {
    use super::*;
    use roster::rest::Request;

    fn send(i: &Institute, auth: Option<&str>, method: &str, path: &str) -> roster::rest::Response {
        let mut request = Request::new(method, path);
        if let Some(value) = auth {
            request = request.with_header("Authorization", value);
        }
        roster::rest::handle(i, request)
    }

    /// Signing out needs a session of one's own: no header, another scheme,
    /// a bad token, a method in another case all end nothing; a sign-out
    /// ends that session only.
    #[test]
    fn sign_out_ends_exactly_the_callers_session() {
        let w = world();
        let other = sign_in(&w.i, "weak");
        let no_credentials = json!({"detail": "Authentication credentials were not provided."});
        let invalid = json!({"detail": "Invalid token."});
        for version in ["v2.5", "v2.2"] {
            let path = format!("/api/{version}/auth-token/");
            for (auth, want) in [
                (None, &no_credentials),
                (Some("Basic d2VhazpzZWNyZXQ=".to_string()), &no_credentials),
                (Some("JWT".to_string()), &no_credentials),
                (Some(format!("Token {}", w.weak)), &no_credentials),
                (Some("JWT zzzz".to_string()), &invalid),
                (Some(format!("JWT {}", "0".repeat(64))), &invalid),
                (Some(format!("JWT {}x", w.weak)), &invalid),
            ] {
                let r = send(&w.i, auth.as_deref(), "DELETE", &path);
                assert_eq!((r.status, r.json()), (401, want.clone()), "{auth:?}");
            }
            for method in ["delete", "Delete", "DELETE ", "PATCH"] {
                let r = send(&w.i, Some(&format!("JWT {}", w.weak)), method, &path);
                assert_eq!(r.status, 405, "{method:?}");
            }
        }
        assert!(w.i.session(&w.weak).is_ok(), "nothing ended so far");
        let r = send(
            &w.i,
            Some(&format!("JWT {}", w.weak.to_uppercase())),
            "DELETE",
            "/api/v2.2/auth-token/",
        );
        assert_eq!(r.status, 204, "{:?}", r.body);
        assert!(w.i.session(&w.weak).is_err(), "this session ended");
        assert!(w.i.session(&other).is_ok(), "the other goes on");
        let r = send(
            &w.i,
            Some(&format!("JWT {}", w.weak)),
            "DELETE",
            "/api/v2.5/auth-token/",
        );
        assert_eq!((r.status, r.json()), (401, invalid));
        // A sign-in in lower case is no sign-in.
        let body = json!({"username": "weak", "password": PASSWORD}).to_string();
        let r = roster::rest::handle(
            &w.i,
            Request::new("post", "/api/v2.5/auth-token/")
                .with_header("Content-Type", "application/json")
                .with_body(body),
        );
        assert_eq!(r.status, 405);
        assert!(r.json().get("token").is_none());
    }

    /// The unlock path needs a session, staff, `change_user` and (A7) a
    /// target no stronger than the caller.
    #[test]
    fn the_unlock_path_needs_all_of_it() {
        let w = world();
        let student = sign_in(&w.i, "student");
        for version in ["v2.5", "v2.2"] {
            let path = format!("/api/{version}/admin/users/{}/unlock/", w.peer);
            let r = send(&w.i, None, "POST", &path);
            assert_eq!(r.status, 401, "{path}");
            let r = send(&w.i, Some("JWT zzzz"), "POST", &path);
            assert_eq!(r.status, 401, "{path}");
            assert_403(&call_as(&w.i, &student, "POST", &path, None), &path);
            let r = call_as(&w.i, &w.weak, "post", &path, None);
            assert_eq!(r.status, 405, "{path}");
            let r = call_as(&w.i, &w.weak, "POST", &path, None);
            assert_eq!(r.status, 204, "{path}: {:?}", r.body);
            let path = format!("/api/{version}/admin/users/{}/unlock/", w.strong);
            assert_403(&call_as(&w.i, &w.weak, "POST", &path, None), &path);
        }
    }

    /// A weaker administrator cannot raise itself or a weaker user above
    /// what it holds, on any path: flags, own permissions, groups.
    #[test]
    fn no_one_raises_itself_or_others_above_what_it_holds() {
        let w = world();
        let weak = w.i.session(&w.weak).unwrap();
        let me = weak.me().unwrap().id;
        for target in [me, w.student, w.peer] {
            let path = format!("/api/admin/users/{target}/");
            for body in [
                json!({"is_superuser": true}),
                json!({"user_permissions": strong_perms()}),
                json!({"groups": [w.deleters]}),
                json!({"groups": [w.viewers, w.deleters]}),
            ] {
                for method in ["PUT", "PATCH"] {
                    let r = call_as(&w.i, &w.weak, method, &path, Some(body.clone()));
                    assert_403(&r, &format!("{method} {path} {body}"));
                }
            }
            let before = view(&w.i, target);
            assert!(!before.is_superuser);
            assert!(!before.groups.contains(&w.deleters));
        }
        // A group of its own holding more, or more added to one it is in.
        let root = w.i.operator();
        root.update_user(
            me,
            UserPatch {
                access: AccessInput {
                    user_permissions: Some(
                        [weak_perms(), vec![perm(Action::Change, Model::Group)]].concat(),
                    ),
                    groups: Some(vec![w.viewers]),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .unwrap();
        let path = format!("/api/admin/groups/{}/", w.viewers);
        let body = json!({"permissions": [perm(Action::View, Model::User), perm(Action::Delete, Model::Batch)]});
        assert_403(
            &call_as(&w.i, &w.weak, "PATCH", &path, Some(body)),
            "raise own group",
        );
        assert!(!weak.has_perm(me, "roster.delete_batch").unwrap_or(false));
        assert_forbidden(weak.take_outbox(), "the outbox is the operator's");
        assert_forbidden(weak.dump(), "the export is the operator's");
    }

    /// Identifiers on update: a username may not be another user's email
    /// nor an email another's username, in any case, on any path; a case
    /// change of a stronger user's own identifier is a change.
    #[test]
    fn identifiers_share_one_namespace_on_update_too() {
        let w = world();
        let me = w.i.session(&w.weak).unwrap().me().unwrap().id;
        for (prefix, _) in PATHS {
            for (target, body) in [
                (me, json!({"username": "strong@example.com"})),
                (me, json!({"username": "STRONG@EXAMPLE.COM"})),
                (me, json!({"email": "Strong@Example.com"})),
                (w.student, json!({"email": "STRONG"})),
                (w.student, json!({"username": "Strong"})),
            ] {
                let path = format!("{prefix}{target}/");
                let r = call_as(&w.i, &w.weak, "PATCH", &path, Some(body.clone()));
                assert_eq!(r.status, 400, "{path} {body}: {:?}", r.body);
            }
            let path = format!("{prefix}{}/", w.strong);
            for body in [
                json!({"username": "STRONG"}),
                json!({"email": "STRONG@example.com"}),
            ] {
                let r = call_as(&w.i, &w.weak, "PUT", &path, Some(body.clone()));
                assert_403(&r, &format!("{path} {body}"));
            }
        }
        for name in ["strong", "strong@example.com", "STRONG@EXAMPLE.COM"] {
            assert_eq!(w.i.login(name, PASSWORD).unwrap().user, w.strong, "{name}");
        }
    }

    /// A password set on any path ends the sessions made before it; an
    /// import row naming an existing user changes nothing of it.
    #[test]
    fn every_password_path_ends_old_sessions() {
        let w = world();
        let root = superuser(&w.i);
        let paths = [
            ("PUT", "/api/v2.5/admin/users/"),
            ("PATCH", "/api/v2.2/admin/users/"),
            ("PUT", "/api/admin/users/"),
            ("PATCH", "/api/admin/users/"),
        ];
        for (k, (method, prefix)) in paths.into_iter().enumerate() {
            let token = sign_in(&w.i, "student");
            let password = format!("next-secret-{k}");
            let path = format!("{prefix}{}/", w.student);
            let body = match prefix {
                "/api/admin/users/" => json!({"password": password, "last_name": "S"}),
                _ => json!({ "password": password }),
            };
            let r = call_as(&w.i, &root, method, &path, Some(body));
            assert_eq!(r.status, 200, "{method} {path}: {:?}", r.body);
            assert!(w.i.session(&token).is_err(), "{method} {path}");
            w.i.operator()
                .update_user(
                    w.student,
                    UserPatch {
                        password: Some(PASSWORD.into()),
                        ..Default::default()
                    },
                )
                .unwrap();
        }
        let token = sign_in(&w.i, "student");
        user(
            &w.i,
            "importer",
            staff_access(&[perm(Action::Add, Model::User)]),
        );
        let importer = w.i.session(&sign_in(&w.i, "importer")).unwrap();
        let row = r#"{"username":"STUDENT","password":"imported-9x","email":"s2@example.com"}"#;
        let report =
            roster::transfer::import(&importer, row.as_bytes(), &Default::default(), &mut |_| {})
                .expect("import");
        assert_eq!((report.created, report.rejected.len()), (0, 1));
        assert!(w.i.session(&token).is_ok());
        still_signs_in(&w.i, "student");
        // create_superuser on an existing name resets it: sessions end.
        let token = sign_in(&w.i, "student");
        w.i.create_superuser("student", "made-root-1").unwrap();
        assert!(w.i.session(&token).is_err());
    }

    /// Ids are never given again while the store lives, not even after a
    /// restore of an older export into the emptied store; a deleted user's
    /// token stays dead whatever comes after.
    #[test]
    fn a_deleted_users_token_stays_dead() {
        let (i, _) = institute(SEED_NOW);
        let admin = i.operator();
        let first = user(&i, "first", AccessInput::default());
        let dump = admin.dump().unwrap();
        let second = user(&i, "second", AccessInput::default());
        let token = sign_in(&i, "second");
        admin.delete_user(second).unwrap();
        assert!(i.session(&token).is_err());
        let third = user(&i, "third", AccessInput::default());
        assert!(third > second, "ids are not reused");
        for id in [first, third] {
            admin.delete_user(id).unwrap();
        }
        admin.restore(dump).unwrap();
        let again = user(&i, "second", AccessInput::default());
        assert!(again > third, "the restore did not bring an old id back");
        assert!(i.session(&token).is_err(), "user {again}: the old token");
        let r = call_as(&i, &token, "GET", "/api/v2.5/me/", None);
        assert_eq!(r.status, 401);
    }
}

/// The shared username/email namespace in records that arrive whole.
mod redteam_namespace {
    use super::*;

    /// An export edited so that one user's username is another's email is
    /// refused whole by restore, as the API would refuse the change: with
    /// it, sign-in by that email would reach the other user.
    #[test]
    fn a_restore_cannot_bring_in_a_username_that_is_another_users_email() {
        let (i, _) = institute(SEED_NOW);
        user(&i, "victim", AccessInput::default());
        user(&i, "mallory", AccessInput::default());
        let mut dump = i.operator().dump().unwrap();
        let victim = dump.users.iter().position(|u| u.username == "victim");
        let email = dump.users[victim.unwrap()].profile.email.to_uppercase();
        for u in &mut dump.users {
            if u.username == "mallory" {
                u.username = email.clone();
            }
        }
        let (fresh, _) = institute(SEED_NOW);
        let e = fresh.operator().restore(dump).expect_err("refused");
        assert!(
            matches!(e.code(), ErrorCode::Corrupt | ErrorCode::Conflict),
            "{:?}: {}",
            e.code(),
            e.message()
        );
        assert!(
            fresh
                .operator()
                .list_users(&Default::default())
                .unwrap()
                .items
                .is_empty()
        );
    }
}
