"""values.schema.json lists every flag of the bridge under config, and no
flag the bridge does not have.

The flags come from the built binary's --helpfull (those defined in a file
under bridge/). A flag added on another branch fails this test with the exact
line to add to the schema; each flag's default must pass its own schema
entry, which catches a wrong type.
"""
import json
import os
import re
import sys
import unittest

from helm_tool import CHART, SOURCE_DIR, bridge_binary

sys.path.insert(0, os.path.join(SOURCE_DIR, "scripts"))
import flag_reference  # noqa: E402  (scripts/flag_reference.py: the one --helpfull parser)

SCHEMA = os.path.join(CHART, "values.schema.json")
DURATION = r"-?(inf|0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|ms|s|m|h))+)"


def bridge_flags(binary):
    """{name: (help, default text)} of the flags defined under bridge/."""
    return {name: (help_text, default) for name, (help_text, default, _)
            in flag_reference.bridge_flags(binary).items()}


def typed_default(text):
    if text.startswith('"') and text.endswith('"'):
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    if re.fullmatch(r"-?[0-9]*\.[0-9]+([eE][-+]?[0-9]+)?", text):
        return float(text)
    return text  # a duration, printed bare


def suggested_entry(name, help_text, default_text):
    value = typed_default(default_text)
    if isinstance(value, bool):
        entry = {"type": "boolean"}
    elif isinstance(value, int):
        entry = {"type": "integer"}
    elif isinstance(value, float):
        entry = {"type": "number"}
    elif not default_text.startswith('"') and re.fullmatch(DURATION, default_text):
        entry = {"$ref": "#/definitions/duration"}
    else:
        entry = {"type": "string"}
    entry["description"] = re.split(r"\.(\s|$)", help_text, maxsplit=1)[0]
    return f'"{name}": {json.dumps(entry, ensure_ascii=False)},'


def violations(value, schema, definitions):
    """The few JSON Schema keywords the config entries use."""
    if "$ref" in schema:
        schema = definitions[schema["$ref"].rsplit("/", 1)[1]]
    errors = []
    kind = schema.get("type")
    ok_types = {"string": str, "boolean": bool, "integer": int, "number": (int, float)}
    if kind and (not isinstance(value, ok_types[kind]) or
                 (kind in ("integer", "number") and isinstance(value, bool))):
        return [f"{value!r} is not {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{value!r} not in {schema['enum']}")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        errors.append(f"{value!r} does not match {schema['pattern']}")
    if "minimum" in schema and value < schema["minimum"]:
        errors.append(f"{value!r} < {schema['minimum']}")
    if "maximum" in schema and value > schema["maximum"]:
        errors.append(f"{value!r} > {schema['maximum']}")
    return errors


class SchemaFlagsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.flags = bridge_flags(bridge_binary())
        with open(SCHEMA) as f:
            cls.schema = json.load(f)
        cls.config = cls.schema["properties"]["config"]

    def test_helpfull_is_parsed(self):
        # A parser that finds nothing would pass everything below.
        self.assertGreaterEqual(len(self.flags), 50)
        for name in ("http_port", "broker", "shutdown_deadline", "jwt_keys_file"):
            self.assertIn(name, self.flags)
        self.assertEqual(self.flags["broker"][1], '"memory"')

    def test_schema_lists_every_bridge_flag(self):
        missing = sorted(set(self.flags) - set(self.config["properties"]))
        lines = [suggested_entry(n, *self.flags[n]) for n in missing]
        self.assertEqual(missing, [], "values.schema.json does not know these flags; add to "
                         "properties.config.properties (keep it sorted; add enum/minimum if the "
                         "flag has them):\n        " + "\n        ".join(lines))

    def test_schema_lists_no_flag_the_bridge_lacks(self):
        stale = sorted(set(self.config["properties"]) - set(self.flags))
        self.assertEqual(stale, [], "values.schema.json lists flags the bridge does not have")

    def test_config_rejects_unknown_keys(self):
        self.assertIs(self.config["additionalProperties"], False)

    def test_every_flag_default_passes_its_schema_entry(self):
        definitions = self.schema["definitions"]
        for name, (_, default_text) in sorted(self.flags.items()):
            entry = self.config["properties"].get(name)
            if entry is None:
                continue  # reported by test_schema_lists_every_bridge_flag
            if name in ("http_port", "grpc_port") and default_text == "0":
                continue
            with self.subTest(flag=name):
                self.assertEqual(violations(typed_default(default_text), entry, definitions), [])

    def test_validator_can_fail(self):
        definitions = self.schema["definitions"]
        props = self.config["properties"]
        self.assertEqual(violations("15s", props["heartbeat"], definitions), [])
        self.assertNotEqual(violations("15", props["heartbeat"], definitions), [])
        self.assertNotEqual(violations("15", props["http_port"], definitions), [])
        self.assertNotEqual(violations("kafka", props["broker"], definitions), [])
        self.assertNotEqual(violations(0, props["max_connections"], definitions), [])
        self.assertNotEqual(violations("fast", props["shutdown_deadline"], definitions), [])
        self.assertEqual(suggested_entry("new_limit", "Most things. More text.", "12"),
                         '"new_limit": {"type": "integer", "description": "Most things"},')


if __name__ == "__main__":
    unittest.main()
