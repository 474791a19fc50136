-- The ledger: the source of truth for work. Every run and chunk is a row here before
-- anything is pushed to Redis; Redis only carries chunk ids, and the scheduler re-pushes
-- chunks whose task went missing (Redis flushed or restarted).

-- One row per mapped object: its table, sync state and resync watermark.
CREATE TABLE orgpool.mappings (
    object        text PRIMARY KEY,              -- Salesforce API name, as in mappings.toml
    schema_name   text NOT NULL,                 -- Postgres schema of the mirror table
    table_name    text NOT NULL,                 -- Postgres table (object lowercased)
    state         text NOT NULL DEFAULT 'new'    -- new, loading, ready, error
                  CHECK (state IN ('new', 'loading', 'ready', 'error')),
    error         text,                          -- what is wrong, when state = error
    fix           text,                          -- what to do about it
    config        jsonb NOT NULL DEFAULT '{}',   -- the mappings.toml entry as last enqueued
    columns       jsonb NOT NULL DEFAULT '[]',   -- [{field, name, pg_type}] as last applied
    missing       jsonb NOT NULL DEFAULT '[]',   -- columns whose field left the org (kept)
    watermark     timestamptz,                   -- resync has everything modified before this
    last_sync_at  timestamptz,                   -- when a load or resync last committed
    last_resync_at    timestamptz,               -- when the last resync run was created
    last_reconcile_at timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- One row per run: an initial load, resync, reload or reconcile of one object.
CREATE TABLE orgpool.runs (
    id            bigserial PRIMARY KEY,
    kind          text NOT NULL,                 -- initial_load, resync, reload, reconcile
    object        text NOT NULL,
    lane          text NOT NULL,                 -- at most one active run per lane
    state         text NOT NULL DEFAULT 'planning'
                  CHECK (state IN ('planning', 'running', 'succeeded', 'failed', 'cancelled')),
    window_from   timestamptz,                   -- resync: SystemModstamp window
    window_to     timestamptz,
    chunks_total  integer NOT NULL DEFAULT 0,
    expected_rows bigint,                        -- the planner's count, for progress
    error         text,
    requested_by  text NOT NULL DEFAULT 'cli',   -- cli, scheduler, api
    created_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz
);
CREATE UNIQUE INDEX runs_one_active_per_lane ON orgpool.runs (lane)
    WHERE state IN ('planning', 'running');
CREATE INDEX runs_object_created ON orgpool.runs (object, created_at DESC);

-- One row per chunk: the unit a worker claims, retries and commits.
CREATE TABLE orgpool.chunks (
    id            bigserial PRIMARY KEY,
    run_id        bigint NOT NULL REFERENCES orgpool.runs (id) ON DELETE CASCADE,
    kind          text NOT NULL,                 -- the job kind (= queue)
    seq           integer NOT NULL,              -- order within the run (0 = the plan step)
    step          text NOT NULL DEFAULT 'work'   -- plan: decide the chunks; work: move rows
                  CHECK (step IN ('plan', 'work')),
    lo            text,                          -- Id range [lo, hi); null = unbounded
    hi            text,
    since         timestamptz,                   -- resync window [since, until)
    until         timestamptz,
    expected_rows bigint,
    state         text NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'queued', 'running', 'done', 'failed')),
    attempts      integer NOT NULL DEFAULT 0,    -- attempts spent (outage and limit waits spend none)
    waits         integer NOT NULL DEFAULT 0,    -- times it waited for an outage or limit
    rows          bigint NOT NULL DEFAULT 0,
    error         text,
    error_class   text,                          -- outage, limit, auth, permanent, record, poison, internal
    task_id       text,                          -- the Redis task carrying it now
    not_before    timestamptz,                   -- snoozed until
    pushed_at     timestamptz,
    worker        text,
    heartbeat_at  timestamptz,
    started_at    timestamptz,
    finished_at   timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (run_id, seq)
);
CREATE INDEX chunks_open ON orgpool.chunks (state, kind) WHERE state <> 'done';
CREATE INDEX chunks_run ON orgpool.chunks (run_id, state);
