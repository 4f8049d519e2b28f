//! The REST facade's request and response as the bindings pass them.

use crate::institute::HttpResponse;
use std::collections::HashMap;

/// A core request from the binding's arguments; `Err` with the answer to
/// give when two header names differ only in case. The core matches names
/// ignoring case and takes the first, and a map has no first: which token
/// authenticated would change from run to run, and could differ from the
/// one a host checked under its own spelling.
pub(crate) fn request(
    method: &str,
    path_with_query: &str,
    headers: HashMap<String, String>,
    body: Option<String>,
) -> Result<roster::rest::Request, HttpResponse> {
    let mut names: Vec<String> = headers.keys().map(|k| k.to_ascii_lowercase()).collect();
    // Sorted, equal names (ignoring case) are neighbours.
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err(HttpResponse {
            status: 400,
            headers: HashMap::from([("Content-Type".to_string(), "application/json".to_string())]),
            body: Some(
                r#"{"detail":"Two headers were sent whose names differ only in case."}"#
                    .to_string(),
            ),
        });
    }
    let mut request = roster::rest::Request::new(method, path_with_query);
    request.headers = headers.into_iter().collect();
    request.body = body.map(String::into_bytes);
    Ok(request)
}

/// The binding's response record from a core response.
pub(crate) fn response(r: roster::rest::Response) -> HttpResponse {
    HttpResponse {
        status: r.status,
        headers: r.headers.into_iter().collect(),
        body: r.body,
    }
}
