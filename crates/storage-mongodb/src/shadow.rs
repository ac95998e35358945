//! The query keys stored beside each document, so MongoDB can decide filters with core's key-path
//! rules (`switchyard_core::key_path::get`: an exact key, else the one key equal ignoring ASCII
//! case; a number indexes an array), which MongoDB's own dotted paths do not follow (they are
//! case-sensitive and look inside arrays).
//!
//! Every value reachable by a filter key is listed under its path with ASCII letters lower-cased
//! and array indices written plainly (`labels.room`, `tags.0`):
//! - `paths`: the path of every value that is not JSON null (what `exists` asks);
//! - `values`: `<path>\u{1}s<text>` for every string, and `<path>\u{1}b<true|false>` for every
//!   boolean and every string that is `true`/`false` in any case (what `eq`/`in` ask).
//!
//! Keys holding `.` or `\u{1}` are left out: no filter key reaches them (a filter splits its key
//! at `.`; one holding `\u{1}` is never pushed down). A document with two keys of one object equal
//! ignoring case is `ambiguous`: which one a filter reaches depends on the filter's spelling, so
//! such documents are always handed to core to decide.

use serde_json::Value;

pub(crate) const SEPARATOR: char = '\u{1}';

#[derive(Debug, Default, PartialEq)]
pub(crate) struct Shadow {
    pub paths: Vec<String>,
    pub values: Vec<String>,
    pub ambiguous: bool,
}

/// The entry of `values` for a text value at `path` (already normalised).
pub(crate) fn text_entry(path: &str, text: &str) -> String {
    format!("{path}{SEPARATOR}s{text}")
}

pub(crate) fn bool_entry(path: &str, b: bool) -> String {
    format!("{path}{SEPARATOR}b{b}")
}

pub(crate) fn of(doc: &Value) -> Shadow {
    let mut out = Shadow::default();
    if let Value::Object(map) = doc {
        walk_object(map, None, &mut out);
    }
    out
}

/// `prefix`: the path of `map`, `None` at the top (where a key `""` is the path `""`, not a join).
fn walk_object(map: &serde_json::Map<String, Value>, prefix: Option<&str>, out: &mut Shadow) {
    let mut seen = std::collections::HashSet::with_capacity(map.len());
    for (key, value) in map {
        if !seen.insert(key.to_ascii_lowercase()) {
            // Which of the two a filter reaches depends on the filter's spelling.
            out.ambiguous = true;
        }
        if key.contains(['.', SEPARATOR]) {
            continue;
        }
        let key = key.to_ascii_lowercase();
        let path = match prefix {
            None => key,
            Some(prefix) => format!("{prefix}.{key}"),
        };
        walk(value, &path, out);
    }
}

fn walk(value: &Value, path: &str, out: &mut Shadow) {
    match value {
        Value::Null => return,
        Value::String(s) => {
            out.values.push(text_entry(path, s));
            if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") {
                out.values
                    .push(bool_entry(path, s.eq_ignore_ascii_case("true")));
            }
        }
        Value::Bool(b) => out.values.push(bool_entry(path, *b)),
        Value::Number(_) => {}
        Value::Object(map) => walk_object(map, Some(path), out),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{path}.{i}"), out);
            }
        }
    }
    out.paths.push(path.to_string());
}

/// The normalised form of a filter key, or `None` when the shadow cannot answer for it: an empty
/// key (the whole document), a key holding the separator, or an array index written other than
/// plainly (`+0`, `01`: on an array core reads them as `0`/`1`, on an object as those exact keys).
pub(crate) fn filter_path(key: &str) -> Option<String> {
    if key.is_empty() || key.contains(SEPARATOR) {
        return None;
    }
    for segment in key.split('.') {
        if let Ok(i) = segment.parse::<usize>()
            && i.to_string() != segment
        {
            return None;
        }
    }
    Some(key.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_every_reachable_value_under_its_lower_cased_path() {
        let s = of(&json!({"id": "a", "Labels": {"Room": "Hall", "n": null},
                            "tags": ["x", {"On": "TRUE"}], "n": 1, "b": false, "a.b": "hidden"}));
        assert!(!s.ambiguous);
        for p in [
            "id",
            "labels",
            "labels.room",
            "tags",
            "tags.0",
            "tags.1",
            "tags.1.on",
            "n",
            "b",
        ] {
            assert!(s.paths.contains(&p.to_string()), "{p}: {s:?}");
        }
        assert!(
            !s.paths
                .iter()
                .any(|p| p.contains("labels.n") || p.contains("a.b"))
        );
        for v in [
            text_entry("labels.room", "Hall"),
            text_entry("tags.0", "x"),
            text_entry("tags.1.on", "TRUE"),
            bool_entry("tags.1.on", true),
            bool_entry("b", false),
        ] {
            assert!(s.values.contains(&v), "{v:?}: {s:?}");
        }
        assert!(!s.values.iter().any(|v| v.starts_with("n\u{1}")));
    }

    #[test]
    fn keys_equal_ignoring_case_make_a_document_ambiguous() {
        assert!(of(&json!({"x": {"gatewayId": 1, "GATEWAYID": 2}})).ambiguous);
        assert!(!of(&json!({"x": {"gatewayId": 1}, "GATEWAYID": 2})).ambiguous);
    }

    #[test]
    fn an_empty_key_keeps_its_place_in_the_path() {
        let s = of(&json!({"": {"x": "in"}, "x": "top"}));
        assert!(s.values.contains(&text_entry(".x", "in")), "{s:?}");
        assert!(s.values.contains(&text_entry("x", "top")), "{s:?}");
        assert!(!s.values.contains(&text_entry("x", "in")), "{s:?}");
    }

    #[test]
    fn filter_paths_answerable_by_the_shadow() {
        assert_eq!(filter_path("Labels.Room").as_deref(), Some("labels.room"));
        assert_eq!(filter_path("tags.10").as_deref(), Some("tags.10"));
        assert_eq!(filter_path("tags.+0"), None);
        assert_eq!(filter_path("tags.01"), None);
        assert_eq!(filter_path(""), None);
    }
}
