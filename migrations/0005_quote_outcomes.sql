-- Quote runs that real data can finish. A run whose chunks all completed but left
-- records Salesforce refused for good ends `succeeded_with_failures` (the records stay
-- in record_failures; `orgpool jobs retry --records` re-opens the run for them). A
-- Quote whose Opportunity left the selection is `stale` once marked in Salesforce.

ALTER TABLE orgpool.runs DROP CONSTRAINT runs_state_check;
ALTER TABLE orgpool.runs ADD CONSTRAINT runs_state_check
    CHECK (state IN ('planning', 'running', 'succeeded', 'succeeded_with_failures', 'failed', 'cancelled'));

ALTER TABLE orgpool.quotes DROP CONSTRAINT quotes_state_check;
ALTER TABLE orgpool.quotes ADD CONSTRAINT quotes_state_check
    CHECK (state IN ('computed', 'pushed', 'failed', 'stale'));

CREATE INDEX record_failures_run ON orgpool.record_failures (run_id) WHERE NOT resolved;
