//! The REST facade's request and response as the bindings pass them.

use crate::institute::HttpResponse;
use std::collections::HashMap;

/// A core request from the binding's arguments.
pub(crate) fn request(
    method: &str,
    path_with_query: &str,
    headers: HashMap<String, String>,
    body: Option<String>,
) -> roster::rest::Request {
    let mut request = roster::rest::Request::new(method, path_with_query);
    request.headers = headers.into_iter().collect();
    request.body = body.map(String::into_bytes);
    request
}

/// The binding's response record from a core response.
pub(crate) fn response(r: roster::rest::Response) -> HttpResponse {
    HttpResponse {
        status: r.status,
        headers: r.headers.into_iter().collect(),
        body: r.body,
    }
}
