// Assertions on the imap-connector chart's `helm template` output, for every
// values file in helm/imap-connector/ci/ and for values that must be refused.
// Also proves that tests/helm/validate.mjs catches a misspelt field.
//
//   HELM=/path/to/helm HELM_CHECK_NODE_MODULES=DIR node --test tests/helm/chart_test.mjs
//
// scripts/helm-check sets both variables.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import { parseManifests, requireTool, validateWithModels, validateWithTypes } from "./validate.mjs";

const HELM = process.env.HELM;
if (!HELM) throw new Error("HELM is not set (run scripts/helm-check)");
const CHART = resolve(dirname(fileURLToPath(import.meta.url)), "../../helm/imap-connector");
const YAML = requireTool("yaml");
const RELEASE = "rel";
const NAMESPACE = "mail";
const FULLNAME = "rel-imap-connector";

// ---------------------------------------------------------------- rendering

function helm(args) {
  return spawnSync(HELM, args, { encoding: "utf8", maxBuffer: 64 << 20 });
}

function renderArgs(valuesFile, extra = []) {
  const args = ["template", RELEASE, CHART, "--namespace", NAMESPACE];
  if (valuesFile) args.push("-f", join(CHART, "ci", valuesFile));
  return [...args, ...extra];
}

// Renders the chart; returns the documents.
function render(valuesFile, extra = []) {
  const r = helm(renderArgs(valuesFile, extra));
  assert.equal(r.status, 0, `helm template ${valuesFile ?? ""} ${extra.join(" ")} failed:\n${r.stderr}`);
  return parseManifests(r.stdout, valuesFile ?? "defaults").map((e) => e.doc);
}

// Renders values that must be refused; returns helm's error output.
function renderError(extra, valuesFile) {
  const r = helm(renderArgs(valuesFile, extra));
  assert.notEqual(r.status, 0, `helm template ${extra.join(" ")} should have failed, rendered:\n${r.stdout}`);
  return r.stderr;
}

function values(valuesFile) {
  return YAML.parse(readFileSync(join(CHART, "ci", valuesFile), "utf8")) ?? {};
}

const all = (docs, kind) => docs.filter((d) => d.kind === kind);
function one(docs, kind, name) {
  const found = all(docs, kind).filter((d) => name === undefined || d.metadata.name === name);
  assert.equal(found.length, 1, `expected one ${kind}${name ? ` named ${name}` : ""}, got ${found.length}`);
  return found[0];
}

const podSpec = (docs) => one(docs, "Deployment").spec.template.spec;
const container = (docs) => {
  const containers = podSpec(docs).containers;
  assert.equal(containers.length, 1);
  return containers[0];
};

// The container's flags as a Map; every argument must be --name=value, once.
function flags(docs) {
  const map = new Map();
  for (const arg of container(docs).args) {
    const m = /^--([a-z_]+)=(.*)$/s.exec(arg);
    assert.ok(m, `argument ${JSON.stringify(arg)} is not --name=value`);
    assert.ok(!map.has(m[1]), `--${m[1]} given twice`);
    map.set(m[1], m[2]);
  }
  return map;
}

function mountAt(docs, path) {
  const mounts = container(docs).volumeMounts.filter((m) => m.mountPath === path);
  assert.equal(mounts.length, 1, `expected one volume mounted at ${path}`);
  const volume = podSpec(docs).volumes.find((v) => v.name === mounts[0].name);
  assert.ok(volume, `volume ${mounts[0].name} is mounted but not declared`);
  return { mount: mounts[0], volume };
}

const b64 = (s) => Buffer.from(s, "utf8").toString("base64");
const unb64 = (s) => Buffer.from(s, "base64").toString("utf8");

function containsKey(value, pattern) {
  if (Array.isArray(value)) return value.some((v) => containsKey(v, pattern));
  if (value && typeof value === "object") {
    return Object.entries(value).some(([k, v]) => pattern.test(k) || containsKey(v, pattern));
  }
  return false;
}

// ------------------------------------------------- what each file turns on

