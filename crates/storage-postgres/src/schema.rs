//! Tables and SQL functions, created on open (idempotent). Every name is `<schema>.<prefix>…`
//! from validated identifiers, so several instances share one database without colliding.

use switchyard_core::EntityKind;

/// Key columns besides `id`, per kind: (column, document key). Generated from the document with
/// the same lookup a filter uses (`sy_get`), so a filter on exactly that key may use the index.
pub(crate) fn key_columns(kind: EntityKind) -> &'static [(&'static str, &'static str)] {
    match kind {
        EntityKind::Node | EntityKind::Source => {
            &[("gateway_id", "gatewayId"), ("node_id", "nodeId")]
        }
        EntityKind::Field => &[
            ("gateway_id", "gatewayId"),
            ("node_id", "nodeId"),
            ("source_id", "sourceId"),
        ],
        _ => &[],
    }
}

/// Names of one instance's objects.
#[derive(Debug, Clone)]
pub(crate) struct Names {
    pub schema: String,
    pub prefix: String,
}

impl Names {
    pub fn table(&self, kind: EntityKind) -> String {
        format!("\"{}\".\"{}{}\"", self.schema, self.prefix, kind.as_str())
    }

    /// The key-path lookup function, mirroring `switchyard_core::key_path::get`.
    pub fn get_fn(&self) -> String {
        format!("\"{}\".\"{}get\"", self.schema, self.prefix)
    }

    pub fn ddl(&self) -> Vec<String> {
        let get = self.get_fn();
        let mut stmts = vec![
            format!("CREATE SCHEMA IF NOT EXISTS \"{}\"", self.schema),
            // A segment matches a key exactly, else the first key equal to it ignoring ASCII case
            // (in the stored document's key order, which is also the order Switchyard reads back);
            // a segment of digits (an optional `+`, as Rust's usize parse allows) indexes an array.
            format!(
                r#"CREATE OR REPLACE FUNCTION {get}(doc jsonb, path text[]) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
DECLARE
  cur jsonb := doc;
  seg text;
  nxt jsonb;
  idx numeric;
BEGIN
  FOREACH seg IN ARRAY path LOOP
    IF jsonb_typeof(cur) = 'object' THEN
      nxt := cur -> seg;
      IF nxt IS NULL THEN
        SELECT e.value INTO nxt FROM jsonb_each(cur) WITH ORDINALITY AS e(key, value, n)
         WHERE translate(e.key, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
             = translate(seg, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
         ORDER BY e.n LIMIT 1;
      END IF;
    ELSIF jsonb_typeof(cur) = 'array' AND seg ~ '^\+?[0-9]{{1,30}}$' THEN
      idx := ltrim(seg, '+')::numeric;
      IF idx >= jsonb_array_length(cur) THEN
        RETURN NULL;
      END IF;
      nxt := cur -> idx::int;
    ELSE
      RETURN NULL;
    END IF;
    IF nxt IS NULL THEN
      RETURN NULL;
    END IF;
    cur := nxt;
  END LOOP;
  RETURN cur;
END
$fn$"#
            ),
        ];
        for kind in EntityKind::ALL {
            let table = self.table(kind);
            let mut columns = String::new();
            for (column, key) in key_columns(kind) {
                columns.push_str(&format!(
                    ", {column} jsonb GENERATED ALWAYS AS ({get}(doc, ARRAY['{key}'])) STORED"
                ));
            }
            stmts.push(format!(
                "CREATE TABLE IF NOT EXISTS {table} (id text COLLATE \"C\" PRIMARY KEY, doc jsonb NOT NULL{columns})"
            ));
            for (column, _) in key_columns(kind) {
                stmts.push(format!(
                    "CREATE INDEX IF NOT EXISTS \"{}{}_{column}\" ON {table} ({column})",
                    self.prefix,
                    kind.as_str()
                ));
            }
        }
        stmts
    }
}
