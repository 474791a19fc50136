// Drives orgpool's fake org with the unmodified jsforce client library.
//
// Started by tests/jsforce_client.rs (or by hand against a running
// `orgpool fake-org`). Reads the org's address and credentials from:
//   FAKE_ORG_URL            base URL, e.g. http://127.0.0.1:41234
//   FAKE_ORG_CLIENT_ID      OAuth client id
//   FAKE_ORG_CLIENT_SECRET  OAuth client secret
//   FAKE_ORG_USERNAME       user name
//   FAKE_ORG_PASSWORD       password
// Uses only jsforce's public API. Prints one line per step and exits non-zero
// if any step fails.

import assert from 'node:assert/strict';
import jsforce from 'jsforce';

const API_VERSION = '62.0';
const STEP_TIMEOUT_MS = 90_000;
// A tag unique to this run, so the script can be re-run against the same org.
const RUN = Date.now().toString(36);

function env(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`jsforce: environment variable ${name} is not set`);
    process.exit(2);
  }
  return value;
}

const config = {
  url: env('FAKE_ORG_URL').replace(/\/+$/, ''),
  clientId: env('FAKE_ORG_CLIENT_ID'),
  clientSecret: env('FAKE_ORG_CLIENT_SECRET'),
  username: env('FAKE_ORG_USERNAME'),
  password: env('FAKE_ORG_PASSWORD'),
};

const conn = new jsforce.Connection({
  oauth2: {
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    loginUrl: config.url,
  },
  version: API_VERSION,
});

// Values later steps reuse.
const ctx = {};

const isSfId = (id) => typeof id === 'string' && /^[a-zA-Z0-9]{18}$/.test(id);

function need(key) {
  assert.ok(ctx[key] !== undefined, `needs "${key}" from an earlier step, which failed`);
  return ctx[key];
}

// Awaits `promise`, expecting it to reject with one of `codes` as errorCode.
async function expectError(promise, codes, what) {
  let result;
  try {
    result = await promise;
  } catch (err) {
    assert.ok(
      codes.includes(err.errorCode),
      `${what}: expected errorCode ${codes.join(' or ')}, got ${err.errorCode} (${err.message})`,
    );
    return err;
  }
  assert.fail(`${what}: expected errorCode ${codes.join(' or ')}, but it succeeded: ${JSON.stringify(result)}`);
}

// Runs a query with autoFetch, collecting records from the 'record' events.
async function collectQuery(soql) {
  const records = [];
  const query = conn.query(soql).on('record', (record) => records.push(record));
  const result = await query.run({ autoFetch: true, maxFetch: 1_000_000 });
  assert.equal(result.records.length, records.length, 'the query result holds every streamed record');
  return { records, totalSize: result.totalSize };
}

async function countOf(object) {
  const result = await conn.query(`SELECT COUNT() FROM ${object}`);
  assert.equal(typeof result.totalSize, 'number', 'COUNT() query has a numeric totalSize');
  assert.equal(result.records.length, 0, 'COUNT() query returns no records');
  return result.totalSize;
}

// Collects a Bulk 2.0 query result through jsforce's record stream.
async function bulkQuery(soql) {
  const stream = await conn.bulk2.query(soql, { pollInterval: 250, pollTimeout: 60_000 });
  return new Promise((resolve, reject) => {
    const records = [];
    stream.on('record', (record) => records.push(record));
    stream.on('error', reject);
    stream.on('end', () => resolve(records));
  });
}

