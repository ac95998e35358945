//! Dotted paths into JSON documents (`current.value`, `labels.room`, `widgets.0.title`).
//! A segment matches a key exactly, else case-insensitively; a number indexes an array.

use serde_json::Value;

pub fn get<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    if path.is_empty() {
        return Some(value);
    }
    path.split('.').try_fold(value, |v, seg| match v {
        Value::Object(map) => map.get(seg).or_else(|| {
            map.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(seg))
                .map(|(_, v)| v)
        }),
        Value::Array(items) => seg.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// Sets `path` to `new`, creating objects on the way. Fails when a segment crosses a scalar.
pub fn set(value: &mut Value, path: &str, new: Value) -> Result<(), String> {
    let mut cur = value;
    let segments: Vec<&str> = path.split('.').collect();
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        if cur.is_null() {
            *cur = Value::Object(Default::default());
        }
        cur = match cur {
            Value::Object(map) => {
                let key = map
                    .keys()
                    .find(|k| k.as_str() == *seg || k.eq_ignore_ascii_case(seg))
                    .cloned()
                    .unwrap_or_else(|| seg.to_string());
                if last {
                    map.insert(key, new);
                    return Ok(());
                }
                map.entry(key).or_insert(Value::Null)
            }
            Value::Array(items) => {
                let idx: usize = seg
                    .parse()
                    .map_err(|_| format!("`{seg}` is not an array index"))?;
                let len = items.len();
                let slot = items
                    .get_mut(idx)
                    .ok_or_else(|| format!("index {idx} out of range (length {len})"))?;
                if last {
                    *slot = new;
                    return Ok(());
                }
                slot
            }
            _ => return Err(format!("`{seg}` is inside a value that is not an object")),
        };
    }
    *cur = new;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn gets_nested_values_case_insensitively() {
        let v = json!({"current": {"value": 21.5}, "labels": {"room": "hall"}, "w": [1, {"a": 2}]});
        assert_eq!(get(&v, "current.value"), Some(&json!(21.5)));
        assert_eq!(get(&v, "Current.Value"), Some(&json!(21.5)));
        assert_eq!(get(&v, "w.1.a"), Some(&json!(2)));
        assert_eq!(get(&v, "w.5"), None);
        assert_eq!(get(&v, "labels.nope"), None);
    }

    #[test]
    fn sets_creating_objects() {
        let mut v = json!({"a": {"b": 1}});
        set(&mut v, "a.c.d", json!("x")).unwrap();
        set(&mut v, "A.b", json!(2)).unwrap();
        assert_eq!(v, json!({"a": {"b": 2, "c": {"d": "x"}}}));
        assert!(set(&mut v, "a.b.z", json!(1)).is_err());
    }
}
