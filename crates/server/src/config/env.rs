//! `SWITCHYARD__STORAGE__TYPE=memory` sets `storage.type`: the part after the prefix, split on
//! `__`, lower-cased, is the key path; the value is read as a YAML scalar (so `3` is a number).

use serde_norway::Value;

pub const PREFIX: &str = "SWITCHYARD__";

pub fn apply(tree: &mut Value, vars: impl Iterator<Item = (String, String)>) -> anyhow::Result<()> {
    let mut vars: Vec<(String, String)> = vars.filter(|(k, _)| k.starts_with(PREFIX)).collect();
    vars.sort();
    for (key, raw) in vars {
        let path: Vec<String> = key[PREFIX.len()..]
            .split("__")
            .map(|s| s.to_ascii_lowercase())
            .collect();
        if path.iter().any(|s| s.is_empty()) {
            anyhow::bail!("environment variable {key}: empty key segment");
        }
        let value: Value = serde_norway::from_str(&raw).unwrap_or(Value::String(raw.clone()));
        set(tree, &path, value).map_err(|e| anyhow::anyhow!("environment variable {key}: {e}"))?;
    }
    Ok(())
}

fn set(tree: &mut Value, path: &[String], value: Value) -> Result<(), String> {
    let Some((last, parents)) = path.split_last() else {
        return Ok(());
    };
    let mut cur = tree;
    for seg in parents {
        if cur.is_null() {
            *cur = Value::Mapping(Default::default());
        }
        let map = cur
            .as_mapping_mut()
            .ok_or_else(|| format!("`{seg}` is inside a value that is not a section"))?;
        cur = map.entry(Value::String(seg.clone())).or_insert(Value::Null);
    }
    if cur.is_null() {
        *cur = Value::Mapping(Default::default());
    }
    let map = cur
        .as_mapping_mut()
        .ok_or_else(|| format!("`{last}` is inside a value that is not a section"))?;
    map.insert(Value::String(last.clone()), value);
    Ok(())
}
