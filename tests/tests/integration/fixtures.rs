//! The repository's own copies of the API documents' examples
//! (`tests/fixtures/documents/`): every file is present and whole, and the
//! corrections `tests/fixtures/README.md` lists are the only departures from
//! the documents' text. A missing or truncated file fails here, never skips.

use roster_tests::document_fixtures;
use serde_json::Value;

/// Every example of `file`, which must exist and parse.
fn examples(file: &str) -> Vec<Value> {
    let path = document_fixtures().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    assert!(doc["source"].is_string(), "{file}: no source");
    doc["examples"]
        .as_array()
        .unwrap_or_else(|| panic!("{file}: no examples"))
        .clone()
}

/// The rendering an example comes from: `000`, `001`...
fn seed(example: &Value) -> &str {
    let seed = example["seed"].as_str().expect("seed");
    &seed[..3]
}

#[test]
fn every_document_file_is_there_with_all_its_examples() {
    for (file, count, seeds) in [
        ("testpress.json", 21, &["000", "001", "002"][..]),
        ("django_admin.json", 14, &["003"][..]),
        ("sunbird.json", 32, &["004"][..]),
    ] {
        let examples = examples(file);
        assert_eq!(examples.len(), count, "{file}");
        for e in &examples {
            assert!(e["name"].is_string(), "{file}: {e}");
            assert!(seeds.contains(&seed(e)), "{file}: {}", e["seed"]);
            for key in ["method", "path", "request_body", "response_body"] {
                assert!(e.get(key).is_some(), "{file}: {} has no {key}", e["name"]);
            }
        }
    }
}

#[test]
fn the_corrected_bodies_are_exactly_the_ones_listed() {
    let mut corrected = Vec::new();
    for file in ["testpress.json", "django_admin.json", "sunbird.json"] {
        for e in examples(file) {
            for (raw, body) in [
                ("request_body_raw", "request_body"),
                ("response_body_raw", "response_body"),
            ] {
                let Some(text) = e.get(raw) else { continue };
                let text = text.as_str().expect("raw text");
                // The document's text is malformed...
                assert!(
                    serde_json::from_str::<Value>(text).is_err(),
                    "{file} {}: {raw} parses, so it needs no correction",
                    e["name"]
                );
                // ...and the correction is the text minus the stray
                // backslash-n sequences or trailing commas, nothing else.
                let repaired = if raw == "request_body_raw" {
                    text.replace("\\n", " ")
                } else {
                    drop_trailing_commas(text)
                };
                let reparsed: Value = serde_json::from_str(&repaired)
                    .unwrap_or_else(|err| panic!("{file} {}: {err}", e["name"]));
                assert_eq!(reparsed, e[body], "{file} {}", e["name"]);
                corrected.push(format!(
                    "{} {} {}",
                    e["name"].as_str().unwrap(),
                    seed(&e),
                    &raw[..raw.find('_').unwrap()]
                ));
            }
        }
    }
    corrected.sort();
    assert_eq!(
        corrected,
        [
            "Add Batches 002 response",
            "Add User Subscriptions 000 response",
            "Update User 000 request",
            "Update User 001 request",
            "Update User 002 request",
            "View All Users 000 request",
            "View Batches 002 response",
            "View User 001 request",
            "View User 002 request",
        ]
    );
}

/// `text` without the commas that stand directly (whitespace aside) before a
/// closing `}` or `]`. The fixtures' strings hold no such sequence.
fn drop_trailing_commas(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        if c == ',' {
            let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            if matches!(next, Some('}' | ']')) {
                continue;
            }
        }
        out.push(c);
    }
    out
}
