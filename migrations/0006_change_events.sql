-- Change Data Capture. `subscriptions` is where each mapping's event stream stands:
-- the replay id of the last event whose changes are in the mirror (written in the
-- same transaction as those changes, so a restart resumes exactly there), what the
-- subscriber is doing, and counts for status. `change_events` is the inbox: events
-- received and not yet applied, in the order they arrived; a `change_events` run
-- claims a prefix of an object's rows, applies them and deletes them in one commit.

CREATE TABLE orgpool.subscriptions (
    object       text PRIMARY KEY,          -- the mapping's object
    topic        text NOT NULL,             -- /data/<Object>ChangeEvent
    replay_id    bytea,                     -- last event applied to the mirror
    replay_at    timestamptz,               -- its commitTimestamp
    state        text NOT NULL DEFAULT 'starting'
                 CHECK (state IN ('starting', 'live', 'retrying', 'healing', 'stopped')),
    detail       text,                      -- why, when not live
    received     bigint NOT NULL DEFAULT 0, -- events stored in the inbox
    applied      bigint NOT NULL DEFAULT 0, -- events applied to the mirror
    gaps         bigint NOT NULL DEFAULT 0, -- gaps healed by a resync
    changed_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orgpool.change_events (
    seq          bigserial PRIMARY KEY,
    object       text NOT NULL,
    replay_id    bytea NOT NULL,
    commit_at    timestamptz NOT NULL,      -- the change's commitTimestamp
    received_at  timestamptz NOT NULL DEFAULT now(),
    run_id       bigint,                    -- the change_events run that took it
    event        jsonb NOT NULL,            -- the decoded event (src/events/decode.rs)
    UNIQUE (object, replay_id)
);
CREATE INDEX change_events_object_seq ON orgpool.change_events (object, seq);
