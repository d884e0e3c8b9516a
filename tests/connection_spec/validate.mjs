// Validates connections against GetSpec's JSON Schema with ajv's draft
// 2020-12 build, for tests/connection_spec_e2e_test.cc: one verdict per
// input line, in order, as a JSON line {"valid": bool, "errors": "...",
// "instance": "<the JSON validated>"}. With --member NAME each input line is
// an object whose member NAME is validated (a test case and its connection).
//
//   CONNECTION_SPEC_NODE_MODULES=DIR node validate.mjs schema.json cases.jsonl --member connection
//
// The schema is compiled with strictSchema, so a keyword ajv does not know
// (a typo in the table) fails the run instead of being ignored; the x-
// keywords of the UI hints are declared as annotations. strictRequired is
// off: rules inside if/then require properties declared by the object.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const modules = process.env.CONNECTION_SPEC_NODE_MODULES;
if (!modules) throw new Error("CONNECTION_SPEC_NODE_MODULES is not set (run tests/connection_spec/ajv-validate)");
const require = createRequire(join(modules, "noop.js"));
const Ajv2020 = require("ajv/dist/2020").default;

const [schemaFile, connectionsFile, option, member] = process.argv.slice(2);
if (option !== undefined && option !== "--member") throw new Error(`unknown option ${option}`);
const schema = JSON.parse(readFileSync(schemaFile, "utf8"));
const ajv = new Ajv2020({
  strictSchema: true,
  strictTypes: false,
  strictRequired: false,
  allowUnionTypes: true,
  allErrors: true,
});
ajv.addVocabulary(["x-ui", "x-ui-groups", "x-proto"]);
const validate = ajv.compile(schema);

const lines = readFileSync(connectionsFile, "utf8").split("\n").filter((l) => l.trim() !== "");
for (const line of lines) {
  const parsed = JSON.parse(line);
  const instance = member === undefined ? parsed : parsed[member];
  const valid = validate(instance);
  const errors = valid ? "" : ajv.errorsText(validate.errors, { separator: "; " });
  process.stdout.write(JSON.stringify({ valid, errors, instance: JSON.stringify(instance) }) + "\n");
}