const steps = [
  ['login (OAuth2 username-password)', async () => {
    const userInfo = await conn.login(config.username, config.password);
    assert.ok(conn.accessToken, 'conn.accessToken is set');
    assert.ok(conn.instanceUrl, 'conn.instanceUrl is set');
    assert.ok(userInfo.id && userInfo.organizationId, 'login returns user and org ids');
    return `instance ${conn.instanceUrl}, user ${userInfo.id}`;
  }],

  ['describe Account', async () => {
    const describe = await conn.sobject('Account').describe();
    assert.equal(describe.name, 'Account');
    assert.equal(describe.keyPrefix, '001');
    const names = new Set(describe.fields.map((f) => f.name));
    for (const field of ['Id', 'Name']) {
      assert.ok(names.has(field), `Account describe has field ${field}`);
    }
    const usage = conn.limitInfo?.apiUsage;
    assert.ok(usage && usage.limit > 0, 'Sforce-Limit-Info header was parsed into conn.limitInfo');
    return `${describe.fields.length} fields, api usage ${usage.used}/${usage.limit}`;
  }],

  ['describeGlobal', async () => {
    const global = await conn.describeGlobal();
    const names = new Set(global.sobjects.map((s) => s.name));
    for (const object of ['Account', 'Opportunity', 'Quote']) {
      assert.ok(names.has(object), `describeGlobal lists ${object}`);
    }
    return `${global.sobjects.length} sObjects`;
  }],

  ['query first page and queryMore', async () => {
    const soql = 'SELECT Id, Name, Account.Name FROM Opportunity';
    const first = await conn.query(soql, { autoFetch: false });
    assert.equal(first.done, false, 'first page of a large query is not done');
    assert.ok(first.nextRecordsUrl, 'first page has nextRecordsUrl');
    assert.ok(first.records.length > 0 && first.records.length < first.totalSize, 'first page is partial');
    assert.ok(
      first.records.some((r) => r.Account && typeof r.Account.Name === 'string'),
      'parent field Account.Name comes back as a nested record',
    );
    const more = await conn.queryMore(first.nextRecordsUrl);
    assert.ok(more.records.length > 0, 'queryMore returns records');
    assert.equal(more.totalSize, first.totalSize, 'queryMore reports the same totalSize');
    const firstIds = new Set(first.records.map((r) => r.Id));
    assert.ok(!more.records.some((r) => firstIds.has(r.Id)), 'second page does not repeat the first');
    ctx.oppId = first.records[0].Id;
    return `totalSize ${first.totalSize}, pages of ${first.records.length} and ${more.records.length}`;
  }],

  ['query with autoFetch (record stream)', async () => {
    const { records, totalSize } = await collectQuery('SELECT Id, Name, Account.Name FROM Opportunity');
    assert.equal(records.length, totalSize, 'collected exactly totalSize records');
    assert.ok(records.every((r) => isSfId(r.Id)), 'every Id has 18 characters');
    assert.equal(new Set(records.map((r) => r.Id)).size, records.length, 'Ids are unique');
    assert.ok(records.every((r) => r.Id.startsWith('006')), 'Opportunity Ids start with 006');
    const count = await countOf('Opportunity');
    assert.equal(count, records.length, 'SELECT COUNT() agrees with the records collected');
    return `${records.length} records, COUNT() ${count}`;
  }],

  ['CRUD on Account', async () => {
    const accounts = conn.sobject('Account');
    const created = await accounts.create({ Name: 'jsforce test', BillingCountry: 'Germany' });
    assert.equal(created.success, true, 'create succeeds');
    assert.ok(isSfId(created.id) && created.id.startsWith('001'), `18-char Account id, got ${created.id}`);
    const id = created.id;

    const fetched = await accounts.retrieve(id);
    assert.equal(fetched.Id, id);
    assert.equal(fetched.Name, 'jsforce test');
    assert.equal(fetched.BillingCountry, 'Germany');

    const updated = await accounts.update({ Id: id, Name: 'renamed' });
    assert.equal(updated.success, true, 'update succeeds');
    assert.equal((await accounts.retrieve(id)).Name, 'renamed', 'retrieve shows the update');

    const destroyed = await accounts.destroy(id);
    assert.equal(destroyed.success, true, 'destroy succeeds');
    const err = await expectError(accounts.retrieve(id), ['NOT_FOUND', 'ENTITY_IS_DELETED'], 'retrieve after destroy');
    return `created, read, updated and deleted ${id} (then ${err.errorCode})`;
  }],

  ['error codes', async () => {
    await expectError(
      conn.sobject('Account').create({ BillingCountry: 'France' }),
      ['REQUIRED_FIELD_MISSING'],
      'create Account without Name',
    );
    await expectError(conn.query('SELECT Id, NoSuchField__c FROM Account'), ['INVALID_FIELD'], 'query with a bad field');
    await expectError(conn.query('SELECT Id, Name FROM Account WHERE'), ['MALFORMED_QUERY'], 'malformed query');
    await expectError(conn.query('SELECT Id FROM NoSuchObject__c'), ['INVALID_TYPE'], 'query on an unknown object');
    return 'REQUIRED_FIELD_MISSING, INVALID_FIELD, MALFORMED_QUERY, INVALID_TYPE';
  }],

  ['upsert Quote by external Id', async () => {
    const oppId = need('oppId');
    const key = `jsforce-${RUN}-1`;
    const quotes = conn.sobject('Quote');
    const first = await quotes.upsert({ Orgpool_Key__c: key, Name: 'Q1', OpportunityId: oppId }, 'Orgpool_Key__c');
    assert.equal(first.success, true, 'first upsert succeeds');
    assert.equal(first.created, true, 'first upsert creates the Quote');
    assert.ok(isSfId(first.id) && first.id.startsWith('0Q0'), `18-char Quote id, got ${first.id}`);

    const second = await quotes.upsert({ Orgpool_Key__c: key, Name: 'Q1b', OpportunityId: oppId }, 'Orgpool_Key__c');
    assert.equal(second.success, true, 'second upsert succeeds');
    assert.ok(!second.created, 'second upsert updates, does not create');

    const found = await conn.query(`SELECT Id, Name, OpportunityId FROM Quote WHERE Orgpool_Key__c = '${key}'`);
    assert.equal(found.totalSize, 1, 'exactly one Quote has the key');
    assert.equal(found.records[0].Name, 'Q1b');
    assert.equal(found.records[0].Id, first.id);
    assert.equal(found.records[0].OpportunityId, oppId);
    ctx.quoteKey = key;
    return `${key} -> ${first.id}`;
  }],

  ['Bulk 2.0 query', async () => {
    const records = await bulkQuery('SELECT Id, Name FROM Account');
    const count = await countOf('Account');
    assert.equal(records.length, count, 'Bulk query row count equals REST COUNT()');
    assert.ok(records.every((r) => isSfId(r.Id) && r.Id.startsWith('001')), 'every row has an Account Id');
    assert.ok(records.every((r) => typeof r.Name === 'string' && r.Name.length > 0), 'every row has a Name');
    assert.equal(new Set(records.map((r) => r.Id)).size, records.length, 'Ids are unique');
    return `${records.length} rows`;
  }],

  ['Bulk 2.0 ingest insert', async () => {
    const tricky = `jsforce ${RUN}, "bulk" two`;
    const csv = [
      'Name,BillingCountry',
      `jsforce ${RUN} bulk one,Germany`,
      `"${tricky.replaceAll('"', '""')}",France`,
      `jsforce ${RUN} bulk three,Japan`,
      '',
    ].join('\n');
    const results = await conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'insert',
      input: csv,
      pollInterval: 250,
      pollTimeout: 60_000,
    });
    assert.equal(results.failedResults.length, 0, `no failed rows: ${JSON.stringify(results.failedResults)}`);
    assert.equal(results.successfulResults.length, 3, 'three successful rows');
    for (const row of results.successfulResults) {
      assert.ok(isSfId(row.sf__Id) && row.sf__Id.startsWith('001'), `sf__Id is an Account Id: ${row.sf__Id}`);
      assert.equal(String(row.sf__Created), 'true', 'insert rows are created');
    }
    const trickyRow = results.successfulResults.find((r) => r.Name === tricky);
    assert.ok(trickyRow, `successful results echo the quoted Name ${JSON.stringify(tricky)}`);
    const stored = await conn.sobject('Account').retrieve(trickyRow.sf__Id);
    assert.equal(stored.Name, tricky, 'the comma and quotes survive the CSV round trip');
    return `${results.successfulResults.length} inserted`;
  }],

  ['Bulk 2.0 ingest upsert', async () => {
    const oppId = need('oppId');
    const existing = need('quoteKey');
    const fresh = `jsforce-${RUN}-2`;
    const csv = [
      'Orgpool_Key__c,Name,OpportunityId',
      `${existing},Q1c,${oppId}`,
      `${fresh},Q2,${oppId}`,
      '',
    ].join('\n');
    const results = await conn.bulk2.loadAndWaitForResults({
      object: 'Quote',
      operation: 'upsert',
      externalIdFieldName: 'Orgpool_Key__c',
      input: csv,
      pollInterval: 250,
      pollTimeout: 60_000,
    });
    assert.equal(results.failedResults.length, 0, `no failed rows: ${JSON.stringify(results.failedResults)}`);
    assert.equal(results.successfulResults.length, 2, 'two successful rows');
    const byKey = new Map(results.successfulResults.map((r) => [r.Orgpool_Key__c, r]));
    assert.equal(String(byKey.get(existing)?.sf__Created), 'false', 'existing key is updated');
    assert.equal(String(byKey.get(fresh)?.sf__Created), 'true', 'new key is created');
    const found = await conn.query(
      `SELECT Name FROM Quote WHERE Orgpool_Key__c IN ('${existing}', '${fresh}') ORDER BY Name`,
    );
    assert.deepEqual(found.records.map((r) => r.Name), ['Q1c', 'Q2']);
    return `1 updated, 1 created`;
  }],
];

function withTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// A rejection nobody awaited is a bug in a step or in the client; report it as a failure.
let unhandled = 0;
process.on('unhandledRejection', (err) => {
  unhandled += 1;
  console.error(`jsforce: unhandled rejection: ${err?.stack ?? err}`);
});

let passed = 0;
let failed = 0;
for (const [name, run] of steps) {
  const started = Date.now();
  try {
    const detail = await withTimeout(run(), STEP_TIMEOUT_MS);
    passed += 1;
    console.log(`ok    ${name} (${Date.now() - started} ms)${detail ? `: ${detail}` : ''}`);
  } catch (err) {
    failed += 1;
    const code = err?.errorCode ? ` [${err.errorCode}]` : '';
    console.log(`FAIL  ${name}${code}: ${err?.message ?? err}`);
    if (err?.stack && err.name !== 'AssertionError') console.error(err.stack);
    if (name.startsWith('login')) break; // nothing else can work without a session
  }
}

failed += unhandled;
console.log(`jsforce: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
