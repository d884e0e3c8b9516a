// Walks through the connector.v1.Connector API from Node.js: stores a
// connection, tests it, previews a query, streams the records in two parts
// (stopping after a few and resuming from the last record's cursor),
// acknowledges them, then shows how a wrong password and a query that does
// not parse are reported. One output line per step (client_examples/README.md).
//
//   node connector_client.mjs --server=127.0.0.1:50051 --imap-url=imaps://localhost:993 \
//       --user=alice --password-file=pw.txt --ca-file=cert.pem
//
// No generated code: @grpc/proto-loader reads proto/ at start-up.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

const PROTO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'proto');
const QUERY = 'SELECT uid, subject, from, date';
const BAD_QUERY = 'SELECT subjcet';
const TIMEOUT_MS = 60_000;

function out(...words) {
  // Control characters in values would break the one-line-per-step format.
  console.log(words.join(' ').replace(/[\x00-\x1f\x7f]/g, ' '));
}

const { values: opts } = parseArgs({
  options: {
    server: { type: 'string', default: process.env.CONNECTOR_ADDR },
    'imap-url': { type: 'string', default: process.env.IMAP_URL },
    user: { type: 'string', default: process.env.IMAP_USER },
    'password-file': { type: 'string', default: process.env.IMAP_PASSWORD_FILE },
    'ca-file': { type: 'string', default: process.env.IMAP_CA_FILE },
    name: { type: 'string', default: 'demo' },
    'stop-after': { type: 'string', default: '2' },
    batch: { type: 'string', default: '3' },
  },
});
for (const required of ['server', 'imap-url', 'user', 'password-file']) {
  if (!opts[required]) {
    console.error(`--${required} (or its environment variable) is required`);
    process.exit(2);
  }
}
const stopAfter = Number(opts['stop-after']);
const batch = Number(opts.batch);

// keepCase: fields keep their proto names (max_batch_records). enums and
// longs as strings/numbers, defaults filled in, and the set oneof member
// named in a virtual field (Value.kind = 'string_value').
const definition = protoLoader.loadSync('connector/v1/connector.proto', {
  includeDirs: [PROTO_DIR],
  keepCase: true,
  enums: String,
  longs: Number,
  defaults: true,
  oneofs: true,
});
const { Connector } = grpc.loadPackageDefinition(definition).connector.v1;

// The google.rpc.Status in the "grpc-status-details-bin" trailer is not part
// of any method, so it is decoded with protobufjs directly.
const rpcTypes = new protobuf.Root();
rpcTypes.resolvePath = (_origin, target) => join(PROTO_DIR, target);
rpcTypes.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], { keepCase: true });
const RpcStatus = rpcTypes.lookupType('google.rpc.Status');
const BadRequest = rpcTypes.lookupType('google.rpc.BadRequest');

function fieldViolations(err) {
  const violations = [];
  for (const raw of err.metadata?.get('grpc-status-details-bin') ?? []) {
    for (const detail of RpcStatus.decode(raw).details) {
      if (detail.type_url.endsWith('/google.rpc.BadRequest')) {
        violations.push(...BadRequest.decode(detail.value).field_violations);
      }
    }
  }
  return violations;
}

function printError(step, err) {
  if (err.code === undefined) throw err; // not a gRPC error
  out('ERROR', step, grpc.status[err.code], err.details);
  for (const v of fieldViolations(err)) out('FIELD', v.field, v.description);
}

const deadline = () => ({ deadline: Date.now() + TIMEOUT_MS });

// grpc-js unary methods take a callback; this makes them awaitable.
function unary(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, deadline(), (err, reply) => (err ? reject(err) : resolve(reply)));
  });
}

