-- Quote generation: the rules each run used, the Opportunities a chunk covers, the
-- computed Quotes and lines (readable by the app while Salesforce is unreachable, with
-- the Salesforce Ids once known), and per-record failures from Bulk ingest.

ALTER TABLE orgpool.runs ADD COLUMN params jsonb NOT NULL DEFAULT '{}';
ALTER TABLE orgpool.chunks ADD COLUMN items text[];

-- Every rules file a run used, by version (a hash of the pricing and quote fields).
CREATE TABLE orgpool.quote_rules (
    version     text PRIMARY KEY,
    rules       text NOT NULL,                  -- the quotes.toml text
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orgpool.quotes (
    key               text PRIMARY KEY,         -- Orgpool_Key__c: Opportunity Id (replace) or Id:version
    opportunity_sfid  varchar(18) NOT NULL,
    opportunity_modstamp timestamptz,           -- the Opportunity's SystemModstamp when priced
    rules_version     text NOT NULL,
    name              text NOT NULL,
    status            text NOT NULL,
    expiration_date   date,
    pricebook2id      varchar(18),
    line_count        integer NOT NULL,
    total             numeric(18, 2) NOT NULL,
    sf_id             varchar(18),              -- the Quote's Salesforce Id once pushed
    state             text NOT NULL DEFAULT 'computed'
                      CHECK (state IN ('computed', 'pushed', 'failed')),
    error             text,
    run_id            bigint,
    computed_at       timestamptz NOT NULL DEFAULT now(),
    pushed_at         timestamptz
);
CREATE INDEX quotes_opportunity ON orgpool.quotes (opportunity_sfid);

CREATE TABLE orgpool.quote_lines (
    key                    text PRIMARY KEY,    -- Orgpool_Key__c: quote key : line Id
    quote_key              text NOT NULL REFERENCES orgpool.quotes (key) ON DELETE CASCADE,
    opportunity_line_sfid  varchar(18) NOT NULL,
    product2id             varchar(18),
    pricebookentryid       varchar(18),
    quantity               numeric NOT NULL,
    unit_price             numeric(18, 2) NOT NULL,
    discount               numeric(5, 2) NOT NULL,
    total                  numeric(18, 2) NOT NULL,
    sf_id                  varchar(18),
    state                  text NOT NULL DEFAULT 'computed'   -- stale: its Opportunity line is gone; delete it
                           CHECK (state IN ('computed', 'pushed', 'failed', 'stale')),
    error                  text
);
CREATE INDEX quote_lines_quote ON orgpool.quote_lines (quote_key);

-- A record Salesforce refused, per Opportunity, until a later push succeeds.
CREATE TABLE orgpool.record_failures (
    id                bigserial PRIMARY KEY,
    run_id            bigint,
    chunk_id          bigint,
    opportunity_sfid  varchar(18),
    object            text NOT NULL,            -- Quote or QuoteLineItem
    key               text NOT NULL,
    code              text NOT NULL,
    message           text NOT NULL,
    attempts          integer NOT NULL DEFAULT 1,
    resolved          boolean NOT NULL DEFAULT false,
    at                timestamptz NOT NULL DEFAULT now(),
    UNIQUE (object, key)
);
CREATE INDEX record_failures_open ON orgpool.record_failures (resolved, at);