const CI_FILES = {
  "default-values.yaml": {
    pdb: { maxUnavailable: 1 }, hpa: false, networkPolicy: false, pvc: false, serviceMonitor: false,
    promAnnotations: true, tls: false, mtls: false, token: false, replicas: 1, grace: 120, agent: "cloud",
  },
  "pvc-pdb-values.yaml": {
    pdb: { minAvailable: 0 }, hpa: false, networkPolicy: false, pvc: true, serviceMonitor: false,
    promAnnotations: true, tls: false, mtls: false, token: false, replicas: 1, grace: 120, agent: "cloud",
  },
  "hpa-pdb-values.yaml": {
    pdb: { minAvailable: 1 }, hpa: true, networkPolicy: false, pvc: false, serviceMonitor: false,
    promAnnotations: true, tls: false, mtls: false, token: false, replicas: undefined, grace: 120, agent: "cloud",
    stateless: true,
  },
  "networkpolicy-values.yaml": {
    pdb: { maxUnavailable: 1 }, hpa: false, networkPolicy: true, pvc: false, serviceMonitor: false,
    promAnnotations: true, tls: false, mtls: false, token: false, replicas: 1, grace: 120, agent: "cloud",
  },
  "tls-mtls-token-values.yaml": {
    pdb: { maxUnavailable: 1 }, hpa: false, networkPolicy: false, pvc: false, serviceMonitor: false,
    promAnnotations: true, tls: true, mtls: true, token: true, replicas: 1, grace: 45, agent: "edge-agent",
  },
  "existing-secret-values.yaml": {
    pdb: false, hpa: false, networkPolicy: false, pvc: false, serviceMonitor: false,
    promAnnotations: true, tls: true, mtls: true, token: true, replicas: 1, grace: 120, agent: "cloud",
  },
  "servicemonitor-values.yaml": {
    pdb: { maxUnavailable: 1 }, hpa: false, networkPolicy: false, pvc: false, serviceMonitor: true,
    promAnnotations: false, tls: false, mtls: false, token: false, replicas: 2, grace: 120, agent: "cloud",
    stateless: true,
  },
  "shared-volume-values.yaml": {
    pdb: { maxUnavailable: 1 }, hpa: false, networkPolicy: false, pvc: true, serviceMonitor: false,
    promAnnotations: true, tls: false, mtls: false, token: false, replicas: 3, grace: 120, agent: "cloud",
  },
};

test("every ci/*-values.yaml file has expectations here, and back", () => {
  const files = readdirSync(join(CHART, "ci")).filter((f) => f.endsWith("-values.yaml")).sort();
  assert.deepEqual(files, Object.keys(CI_FILES).sort());
});

