// Validates Kubernetes objects against their schemas: reads lines of JSON
// arrays of objects on stdin, prints for each a line with a JSON array of
// {kind, name, error} (error null when the object is valid). The schemas are kubernetes-models' (the
// Kubernetes API's OpenAPI), @kubernetes-models/gateway-api's and
// @kubernetes-models/prometheus-operator's (from the projects' CRDs). An
// apiVersion none of them knows is an error, so nothing passes unchecked.
const MODULES = {
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
  "gateway.networking.k8s.io": "@kubernetes-models/gateway-api",
};

async function classFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const pkg = MODULES[group] ?? "kubernetes-models";
  const path = group ? `${pkg}/${group}/${version}` : `${pkg}/${version}`;
  const mod = await import(path);
  if (typeof mod[kind] !== "function") throw new Error(`${path} has no ${kind}`);
  return mod[kind];
}

async function validate(objects) {
  const results = [];
  for (const obj of objects) {
    const result = { kind: obj.kind, name: obj.metadata?.name, error: null };
    try {
      const Model = await classFor(obj.apiVersion, obj.kind);
      new Model(obj).validate();
    } catch (e) {
      result.error = String(e.message ?? e);
    }
    results.push(result);
  }
  return results;
}

// Each input line is one JSON array of objects; each output line its
// results. One process serves many renders: loading the schemas is most of
// the time a validation takes.
import { createInterface } from "node:readline";
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  process.stdout.write(JSON.stringify(await validate(JSON.parse(line))) + "\n");
}