// Streams records, printing each; cancels the call after stopAfter records
// when given. Returns the count and the cursor of the last record printed.
async function stream(client, request, stopAfter) {
  const call = client.StreamRecords(request, deadline());
  let count = 0;
  let cursor = '';
  try {
    // for await takes one batch at a time: the server reads IMAP only as
    // fast as this loop goes.
    for await (const batch of call) {
      for (const record of batch.records) {
        out('RECORD', record.uid, record.fields.subject?.string_value ?? '');
        count += 1;
        cursor = record.cursor;
        if (count === stopAfter) {
          // The rest of this batch is dropped: we resume after the last
          // record we kept.
          call.cancel();
          return { count, cursor };
        }
      }
    }
  } catch (err) {
    if (!(stopAfter !== undefined && err.code === grpc.status.CANCELLED)) throw err;
  }
  return { count, cursor };
}

const password = readFileSync(opts['password-file'], 'utf8').replace(/\r?\n$/, '');
const caPem = opts['ca-file'] ? readFileSync(opts['ca-file'], 'utf8') : '';
const client = new Connector(opts.server, grpc.credentials.createInsecure());
const conn = {
  name: opts.name,
  server_url: opts['imap-url'],
  username: opts.user,
  password,
  tls: { ca_bundle_pem: caPem },
  default_folder: 'INBOX',
  query: QUERY,
};
const stored = { name: opts.name };

let step = 'configure';
let total = 0;
try {
  const configured = await unary(client, 'Configure', { connection: conn });
  const c = configured.connection;
  out('STEP configure ok', `replaced=${configured.replaced}`, `host=${c.effective_host}`,
    `port=${c.effective_port}`);

  step = 'test_connection';
  const result = await unary(client, 'TestConnection', { name: opts.name });
  for (const s of result.stages) {
    out('STAGE', s.name, s.result, `${s.duration_ms.toFixed(1)}ms`, s.detail);
  }
  if (!result.ok) {
    out('FAILURE', step, result.category, result.message);
    process.exit(1);
  }
  out('STEP test_connection ok', `folder=${result.folder}`, `messages=${result.message_count}`);

  step = 'test_query';
  const plan = await unary(client, 'TestQuery', { connection: stored });
  for (const command of plan.imap_commands) out('PLAN command', command);
  out('PLAN filter', plan.client_filter || '-');
  for (const f of plan.folders) {
    out('PLAN folder', f.folder, `messages=${f.messages}`, `matched=${f.matched_by_search}`,
      `exact=${f.search_is_exact}`);
  }
  out('STEP test_query ok', `columns=${plan.schema.length}`, `samples=${plan.samples.length}`);

  step = 'stream';
  const first = await stream(client, { connection: stored, max_batch_records: batch }, stopAfter);
  out('CURSOR', first.cursor);
  out('STEP stream stopped', `records=${first.count}`);

  step = 'resume';
  const rest = await stream(client, {
    connection: stored, max_batch_records: batch, resume_after: first.cursor,
  });
  out('STEP resume ok', `records=${rest.count}`);
  total = first.count + rest.count;

  step = 'acknowledge';
  const ack = await unary(client, 'Acknowledge', {
    connection: stored, cursor: rest.cursor || first.cursor,
  });
  out('STEP acknowledge ok', `cursor=${ack.cursor}`, `changed=${ack.messages_changed}`);
} catch (err) {
  printError(step, err);
  process.exit(1);
}

// A wrong password: TestConnection answers ok=false with a category...
const wrong = { ...conn, name: `${opts.name}-wrong`, password: `not-${password}` };
try {
  const result = await unary(client, 'TestConnection', { connection: wrong });
  if (result.ok) out('STEP wrong_password ok');
  else out('FAILURE wrong_password', result.category, result.message);
} catch (err) {
  printError('wrong_password', err);
}

// ...while reading records with it fails with UNAUTHENTICATED.
try {
  const { count } = await stream(client, { connection: { connection: wrong } });
  out('STEP wrong_password_stream ok', `records=${count}`);
} catch (err) {
  printError('wrong_password_stream', err);
}

// A query that does not parse: INVALID_ARGUMENT with a BadRequest on "query".
try {
  await unary(client, 'TestQuery', { connection: stored, query: BAD_QUERY });
  out('STEP bad_query ok');
} catch (err) {
  printError('bad_query', err);
}

out('DONE', `records=${total}`);
client.close();