for (const [file, expect] of Object.entries(CI_FILES)) {
  describe(file, () => {
    const docs = render(file);
    const v = values(file);
    const passwords = v.connectionPasswords ?? {};
    const connections = v.connections ?? [];

    test("probes are gRPC on the plaintext health port, which the Service does not expose", () => {
      const c = container(docs);
      const health = c.ports.find((p) => p.name === "health");
      const grpc = c.ports.find((p) => p.name === "grpc");
      assert.equal(health.containerPort, 50052);
      assert.equal(grpc.containerPort, 50051);
      for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"]) {
        assert.deepEqual(Object.keys(c[probe]).filter((k) => ["grpc", "httpGet", "tcpSocket", "exec"].includes(k)), ["grpc"], probe);
        assert.equal(c[probe].grpc.port, health.containerPort, `${probe} port`);
        assert.ok(!c[probe].grpc.service, `${probe} checks the server's overall health (service "")`);
      }
      const f = flags(docs);
      assert.equal(f.get("health_listen"), "0.0.0.0:50052");
      assert.equal(f.get("listen"), "0.0.0.0:50051");
      const service = one(docs, "Service", FULLNAME);
      assert.ok(!service.spec.ports.some((p) => p.targetPort === "health" || p.targetPort === 50052));
    });

    test("pod and container security contexts are locked down", () => {
      const pod = podSpec(docs);
      assert.equal(pod.securityContext.runAsNonRoot, true);
      assert.equal(pod.securityContext.runAsUser, 10001);
      assert.equal(pod.securityContext.fsGroup, 10001);
      assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault");
      assert.equal(pod.automountServiceAccountToken, false);
      const sc = container(docs).securityContext;
      assert.equal(sc.runAsNonRoot, true);
      assert.equal(sc.runAsUser, 10001);
      assert.equal(sc.readOnlyRootFilesystem, true);
      assert.equal(sc.allowPrivilegeEscalation, false);
      assert.deepEqual(sc.capabilities, { drop: ["ALL"] });
      assert.equal(sc.seccompProfile.type, "RuntimeDefault");
      assert.ok(container(docs).resources.requests.memory, "memory request");
      assert.ok(container(docs).resources.limits.memory, "memory limit");
    });

    test("terminationGracePeriodSeconds leaves the server's --shutdown_grace 10 s to spare", () => {
      assert.equal(podSpec(docs).terminationGracePeriodSeconds, expect.grace);
      assert.equal(flags(docs).get("shutdown_grace"), `${expect.grace - 10}s`);
    });

    test("flags: data dir, agent, metrics, connections file and secrets dir are mounted", () => {
      const f = flags(docs);
      assert.equal(f.get("agent"), expect.agent);
      assert.equal(f.get("metrics_listen"), "0.0.0.0:9090");
      assert.equal(f.get("data_dir"), "/data");
      // Several pods without one shared /data keep no state in it.
      assert.equal(f.get("replicas_share_data_dir"), expect.stateless ? "false" : undefined);
      const data = mountAt(docs, "/data");
      assert.ok(!data.mount.readOnly, "/data is writable");
      if (expect.pvc) {
        assert.equal(data.volume.persistentVolumeClaim.claimName, `${FULLNAME}-data`);
      } else {
        assert.ok(data.volume.emptyDir, "/data is an emptyDir");
      }
      const tmp = mountAt(docs, "/tmp");
      assert.ok(tmp.volume.emptyDir && !tmp.mount.readOnly, "/tmp is a writable emptyDir");

      assert.equal(f.get("connections_file"), "/etc/imap-connector/connections.json");
      const conf = mountAt(docs, "/etc/imap-connector/connections.json");
      assert.equal(conf.mount.subPath, "connections.json");
      assert.equal(conf.volume.configMap.name, `${FULLNAME}-connections`);

      assert.equal(f.get("secrets_dir"), "/etc/imap-connector/secrets");
      const secrets = mountAt(docs, "/etc/imap-connector/secrets");
      assert.equal(secrets.mount.readOnly, true);
      assert.equal(secrets.volume.secret.secretName, v.existingSecret || `${FULLNAME}-passwords`);
      assert.equal(secrets.volume.secret.items, undefined, "every key of the Secret becomes a file");
      assert.equal(secrets.volume.secret.defaultMode, 0o440);
    });

    test("connections.json parses and holds the declared connections, without passwords", () => {
      const cm = one(docs, "ConfigMap", `${FULLNAME}-connections`);
      assert.deepEqual(Object.keys(cm.data), ["connections.json"]);
      const parsed = JSON.parse(cm.data["connections.json"]);
      assert.deepEqual(parsed, { connections });
      assert.ok(!containsKey(parsed, /password/i), "no password field");
      const annotation = one(docs, "Deployment").spec.template.metadata.annotations["checksum/connections"];
      assert.match(annotation, /^[0-9a-f]{64}$/);
    });

    test("passwords and tokens are only in their Secrets, mounted as files, never in env or args", () => {
      const c = container(docs);
      assert.equal(c.env, undefined, "no environment variables");
      assert.equal(c.envFrom, undefined, "no envFrom");
      const secrets = { ...passwords };
      if (v.auth?.token) secrets["(auth token)"] = v.auth.token;
      for (const [name, secret] of Object.entries(secrets)) {
        for (const doc of docs) {
          if (doc.kind === "Secret") continue;
          const text = JSON.stringify(doc);
          assert.ok(!text.includes(secret), `${name}'s secret appears in ${doc.kind}/${doc.metadata.name}`);
          assert.ok(!text.includes(b64(secret)), `${name}'s secret appears base64 in ${doc.kind}/${doc.metadata.name}`);
        }
        for (const arg of c.args) assert.ok(!arg.includes(secret), `${name}'s secret in args`);
      }
      if (v.existingSecret) {
        assert.equal(all(docs, "Secret").filter((s) => s.metadata.name.endsWith("-passwords")).length, 0);
      } else {
        const s = one(docs, "Secret", `${FULLNAME}-passwords`);
        const decoded = Object.fromEntries(Object.entries(s.data ?? {}).map(([k, x]) => [k, unb64(x)]));
        assert.deepEqual(decoded, passwords);
        assert.deepEqual(Object.keys(decoded).sort(), connections.map((x) => x.name).sort());
        assert.equal(s.stringData, undefined);
      }
    });

    test("TLS, mTLS and token flags and mounts follow the values", () => {
      const f = flags(docs);
      const names = [...f.keys()];
      if (expect.tls) {
        assert.equal(f.get("tls_cert_file"), "/etc/imap-connector/tls/tls.crt");
        assert.equal(f.get("tls_key_file"), "/etc/imap-connector/tls/tls.key");
        const tls = mountAt(docs, "/etc/imap-connector/tls");
        assert.equal(tls.volume.secret.secretName, v.tls.secretName);
        assert.deepEqual(tls.volume.secret.items, [
          { key: "tls.crt", path: "tls.crt" },
          { key: "tls.key", path: "tls.key" },
        ]);
      } else {
        assert.ok(!names.some((n) => n.startsWith("tls_")), "no TLS flag");
        assert.ok(!container(docs).volumeMounts.some((m) => m.mountPath.startsWith("/etc/imap-connector/tls")));
      }
      if (expect.mtls) {
        assert.equal(f.get("tls_client_ca_file"), "/etc/imap-connector/client-ca/ca.crt");
        const ca = mountAt(docs, "/etc/imap-connector/client-ca");
        assert.equal(ca.volume.secret.secretName, v.tls.clientCa.secretName || v.tls.secretName);
        assert.deepEqual(ca.volume.secret.items, [{ key: v.tls.clientCa.key ?? "ca.crt", path: "ca.crt" }]);
      } else {
        assert.ok(!f.has("tls_client_ca_file"));
      }
      if (expect.token) {
        assert.equal(f.get("auth_token_file"), "/etc/imap-connector/token/token");
        const tok = mountAt(docs, "/etc/imap-connector/token");
        assert.equal(tok.mount.readOnly, true);
        if (v.auth.existingSecret) {
          assert.equal(tok.volume.secret.secretName, v.auth.existingSecret);
          assert.deepEqual(tok.volume.secret.items, [{ key: v.auth.existingSecretKey, path: "token" }]);
          assert.equal(all(docs, "Secret").filter((s) => s.metadata.name === `${FULLNAME}-token`).length, 0);
        } else {
          const s = one(docs, "Secret", `${FULLNAME}-token`);
          assert.equal(unb64(s.data.token), v.auth.token);
          assert.equal(tok.volume.secret.secretName, `${FULLNAME}-token`);
          assert.deepEqual(tok.volume.secret.items, [{ key: "token", path: "token" }]);
        }
      } else {
        assert.ok(!f.has("auth_token_file"));
        assert.equal(all(docs, "Secret").filter((s) => s.metadata.name === `${FULLNAME}-token`).length, 0);
      }
      if (v.cursorKeys?.existingSecret) {
        assert.equal(f.get("cursor_key_file"), "/etc/imap-connector/cursor-keys/keys");
        const keys = mountAt(docs, "/etc/imap-connector/cursor-keys");
        assert.equal(keys.mount.readOnly, true);
        assert.equal(keys.volume.secret.secretName, v.cursorKeys.existingSecret);
        assert.deepEqual(keys.volume.secret.items, [{ key: v.cursorKeys.existingSecretKey, path: "keys" }]);
      } else {
        assert.ok(!f.has("cursor_key_file"));
      }
      if (v.secretKeys?.existingSecret) {
        assert.equal(f.get("secret_key_file"), "/etc/imap-connector/secret-keys/keys");
        const keys = mountAt(docs, "/etc/imap-connector/secret-keys");
        assert.equal(keys.mount.readOnly, true);
        assert.equal(keys.volume.secret.secretName, v.secretKeys.existingSecret);
        assert.equal(keys.volume.secret.defaultMode, 0o440);
        assert.deepEqual(keys.volume.secret.items, [{ key: v.secretKeys.existingSecretKey, path: "keys" }]);
      } else {
        assert.ok(!f.has("secret_key_file"));
      }
      for (const secret of v.oauthTokenSecrets ?? []) {
        const tokens = mountAt(docs, `/etc/imap-connector/oauth-tokens/${secret}`);
        assert.equal(tokens.mount.readOnly, true);
        assert.equal(tokens.mount.subPath, undefined);  // subPath mounts would never update
        assert.equal(tokens.volume.secret.secretName, secret);
      }
    });

    test("Service: grpc and metrics ports select the Deployment's pods", () => {
      const service = one(docs, "Service", FULLNAME);
      assert.deepEqual(
        service.spec.ports.map((p) => [p.name, p.port, p.targetPort]),
        [["grpc", 50051, "grpc"], ["metrics", 9090, "metrics"]],
      );
      const podLabels = one(docs, "Deployment").spec.template.metadata.labels;
      for (const [k, x] of Object.entries(service.spec.selector)) assert.equal(podLabels[k], x, k);
      assert.deepEqual(one(docs, "Deployment").spec.selector.matchLabels, service.spec.selector);
      assert.equal(service.spec.clusterIP, v.service?.headless ? "None" : undefined, "headless only when asked");
    });

    test("ServiceAccount has no API token", () => {
      if (v.serviceAccount?.create === false) {
        assert.equal(all(docs, "ServiceAccount").length, 0);
        assert.equal(podSpec(docs).serviceAccountName, v.serviceAccount.name);
      } else {
        assert.equal(one(docs, "ServiceAccount", FULLNAME).automountServiceAccountToken, false);
        assert.equal(podSpec(docs).serviceAccountName, FULLNAME);
      }
    });

    test("PodDisruptionBudget, HPA, NetworkPolicy, PVC and ServiceMonitor are there only when asked", () => {
      const has = (kind) => all(docs, kind).length > 0;
      assert.equal(has("PodDisruptionBudget"), Boolean(expect.pdb), "PodDisruptionBudget");
      assert.equal(has("HorizontalPodAutoscaler"), expect.hpa, "HorizontalPodAutoscaler");
      assert.equal(has("NetworkPolicy"), expect.networkPolicy, "NetworkPolicy");
      assert.equal(has("PersistentVolumeClaim"), expect.pvc, "PersistentVolumeClaim");
      assert.equal(has("ServiceMonitor"), expect.serviceMonitor, "ServiceMonitor");
      if (expect.pdb) {
        const pdb = one(docs, "PodDisruptionBudget");
        const { selector, ...rest } = pdb.spec;
        assert.deepEqual(rest, expect.pdb);
        assert.deepEqual(selector.matchLabels, one(docs, "Deployment").spec.selector.matchLabels);
      }
      assert.equal(one(docs, "Deployment").spec.replicas, expect.replicas);
      const annotations = one(docs, "Deployment").spec.template.metadata.annotations;
      if (expect.promAnnotations) {
        assert.equal(annotations["prometheus.io/scrape"], "true");
        assert.equal(annotations["prometheus.io/port"], "9090");
        assert.equal(annotations["prometheus.io/path"], "/metrics");
      } else {
        assert.ok(!Object.keys(annotations).some((k) => k.startsWith("prometheus.io/")));
      }
    });
  });
}

