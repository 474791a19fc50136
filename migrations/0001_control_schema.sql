-- The control schema: orgpool's own tables (mappings, watermarks, runs, chunks,
-- failures) live here, apart from the mirror tables in schema "salesforce".
CREATE SCHEMA IF NOT EXISTS orgpool;
COMMENT ON SCHEMA orgpool IS 'orgpool control schema: the ledger of runs and chunks, mappings, watermarks and failures';
