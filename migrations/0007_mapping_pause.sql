-- Pausing a mapping (`orgpool mappings pause OBJECT`, the console): the scheduler
-- starts no run for a paused mapping and the change-event supervisor keeps no stream
-- for it. Runs already under way go on (cancel them to stop them); resuming picks the
-- schedule up where it stands, the watermark unchanged.
ALTER TABLE orgpool.mappings
    ADD COLUMN paused    boolean NOT NULL DEFAULT false,
    ADD COLUMN paused_at timestamptz;               -- when it was paused, while it is