// --------------------------------------------------- per-option specifics

test("HPA scales the Deployment, which then sets no replicas", () => {
  const docs = render("hpa-pdb-values.yaml");
  const hpa = one(docs, "HorizontalPodAutoscaler");
  assert.equal(hpa.apiVersion, "autoscaling/v2");
  assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: "apps/v1", kind: "Deployment", name: FULLNAME });
  assert.equal(hpa.spec.minReplicas, 2);
  assert.equal(hpa.spec.maxReplicas, 6);
  assert.deepEqual(
    hpa.spec.metrics.map((m) => [m.resource.name, m.resource.target.averageUtilization]),
    [["cpu", 60], ["memory", 75]],
  );
  assert.equal(one(docs, "Deployment").spec.strategy.type, "RollingUpdate");
  assert.deepEqual(mountAt(docs, "/data").volume.emptyDir, { sizeLimit: "512Mi" });
});

test("PVC: claim as configured, and Recreate so a ReadWriteOnce volume is never needed twice", () => {
  const docs = render("pvc-pdb-values.yaml");
  const pvc = one(docs, "PersistentVolumeClaim", `${FULLNAME}-data`);
  assert.deepEqual(pvc.spec.accessModes, ["ReadWriteOnce"]);
  assert.equal(pvc.spec.storageClassName, "fast-ssd");
  assert.equal(pvc.spec.resources.requests.storage, "2Gi");
  assert.equal(one(docs, "Deployment").spec.strategy.type, "Recreate");
  const noClass = render("pvc-pdb-values.yaml", ["--set", "persistence.storageClassName=-"]);
  assert.equal(one(noClass, "PersistentVolumeClaim").spec.storageClassName, "");
  const existing = render("pvc-pdb-values.yaml", ["--set", "persistence.existingClaim=mail-data"]);
  assert.equal(all(existing, "PersistentVolumeClaim").length, 0);
  assert.equal(mountAt(existing, "/data").volume.persistentVolumeClaim.claimName, "mail-data");
});

