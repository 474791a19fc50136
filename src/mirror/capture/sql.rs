//! The SQL of capture for one schema: the log tables with Heroku Connect's columns and
//! indexes, and the trigger functions. Every identifier is quoted by the caller
//! ([`super::super::quote_ident`]); values inside the functions come from the trigger
//! (`TG_TABLE_NAME`, the row), never from text spliced in.

/// Columns of `_trigger_log` and `_trigger_log_archive`, in Heroku Connect's order and
/// types (`values` is a keyword, so quoted).
pub const LOG_COLUMNS: &str = "id, txid, created_at, updated_at, processed_at, processed_tx, state, action, table_name, record_id, sfid, old, \"values\", sf_result, sf_message";

/// The columns every captured row leaves out of `old` and `values`: the local row id
/// and the sync status columns.
const SYSTEM: &str = "- 'id' - '_hc_lastop' - '_hc_err'";

/// The live log, its archive and their indexes, in schema `s` (quoted).
pub fn log_tables(s: &str) -> Vec<String> {
    let cols = |id: &str, defaults: bool| {
        let d = |v: &str| {
            if defaults {
                format!(" DEFAULT {v}")
            } else {
                String::new()
            }
        };
        format!(
            "{id}, txid bigint{}, created_at timestamptz{}, updated_at timestamptz{},
             processed_at timestamptz, processed_tx bigint, state varchar(8) NOT NULL{},
             action varchar(7), table_name varchar(128), record_id integer, sfid varchar(18),
             old text, \"values\" text, sf_result integer, sf_message text",
            d("txid_current()"),
            d("now()"),
            d("now()"),
            d("'NEW'"),
        )
    };
    vec![
        format!(
            "CREATE TABLE IF NOT EXISTS {s}._trigger_log ({})",
            cols("id serial PRIMARY KEY", true)
        ),
        format!(
            "CREATE INDEX IF NOT EXISTS _trigger_log_idx_state_id ON {s}._trigger_log (state, id)"
        ),
        format!(
            "CREATE INDEX IF NOT EXISTS _trigger_log_idx_created_at ON {s}._trigger_log (created_at)"
        ),
        format!(
            "CREATE INDEX IF NOT EXISTS _trigger_log_idx_state_table_name ON {s}._trigger_log (state, table_name) WHERE state IN ('NEW', 'PENDING')"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {s}._trigger_log_archive ({})",
            cols("id integer NOT NULL", false)
        ),
        format!(
            "CREATE INDEX IF NOT EXISTS _trigger_log_archive_idx_state_id ON {s}._trigger_log_archive (state, id) WHERE state = 'FAILED'"
        ),
        format!(
            "CREATE INDEX IF NOT EXISTS _trigger_log_archive_idx_record_id ON {s}._trigger_log_archive (record_id)"
        ),
        format!(
            "CREATE INDEX IF NOT EXISTS _trigger_log_archive_idx_created_at ON {s}._trigger_log_archive (created_at)"
        ),
    ]
}

/// orgpool's one index beyond Connect's: write-back looks up a record's other log rows
/// (later changes, the Id an earlier insert got). Created if missing on every ensure,
/// so logs made by an earlier orgpool get it too.
pub fn record_index(s: &str) -> String {
    format!(
        "CREATE INDEX IF NOT EXISTS _trigger_log_idx_table_record ON {s}._trigger_log (table_name, record_id)"
    )
}

/// The functions of schema `s` (quoted): a JSON object as hstore text, the BEFORE
/// trigger that marks a user write `PENDING`, and the AFTER trigger that logs it (its
/// state, `NEW` or `READONLY`, is the trigger's argument).
pub fn functions(s: &str, channel: &str) -> Vec<String> {
    vec![
        // hstore's text form (`"k"=>"v", "n"=>NULL`) without needing the extension:
        // apps reading Connect's log parse `old` and `values` this way.
        format!(
            r#"CREATE OR REPLACE FUNCTION {s}._orgpool_hstore(j jsonb) RETURNS text
            LANGUAGE sql IMMUTABLE AS $f$
              SELECT CASE WHEN j IS NULL THEN NULL ELSE coalesce(string_agg(
                '"' || replace(replace(key, '\', '\\'), '"', '\"') || '"=>' ||
                CASE WHEN value IS NULL THEN 'NULL'
                     ELSE '"' || replace(replace(value, '\', '\\'), '"', '\"') || '"' END,
                ', ' ORDER BY key), '') END
              FROM jsonb_each_text(coalesce(j, '{{}}'::jsonb))
            $f$"#
        ),
        // A write that changes only the status columns (or nothing) is not a change.
        format!(
            r#"CREATE OR REPLACE FUNCTION {s}._orgpool_status() RETURNS trigger
            LANGUAGE plpgsql AS $f$
            BEGIN
              IF TG_OP = 'UPDATE'
                 AND (to_jsonb(NEW) - '_hc_lastop' - '_hc_err') = (to_jsonb(OLD) - '_hc_lastop' - '_hc_err') THEN
                RETURN NEW;
              END IF;
              NEW._hc_lastop := 'PENDING';
              NEW._hc_err := NULL;
              RETURN NEW;
            END
            $f$"#
        ),
        format!(
            r#"CREATE OR REPLACE FUNCTION {s}._orgpool_capture() RETURNS trigger
            LANGUAGE plpgsql AS $f$
            DECLARE
              st text := TG_ARGV[0];
              n jsonb;
              o jsonb;
              vals jsonb;
              rid integer;
              sf text;
            BEGIN
              IF TG_OP = 'INSERT' THEN
                n := to_jsonb(NEW) {SYSTEM};
                vals := n;
                rid := NEW.id;
                sf := NEW.sfid;
              ELSIF TG_OP = 'UPDATE' THEN
                n := to_jsonb(NEW) {SYSTEM};
                o := to_jsonb(OLD) {SYSTEM};
                SELECT jsonb_object_agg(e.key, e.value) INTO vals
                  FROM jsonb_each(n) e WHERE e.value IS DISTINCT FROM o -> e.key;
                IF vals IS NULL THEN
                  RETURN NULL;
                END IF;
                rid := NEW.id;
                sf := NEW.sfid;
              ELSE
                o := to_jsonb(OLD) {SYSTEM};
                rid := OLD.id;
                sf := OLD.sfid;
              END IF;
              INSERT INTO {s}._trigger_log (state, action, table_name, record_id, sfid, old, "values")
                VALUES (st, TG_OP, TG_TABLE_NAME, rid, sf, {s}._orgpool_hstore(o), {s}._orgpool_hstore(vals));
              IF st = 'NEW' THEN
                -- The same payload for every row of a table: Postgres sends one
                -- notification per transaction for it, however many rows changed.
                PERFORM pg_notify('{channel}', json_build_object(
                  'schema', TG_TABLE_SCHEMA, 'table', TG_TABLE_NAME)::text);
              END IF;
              RETURN NULL;
            END
            $f$"#
        ),
    ]
}

/// The condition on every capture trigger: not one of orgpool's own writes.
pub const NOT_OWN: &str = "current_setting('orgpool.writer', true) IS DISTINCT FROM 'sync'";
