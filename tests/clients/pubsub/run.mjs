// Subscribes to orgpool's fake org with the unmodified salesforce-pubsub-api-client,
// Salesforce's Node client for the Pub/Sub API (pinned in package.json).
//
// Started by tests/pubsub_client.rs, which drives it over stdin and reads stdout:
// every stdout line is one JSON object, so the test can check what the client
// decoded. The client's own log goes to stderr.
//
// Environment:
//   FAKE_ORG_URL            https base URL of the org (OAuth login URL, instance URL)
//   FAKE_ORG_CLIENT_ID      connected-app client id (client-credentials flow)
//   FAKE_ORG_CLIENT_SECRET  its secret
//   FAKE_ORG_PUBSUB         the Pub/Sub endpoint, host:port
//   FAKE_ORG_CERT           the org's certificate (PEM file)
//
// Commands, one JSON object a line on stdin:
//   {"op":"connect","auth":"oauth-client-credentials"}
//   {"op":"connect","auth":"user-supplied","accessToken":…,"instanceUrl":…,"organizationId":…}
//   {"op":"subscribe","topic":"/data/AccountChangeEvent"}            (LATEST)
//   {"op":"subscribe","topic":…,"earliest":true}                      (EARLIEST)
//   {"op":"subscribe","topic":…,"replayId":123}                       (CUSTOM)
//   {"op":"close"}    {"op":"exit"}
// Output lines: {"type":"tls"|"connected"|"event"|"keepalive"|"error"|"end"|"closed"|"failed",…}.

import fs from 'node:fs';
import readline from 'node:readline';
import tls from 'node:tls';
import PubSubApiClient from 'salesforce-pubsub-api-client';

function env(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`pubsub client: environment variable ${name} is not set`);
    process.exit(2);
  }
  return value;
}

const config = {
  url: env('FAKE_ORG_URL').replace(/\/+$/, ''),
  clientId: env('FAKE_ORG_CLIENT_ID'),
  clientSecret: env('FAKE_ORG_CLIENT_SECRET'),
  endpoint: env('FAKE_ORG_PUBSUB'),
  certFile: env('FAKE_ORG_CERT'),
};

// commitNumber and other longs may come back as BigInt.
function emit(obj) {
  process.stdout.write(
    `${JSON.stringify(obj, (_, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`,
  );
}

// The client logs through this; stdout is kept for the JSON lines.
const logger = {
  debug: (...a) => console.error('[client debug]', ...a),
  info: (...a) => console.error('[client info]', ...a),
  warn: (...a) => console.error('[client warn]', ...a),
  error: (...a) => console.error('[client error]', ...a),
};

// The client hands grpc-js its own bundled CA roots, so neither
// GRPC_DEFAULT_SSL_ROOTS_FILE_PATH nor NODE_EXTRA_CA_CERTS reach the gRPC channel; its
// documented switch for self-signed test servers is rejectUnauthorizedSsl: false. So the
// certificate is checked here first, as a TLS client that trusts only the org's PEM:
// it must verify for the endpoint and offer HTTP/2.
function checkCertificate() {
  const [host, port] = config.endpoint.split(':');
  return new Promise((resolve) => {
    const socket = tls.connect({
      host,
      port: Number(port),
      ca: fs.readFileSync(config.certFile),
      servername: 'localhost',
      ALPNProtocols: ['h2'],
      rejectUnauthorized: false,
    });
    socket.once('secureConnect', () => {
      const out = {
        type: 'tls',
        authorized: socket.authorized,
        authorizationError: socket.authorizationError ? String(socket.authorizationError) : null,
        alpn: socket.alpnProtocol,
      };
      socket.end();
      resolve(out);
    });
    socket.once('error', (err) => resolve({ type: 'tls', authorized: false, authorizationError: String(err), alpn: null }));
  });
}

let client = null;

function callback(subscription, callbackType, data) {
  const topic = subscription.topicName;
  switch (callbackType) {
    case 'event':
      emit({ type: 'event', topic, id: data.id, schemaId: data.schemaId, replayId: data.replayId, payload: data.payload });
      break;
    case 'grpcKeepAlive':
      emit({ type: 'keepalive', topic, lastReplayId: subscription.lastReplayId });
      break;
    case 'error':
      emit({ type: 'error', topic, message: data?.message ?? String(data), code: data?.code ?? null, details: data?.details ?? null });
      break;
    case 'end':
      emit({ type: 'end', topic });
      break;
    case 'lastEvent':
      emit({ type: 'lastEvent', topic });
      break;
    default:
      break; // grpcStatus: the stream's trailers, already reported as error or end
  }
}

async function connect(cmd) {
  const base = { pubSubEndpoint: config.endpoint, rejectUnauthorizedSsl: false };
  const auth =
    cmd.auth === 'user-supplied'
      ? {
          authType: 'user-supplied',
          accessToken: cmd.accessToken,
          instanceUrl: cmd.instanceUrl,
          organizationId: cmd.organizationId,
        }
      : {
          authType: 'oauth-client-credentials',
          loginUrl: config.url,
          clientId: config.clientId,
          clientSecret: config.clientSecret,
        };
  client = new PubSubApiClient({ ...base, ...auth }, logger);
  await client.connect();
  emit({ type: 'connected', auth: auth.authType });
}

function subscribe(cmd) {
  const n = cmd.numRequested ?? null;
  if (cmd.replayId !== undefined) {
    client.subscribeFromReplayId(cmd.topic, callback, n, cmd.replayId);
  } else if (cmd.earliest) {
    client.subscribeFromEarliestEvent(cmd.topic, callback, n);
  } else {
    client.subscribe(cmd.topic, callback, n);
  }
}

async function run(cmd) {
  switch (cmd.op) {
    case 'connect':
      return connect(cmd);
    case 'subscribe':
      return subscribe(cmd);
    case 'close':
      client?.close();
      client = null;
      return emit({ type: 'closed' });
    case 'exit':
      client?.close();
      return process.exit(0);
    default:
      throw new Error(`unknown op ${cmd.op}`);
  }
}

process.on('unhandledRejection', (err) => {
  emit({ type: 'failed', message: `unhandled rejection: ${err?.stack ?? err}` });
});

emit(await checkCertificate());
const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  try {
    await run(JSON.parse(line));
  } catch (err) {
    const cause = err?.cause ? `: ${err.cause?.message ?? err.cause}` : '';
    emit({ type: 'failed', message: `${err?.message ?? err}${cause}` });
  }
}
client?.close();
process.exit(0);
