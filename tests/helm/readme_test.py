"""The chart README's values table is what helm/readme_gen.py writes from
values.yaml, and every value has a comment to write it from; `helm show
readme` shows it."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from helm_tool import CHART, HelmTestCase

GEN = os.path.join(os.path.dirname(CHART), "readme_gen.py")


def run_gen(chart_parent, *args):
    return subprocess.run([sys.executable, os.path.join(chart_parent, "readme_gen.py"), *args],
                          capture_output=True, text=True, timeout=60)


class ReadmeTest(HelmTestCase):
    def test_readme_is_current(self):
        r = run_gen(os.path.dirname(CHART), "--check")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_helm_show_readme(self):
        r = self.helm.run("show", "readme", CHART)
        self.assertEqual(r.returncode, 0, r.stderr)
        for want in ("## Load balancers", "BackendConfig", "idle_timeout.timeout_seconds",
                     "Istio", "Envoy Gateway", "HAProxy", "Traefik", "prometheus-adapter",
                     "| `autoscaling.streams.averageValue` |", "| `helmTest.channel` |"):
            self.assertIn(want, r.stdout)

    def test_check_fails_on_an_undocumented_value_and_on_a_stale_table(self):
        work = tempfile.mkdtemp(prefix="ssebridge-readme-")
        try:
            shutil.copy(GEN, work)
            shutil.copytree(CHART, os.path.join(work, "ssebridge"))
            values = os.path.join(work, "ssebridge", "values.yaml")
            with open(values) as f:
                text = f.read()
            # A value whose comment is removed.
            with open(values, "w") as f:
                f.write(text.replace("  # Fewest replicas.\n", ""))
            r = run_gen(work, "--check")
            self.assertEqual(r.returncode, 1)
            self.assertIn("autoscaling.minReplicas", r.stderr)
            # A comment changed without regenerating the README.
            with open(values, "w") as f:
                f.write(text.replace("# Fewest replicas.", "# Fewest replicas, ever."))
            r = run_gen(work, "--check")
            self.assertEqual(r.returncode, 1)
            self.assertIn("stale", r.stderr)
            self.assertEqual(run_gen(work).returncode, 0)
            self.assertEqual(run_gen(work, "--check").returncode, 0)
            with open(os.path.join(work, "ssebridge", "README.md")) as f:
                self.assertIn("Fewest replicas, ever.", f.read())
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