test("shared volume: one ReadWriteMany claim in every replica, rolling updates, no stateless flag", () => {
  const docs = render("shared-volume-values.yaml");
  const pvc = one(docs, "PersistentVolumeClaim", `${FULLNAME}-data`);
  assert.deepEqual(pvc.spec.accessModes, ["ReadWriteMany"]);
  assert.equal(pvc.spec.storageClassName, "efs-sc");
  const deployment = one(docs, "Deployment");
  assert.equal(deployment.spec.replicas, 3);
  assert.equal(deployment.spec.strategy.type, "RollingUpdate");
  assert.equal(mountAt(docs, "/data").volume.persistentVolumeClaim.claimName, `${FULLNAME}-data`);
  assert.ok(!flags(docs).has("replicas_share_data_dir"));
  assert.ok(!flags(docs).has("cursor_key_file"), "the shared volume holds the generated cursor key");
  // The same with autoscaling, and with a claim made elsewhere.
  const hpa = render("shared-volume-values.yaml", ["--set", "autoscaling.enabled=true"]);
  assert.ok(!flags(hpa).has("replicas_share_data_dir"));
  const existing = render("shared-volume-values.yaml", ["--set", "persistence.existingClaim=nfs-data",
    "--set", "persistence.accessModes={ReadWriteOnce}"]);
  assert.equal(all(existing, "PersistentVolumeClaim").length, 0);
  assert.equal(mountAt(existing, "/data").volume.persistentVolumeClaim.claimName, "nfs-data");
});

test("several replicas without a shared volume: --replicas_share_data_dir=false and the cursor keys", () => {
  const docs = render(undefined, ["--set", "replicaCount=2", "--set", "cursorKeys.existingSecret=keys"]);
  assert.equal(flags(docs).get("replicas_share_data_dir"), "false");
  assert.equal(flags(docs).get("cursor_key_file"), "/etc/imap-connector/cursor-keys/keys");
  assert.ok(mountAt(docs, "/data").volume.emptyDir);
  // One replica, or a shared claim: the flag is not given.
  assert.ok(!flags(render(undefined)).has("replicas_share_data_dir"));
  assert.ok(!flags(render("pvc-pdb-values.yaml")).has("replicas_share_data_dir"));
});

