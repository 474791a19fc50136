-- Typed job kinds: a work chunk carries its kind's chunk spec as jsonb (an Id range,
-- a SystemModstamp window, the Opportunities of a quote chunk ...), decoded by the
-- kind, instead of a nullable union of columns on every chunk. A run keeps its typed
-- arguments in `params` and what its plan found in `summary`. A cancelled run's open
-- chunks become `cancelled`.

ALTER TABLE orgpool.chunks ADD COLUMN spec jsonb NOT NULL DEFAULT '{}';

UPDATE orgpool.chunks SET spec = CASE
        WHEN items IS NOT NULL THEN jsonb_build_object('opportunities', to_jsonb(items))
        WHEN since IS NOT NULL THEN jsonb_build_object('window',
            jsonb_build_object('since', to_jsonb(since), 'until', to_jsonb(until)))
        ELSE jsonb_build_object('range', jsonb_build_object('lo', to_jsonb(lo), 'hi', to_jsonb(hi)))
    END
 WHERE step = 'work';

ALTER TABLE orgpool.chunks
    DROP COLUMN lo, DROP COLUMN hi, DROP COLUMN since, DROP COLUMN until, DROP COLUMN items;

ALTER TABLE orgpool.chunks DROP CONSTRAINT chunks_state_check;
ALTER TABLE orgpool.chunks ADD CONSTRAINT chunks_state_check
    CHECK (state IN ('pending', 'queued', 'running', 'done', 'failed', 'cancelled'));
DROP INDEX orgpool.chunks_open;
CREATE INDEX chunks_open ON orgpool.chunks (state, kind) WHERE state NOT IN ('done', 'cancelled');

-- A reload is an initial load into a shadow table: its arguments say so.
UPDATE orgpool.runs SET params = params || '{"into": "shadow"}' WHERE kind = 'reload';

ALTER TABLE orgpool.runs ADD COLUMN summary jsonb NOT NULL DEFAULT '{}';
UPDATE orgpool.runs SET summary = jsonb_strip_nulls(jsonb_build_object(
        'selected', params -> 'selected', 'skipped_no_lines', params -> 'skipped_no_lines')),
    params = params - 'selected' - 'skipped_no_lines'
 WHERE kind = 'quote_generation';
