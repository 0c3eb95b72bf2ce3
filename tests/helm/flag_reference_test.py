"""docs/flags.md is the binary's own --helpfull, rendered; the README's
configuration table names no flag the bridge lacks.

A flag is declared once (bridge/ops/flags.cc); scripts/flag_reference.py
renders the reference from the built binary, so adding a flag means
declaring it, its schema entry (schema_flags_test) and re-running the
script, which this test asks for by name.
"""
import os
import re
import sys
import unittest

from helm_tool import SOURCE_DIR, bridge_binary

sys.path.insert(0, os.path.join(SOURCE_DIR, "scripts"))
import flag_reference  # noqa: E402


class FlagReferenceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.binary = bridge_binary()
        cls.flags = flag_reference.bridge_flags(cls.binary)

    def test_reference_is_current(self):
        with open(os.path.join(SOURCE_DIR, "docs", "flags.md")) as f:
            committed = f.read()
        self.assertEqual(committed, flag_reference.render(self.flags),
                         "docs/flags.md is stale: run scripts/flag_reference.py " + self.binary)

    def test_render_lists_every_flag_once(self):
        text = flag_reference.render(self.flags)
        for name in self.flags:
            self.assertEqual(text.count(f"| `--{name}` |"), 1, name)

    def test_help_lists_every_bridge_flag(self):
        # --help is what a user types first: it must show the bridge's own
        # flags wherever in bridge/ops/ they are defined (the broker's live
        # in broker_flags.cc), not only those of flags.cc.
        import subprocess
        out = subprocess.run([self.binary, "--help"], capture_output=True, text=True,
                             timeout=30)
        listed = set(re.findall(r"^\s+--(\w+)", out.stdout + out.stderr, re.M))
        self.assertEqual(sorted(set(self.flags) - listed), [],
                         "flags missing from ssebridge --help")

    def test_readme_names_only_real_flags(self):
        with open(os.path.join(SOURCE_DIR, "README.md")) as f:
            readme = f.read()
        start = readme.index("## Configuration")
        table = readme[start:readme.index("\n## ", start + 1)]
        named = set(re.findall(r"`--(\w+)", table))
        self.assertGreater(len(named), 20)
        self.assertEqual(sorted(named - set(self.flags)), [],
                         "the README's configuration table names flags the bridge lacks")


if __name__ == "__main__":
    unittest.main()