test("NetworkPolicy: gRPC and metrics sources, DNS and IMAP egress, extra rules", () => {
  const docs = render("networkpolicy-values.yaml");
  const v = values("networkpolicy-values.yaml").networkPolicy;
  const np = one(docs, "NetworkPolicy");
  assert.deepEqual(np.spec.podSelector.matchLabels, one(docs, "Deployment").spec.selector.matchLabels);
  assert.deepEqual(np.spec.policyTypes, ["Ingress", "Egress"]);
  const [grpc, metrics, ...extraIngress] = np.spec.ingress;
  assert.deepEqual(grpc, { ports: [{ port: "grpc", protocol: "TCP" }], from: v.grpcFrom });
  assert.deepEqual(metrics, { ports: [{ port: "metrics", protocol: "TCP" }], from: v.metricsFrom });
  assert.deepEqual(extraIngress, v.extraIngress);
  const [dns, imap, ...extraEgress] = np.spec.egress;
  assert.deepEqual(dns, { ports: [{ port: 53, protocol: "UDP" }, { port: 53, protocol: "TCP" }] });
  assert.deepEqual(imap, {
    ports: [{ port: 993, protocol: "TCP" }],
    to: [{ ipBlock: { cidr: "192.0.2.0/24" } }, { ipBlock: { cidr: "2001:db8::/32" } }],
  });
  assert.deepEqual(extraEgress, v.egress.extraRules);

  const open = one(render("networkpolicy-values.yaml", ["--set", "networkPolicy.egress.restrict=false"]), "NetworkPolicy");
  assert.deepEqual(open.spec.policyTypes, ["Ingress"]);
  assert.equal(open.spec.egress, undefined);
});

test("ServiceMonitor scrapes the Service's metrics port", () => {
  const docs = render("servicemonitor-values.yaml");
  const sm = one(docs, "ServiceMonitor");
  const service = one(docs, "Service", FULLNAME);
  assert.equal(sm.apiVersion, "monitoring.coreos.com/v1");
  assert.equal(sm.metadata.labels.release, "prometheus");
  for (const [k, x] of Object.entries(sm.spec.selector.matchLabels)) assert.equal(service.metadata.labels[k], x, k);
  assert.deepEqual(sm.spec.endpoints, [
    { port: "metrics", path: "/metrics", scheme: "http", interval: "15s", scrapeTimeout: "5s" },
  ]);
  assert.ok(service.spec.ports.some((p) => p.name === sm.spec.endpoints[0].port));
});

test("existing Secrets: the chart makes no Secret and reads the CA from the TLS Secret", () => {
  const docs = render("existing-secret-values.yaml");
  assert.equal(all(docs, "Secret").length, 0);
  assert.equal(mountAt(docs, "/etc/imap-connector/client-ca").volume.secret.secretName, "imap-connector-tls");
  assert.equal(container(docs).image, "team/imap-connector:0.1.0-rc1");
  assert.equal(container(docs).imagePullPolicy, "Always");
  assert.deepEqual(podSpec(docs).imagePullSecrets, [{ name: "pull-secret" }]);
});

test("defaults: image from appVersion, IfNotPresent, one replica, 120 s grace", () => {
  const docs = render("default-values.yaml");
  const chart = YAML.parse(readFileSync(join(CHART, "Chart.yaml"), "utf8"));
  assert.equal(chart.apiVersion, "v2");
  assert.equal(chart.appVersion, "0.1.0");
  assert.equal(container(docs).image, `imap-connector:${chart.appVersion}`);
  assert.equal(container(docs).imagePullPolicy, "IfNotPresent");
  assert.equal(flags(docs).get("shutdown_grace"), "110s");
  assert.deepEqual(JSON.parse(one(docs, "ConfigMap").data["connections.json"]), { connections: [] });
  assert.deepEqual(one(docs, "Secret", `${FULLNAME}-passwords`).data, {});
});

test("extraArgs are appended as given", () => {
  const docs = render("default-values.yaml", ["--set", "extraArgs[0]=--some_flag=1"]);
  assert.equal(container(docs).args.at(-1), "--some_flag=1");
});

// ------------------------------------------------------ refused values

