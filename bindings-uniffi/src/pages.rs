//! Pages of lists. uniffi exports no generic types, so each
//! [`roster::Page<T>`] the API returns has a concrete record here, with the
//! same fields plus whether a next and a previous page exist.

use roster::{BatchRef, BatchView, CourseView, CustomFieldView, GroupView};
use roster::{SubscriptionView, UserView};

macro_rules! page_record {
    ($(#[$doc:meta])* $name:ident of $item:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, uniffi::Record)]
        pub struct $name {
            /// Items in all pages.
            pub count: u64,
            /// This page's number, from 1.
            pub page: u64,
            /// Page size.
            pub per_page: u32,
            /// Whether a later page exists.
            pub has_next: bool,
            /// Whether an earlier page exists.
            pub has_previous: bool,
            /// This page's items.
            pub items: Vec<$item>,
        }

        impl From<roster::Page<$item>> for $name {
            fn from(p: roster::Page<$item>) -> Self {
                $name {
                    count: p.count,
                    page: p.page,
                    per_page: p.per_page,
                    has_next: p.has_next(),
                    has_previous: p.has_previous(),
                    items: p.items,
                }
            }
        }
    };
}

page_record!(
    /// A page of users.
    UserPage of UserView
);
page_record!(
    /// A page of batches.
    BatchPage of BatchView
);
page_record!(
    /// A page of a user's batches (`{id, name}`).
    BatchRefPage of BatchRef
);
page_record!(
    /// A page of courses.
    CoursePage of CourseView
);
page_record!(
    /// A page of a user's subscriptions.
    SubscriptionPage of SubscriptionView
);
page_record!(
    /// A page of custom field definitions.
    CustomFieldPage of CustomFieldView
);
page_record!(
    /// A page of groups.
    GroupPage of GroupView
);
