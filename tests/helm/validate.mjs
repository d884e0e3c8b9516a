// Offline schema checks for rendered Kubernetes manifests, two ways:
// kubernetes-models' validators (types, enums, required fields, formats) and
// a TypeScript compile of each document as an object literal of its
// kubernetes-types type, whose excess-property check catches unknown and
// misspelt fields. ServiceMonitor uses @kubernetes-models/prometheus-operator
// for both.
//
//   HELM_CHECK_NODE_MODULES=DIR node tests/helm/validate.mjs a.yaml b.yaml
//   const errors = await validateDocuments([{ source: "a.yaml", doc }]);
//
// The packages come from HELM_CHECK_NODE_MODULES (a node_modules folder that
// scripts/helm-check installs from tests/helm/package-lock.json).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export function nodeModules() {
  const dir = process.env.HELM_CHECK_NODE_MODULES;
  if (!dir) throw new Error("HELM_CHECK_NODE_MODULES is not set (run scripts/helm-check)");
  return dir;
}

export function requireTool(name) {
  return createRequire(join(nodeModules(), "noop.js"))(name);
}

// Every kind the chart renders. A kind missing here fails validation, so a
// new template cannot go unchecked.
const KINDS = {
  "v1/ConfigMap": { model: "kubernetes-models/v1/ConfigMap", types: ["kubernetes-types/core/v1", "ConfigMap"] },
  "v1/Secret": { model: "kubernetes-models/v1/Secret", types: ["kubernetes-types/core/v1", "Secret"] },
  "v1/Service": { model: "kubernetes-models/v1/Service", types: ["kubernetes-types/core/v1", "Service"] },
  "v1/ServiceAccount": {
    model: "kubernetes-models/v1/ServiceAccount",
    types: ["kubernetes-types/core/v1", "ServiceAccount"],
  },
  "v1/PersistentVolumeClaim": {
    model: "kubernetes-models/v1/PersistentVolumeClaim",
    types: ["kubernetes-types/core/v1", "PersistentVolumeClaim"],
  },
  "apps/v1/Deployment": { model: "kubernetes-models/apps/v1/Deployment", types: ["kubernetes-types/apps/v1", "Deployment"] },
  "policy/v1/PodDisruptionBudget": {
    model: "kubernetes-models/policy/v1/PodDisruptionBudget",
    types: ["kubernetes-types/policy/v1", "PodDisruptionBudget"],
  },
  "autoscaling/v2/HorizontalPodAutoscaler": {
    model: "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler",
    types: ["kubernetes-types/autoscaling/v2", "HorizontalPodAutoscaler"],
  },
  "networking.k8s.io/v1/NetworkPolicy": {
    model: "kubernetes-models/networking.k8s.io/v1/NetworkPolicy",
    types: ["kubernetes-types/networking/v1", "NetworkPolicy"],
  },
  "monitoring.coreos.com/v1/ServiceMonitor": {
    model: "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor",
    types: ["@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor", "IServiceMonitor"],
  },
};

function kindKey(doc) {
  return `${doc?.apiVersion}/${doc?.kind}`;
}

export function describe({ source, doc }) {
  return `${source}: ${doc?.kind ?? "?"}/${doc?.metadata?.name ?? "?"}`;
}

// Parses `helm template` output into [{source, doc}], skipping empty documents.
export function parseManifests(text, source) {
  const YAML = requireTool("yaml");
  const out = [];
  for (const d of YAML.parseAllDocuments(text)) {
    if (d.errors.length) throw new Error(`${source}: ${d.errors[0].message}`);
    const doc = d.toJS();
    if (doc != null) out.push({ source, doc });
  }
  return out;
}

// kubernetes-models' ajv validators. Returns one message per failing document.
export async function validateWithModels(docs) {
  const errors = [];
  for (const entry of docs) {
    const spec = KINDS[kindKey(entry.doc)];
    if (!spec) {
      errors.push(`${describe(entry)}: no schema for ${kindKey(entry.doc)}`);
      continue;
    }
    const mod = await import(pathToFileURL(join(nodeModules(), `${spec.model}.js`)).href);
    const Model = mod[entry.doc.kind];
    try {
      new Model(entry.doc).validate();
    } catch (e) {
      errors.push(`${describe(entry)}: ${e.message}`);
    }
  }
  return errors;
}

// Compiles every document as a typed object literal in one TypeScript
// program. Returns one message per diagnostic, naming the document and the
// offending line.
export function validateWithTypes(docs) {
  const ts = requireTool("typescript");
  const nm = nodeModules();
  const dir = mkdtempSync(join(tmpdir(), "helm-check-ts-"));
  try {
    const imports = new Map();
    const lines = [];
    const owners = []; // line index -> entry
    const errors = [];
    const push = (text, entry) => {
      lines.push(text);
      owners.push(entry);
    };
    docs.forEach((entry, i) => {
      const spec = KINDS[kindKey(entry.doc)];
      if (!spec) {
        errors.push(`${describe(entry)}: no type for ${kindKey(entry.doc)}`);
        return;
      }
      const [module, type] = spec.types;
      if (!imports.has(module)) imports.set(module, `m${imports.size}`);
      const body = JSON.stringify(entry.doc, null, 2).split("\n");
      push(`export const doc${i}: ${imports.get(module)}.${type} = ${body[0]}`, entry);
      for (const l of body.slice(1)) push(l, entry);
      lines[lines.length - 1] += ";";
    });
    const header = [...imports].map(([module, alias]) => `import type * as ${alias} from ${JSON.stringify(join(nm, module))};`);
    const file = join(dir, "manifests.ts");
    writeFileSync(file, [...header, ...lines].join("\n") + "\n");
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
      lib: ["lib.es2020.d.ts"],
      target: ts.ScriptTarget.ES2020,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
    });
    for (const d of ts.getPreEmitDiagnostics(program)) {
      const message = ts.flattenDiagnosticMessageText(d.messageText, " ");
      if (!d.file || d.file.fileName !== file) {
        errors.push(`TypeScript: ${message}`);
        continue;
      }
      const { line } = d.file.getLineAndCharacterOfPosition(d.start);
      const index = line - header.length;
      const entry = owners[index];
      const where = entry ? describe(entry) : "header";
      errors.push(`${where}: ${message} (at: ${(lines[index] ?? "").trim()})`);
    }
    return errors;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function validateDocuments(docs) {
  return [...(await validateWithModels(docs)), ...validateWithTypes(docs)];
}

// Command line: validates every document of the given files.
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const files = process.argv.slice(2);
  if (!files.length) {
    console.error("usage: node validate.mjs RENDERED.yaml...");
    process.exit(2);
  }
  const docs = files.flatMap((f) => parseManifests(readFileSync(f, "utf8"), f));
  const errors = await validateDocuments(docs);
  for (const e of errors) console.error(`INVALID ${e}`);
  const kinds = [...new Set(docs.map((e) => e.doc.kind))].sort().join(", ");
  console.log(`validate: ${docs.length} documents from ${files.length} files (${kinds}), ${errors.length} errors`);
  process.exit(errors.length ? 1 : 0);
}