describe("values that must be refused", () => {
  const connection = ["--set", "connections[0].name=a", "--set", "connections[0].username=u",
    "--set", "connections[0].serverUrl=imaps://h"];
  const cases = [
    ["an unknown top-level key", ["--set", "replicas=2"], /Additional property replicas is not allowed/],
    ["a misspelt nested key", ["--set", "tls.enable=true"], /Additional property enable is not allowed/],
    ["a password inside a connection", [...connection, "--set", "connections[0].password=p", "--set", "connectionPasswords.a=p"],
      /Additional property password is not allowed/],
    ["a connection name that is no Secret key", ["--set", "connections[0].name=a b", "--set", "connections[0].username=u",
      "--set", "connections[0].serverUrl=h"], /connections.0.name: Does not match pattern/],
    ["a connection name starting with two dots", ["--set", "connections[0].name=..data", "--set", "connections[0].username=u",
      "--set", "connections[0].serverUrl=h"], /Does not match pattern/],
    ["an unknown security enum", [...connection, "--set", "connections[0].security=TLS", "--set", "connectionPasswords.a=p"],
      /connections.0.security/],
    ["a timeout below 100 ms", [...connection, "--set", "connections[0].timeoutMs=50", "--set", "connectionPasswords.a=p"],
      /connections.0.timeoutMs/],
    ["a headless Service of another type", ["--set", "service.headless=true", "--set", "service.type=NodePort"],
      /service.headless needs service.type ClusterIP/],
    ["a grace period too short for --shutdown_grace", ["--set", "terminationGracePeriodSeconds=10"], /terminationGracePeriodSeconds/],
    ["a connection without a password", connection, /"a" has no password/],
    ["a password for no connection", ["--set", "connectionPasswords.ghost=p"], /"ghost" is not the name of any entry/],
    ["a duplicated connection name", [...connection, "--set", "connections[1].name=a", "--set", "connections[1].username=u",
      "--set", "connections[1].serverUrl=h", "--set", "connectionPasswords.a=p"], /"a" appears twice/],
    ["existingSecret with connectionPasswords", [...connection, "--set", "existingSecret=s", "--set", "connectionPasswords.a=p"],
      /either existingSecret or connectionPasswords/],
    ["TLS without a Secret", ["--set", "tls.enabled=true"], /tls.enabled needs tls.secretName/],
    ["mTLS without TLS", ["--set", "tls.clientCa.enabled=true"], /needs tls.enabled/],
    ["a token requirement without a token", ["--set", "auth.enabled=true"], /auth.enabled needs auth.token or auth.existingSecret/],
    ["a ReadWriteOnce PVC for several replicas", ["--set", "persistence.enabled=true", "--set", "replicaCount=2"],
      /persistence.enabled with several replicas .* needs persistence.shared: true and a ReadWriteMany claim/],
    ["a ReadWriteOnce PVC with autoscaling", ["--set", "persistence.enabled=true", "--set", "autoscaling.enabled=true"],
      /persistence.enabled with several replicas .* needs persistence.shared: true/],
    ["a shared volume without persistence", ["--set", "persistence.shared=true"],
      /persistence.shared needs persistence.enabled/],
    ["a shared claim that is ReadWriteOnce", ["--set", "persistence.enabled=true", "--set", "persistence.shared=true"],
      /persistence.shared needs persistence.accessModes \[ReadWriteMany\]/],
    ["several replicas with neither a shared volume nor cursor keys", ["--set", "replicaCount=2"],
      /without a shared data volume need cursorKeys.existingSecret: otherwise each pod makes its own cursor key and refuses the cursors of the others/],
    ["autoscaling with neither a shared volume nor cursor keys", ["--set", "autoscaling.enabled=true"],
      /need cursorKeys.existingSecret/],
    ["a PDB with both bounds", ["--set", "podDisruptionBudget.minAvailable=1"], /exactly one of minAvailable and maxUnavailable/],
    ["an HPA without a target", ["--set", "autoscaling.enabled=true", "--set", "autoscaling.targetCPUUtilizationPercentage=null"],
      /set targetCPUUtilizationPercentage or targetMemoryUtilizationPercentage/],
  ];
  for (const [name, args, message] of cases) {
    test(name, () => assert.match(renderError(args), message));
  }
});

// ------------------------------------------------------ documentation

test("README.md documents every key of values.yaml, and the schema knows each", () => {
  const readme = readFileSync(join(CHART, "README.md"), "utf8");
  const schema = JSON.parse(readFileSync(join(CHART, "values.schema.json"), "utf8"));
  const defaults = YAML.parse(readFileSync(join(CHART, "values.yaml"), "utf8"));
  const documentedWhole = new Set(["resources", "probes.startup", "probes.liveness", "probes.readiness"]);
  const missing = [];
  const walk = (obj, node, prefix) => {
    for (const [key, value] of Object.entries(obj)) {
      const path = prefix ? `${prefix}.${key}` : key;
      const child = node?.properties?.[key];
      if (!child) missing.push(`${path} (not in values.schema.json)`);
      const isMap = value && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length > 0;
      if (isMap && !documentedWhole.has(path)) {
        walk(value, child, path);
      } else if (!readme.includes(`| \`${path}\` |`)) {
        missing.push(`${path} (not in README.md's values table)`);
      }
    }
  };
  walk(defaults, schema, "");
  assert.deepEqual(missing, []);
});

// ----------------------------------------------------------- NOTES.txt

test("NOTES.txt tells how to reach the service, with TLS and token hints", () => {
  // helm template leaves NOTES.txt out; render a copy of it as a ConfigMap.
  const dir = mkdtempSync(join(tmpdir(), "helm-notes-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const chart = join(dir, "imap-connector");
  cpSync(CHART, chart, { recursive: true });
  const notes = readFileSync(join(chart, "templates", "NOTES.txt"), "utf8");
  rmSync(join(chart, "templates", "NOTES.txt"));
  writeFileSync(join(chart, "templates", "_notes_preview.tpl"), `{{- define "notes-preview" -}}\n${notes}{{- end -}}\n`);
  writeFileSync(
    join(chart, "templates", "notes-preview.yaml"),
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes-preview\ndata:\n  notes: {{ include "notes-preview" . | quote }}\n',
  );
  const notesFor = (file) => {
    const out = execFileSync(HELM, ["template", RELEASE, chart, "--namespace", NAMESPACE, "-f", join(CHART, "ci", file),
      "--show-only", "templates/notes-preview.yaml"], { encoding: "utf8" });
    return YAML.parse(out).data.notes;
  };
  const plain = notesFor("default-values.yaml");
  assert.match(plain, /rel-imap-connector\.mail\.svc:50051/);
  assert.match(plain, /kubectl --namespace mail port-forward service\/rel-imap-connector 50051:50051/);
  assert.match(plain, /The API is plaintext/);
  const secured = notesFor("tls-mtls-token-values.yaml");
  assert.match(secured, /TLS with the certificate in Secret imap-connector-server-tls/);
  assert.match(secured, /signed by the CA in Secret\s+imap-connector-client-ca/);
  assert.match(secured, /authorization: Bearer <token>/);
  assert.ok(!secured.includes("tok-Bearer-Secret-5"), "NOTES never print the token");
  assert.ok(!secured.includes("tls-Sales-Token-6"), "NOTES never print a password");
  assert.match(notesFor("hpa-pdb-values.yaml"), /shard_index and shard_count/);
});

// --------------------------------- the schema checks catch what they must

describe("validate.mjs", () => {
  const pristine = render("servicemonitor-values.yaml");
  const deployment = one(pristine, "Deployment");
  const monitor = one(pristine, "ServiceMonitor");
  const mutate = (doc, change) => {
    const copy = structuredClone(doc);
    change(copy);
    return copy;
  };
  const misspeltField = mutate(deployment, (d) => {
    const sc = d.spec.template.spec.containers[0].securityContext;
    sc.readOnlyRootFileSystem = sc.readOnlyRootFilesystem; // capital S: not a Kubernetes field
    delete sc.readOnlyRootFilesystem;
  });
  const misspeltMonitor = mutate(monitor, (d) => {
    d.spec.endpoints[0].scrapeTimout = d.spec.endpoints[0].scrapeTimeout;
    delete d.spec.endpoints[0].scrapeTimeout;
  });
  const wrongType = mutate(deployment, (d) => {
    d.spec.replicas = "two";
  });
  const badEnum = mutate(deployment, (d) => {
    d.spec.template.spec.containers[0].imagePullPolicy = "Sometimes";
  });

  test("the rendered documents pass both checks (the control)", async () => {
    const docs = [deployment, monitor].map((doc) => ({ source: "control", doc }));
    assert.deepEqual(await validateWithModels(docs), []);
    assert.deepEqual(validateWithTypes(docs), []);
  });

  test("a misspelt field fails the TypeScript excess-property check", () => {
    const errors = validateWithTypes([
      { source: "misspelt", doc: misspeltField },
      { source: "misspelt-monitor", doc: misspeltMonitor },
    ]);
    assert.equal(errors.length, 2, errors.join("\n"));
    assert.match(errors[0], /^misspelt: Deployment\/rel-imap-connector: .*'"readOnlyRootFileSystem"' does not exist in type 'SecurityContext'/);
    assert.match(errors[1], /^misspelt-monitor: ServiceMonitor\/rel-imap-connector: .*'"scrapeTimout"' does not exist/);
  });

  test("a wrong type fails kubernetes-models", async () => {
    const errors = await validateWithModels([{ source: "wrong-type", doc: wrongType }]);
    assert.equal(errors.length, 1);
    assert.match(errors[0], /^wrong-type: Deployment\/rel-imap-connector: .*replicas must be integer/);
  });

  test("a kind with no schema is an error, not a pass", async () => {
    const docs = [{ source: "unknown", doc: { apiVersion: "v1", kind: "Pod", metadata: { name: "p" } } }];
    assert.match((await validateWithModels(docs))[0], /no schema for v1\/Pod/);
    assert.match(validateWithTypes(docs)[0], /no type for v1\/Pod/);
  });

  test("an unknown enum value fails kubernetes-models", async () => {
    const errors = await validateWithModels([{ source: "bad-enum", doc: badEnum }]);
    assert.equal(errors.length, 1);
    assert.match(errors[0], /imagePullPolicy must be equal to one of the allowed values/);
  });
});
