"""The wheel's build step: generates ssebridge/v1/bridge_pb2.py and
bridge_pb2_grpc.py from the repository's proto with grpc_tools.protoc (the
user never runs protoc), and writes ssebridge_publisher/_version.py from the
repository's VERSION file (one version for every artefact). Metadata lives
in pyproject.toml."""
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.join(HERE, "..", "..")


def _source(*parts):
    """A file of the repository, or of an sdist that carries a copy."""
    for base in (REPO, HERE):
        path = os.path.join(base, *parts)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(os.path.join(*parts))


def _version():
    with open(_source("VERSION")) as f:
        return f.read().strip()


class BuildWithStubs(build_py):
    def run(self):
        super().run()
        from grpc_tools import protoc  # Debian: python3-grpc-tools

        proto = _source("proto", "ssebridge", "v1", "bridge.proto")
        proto_root = os.path.dirname(os.path.dirname(os.path.dirname(proto)))
        out = self.build_lib
        v1 = os.path.join(out, "ssebridge", "v1")
        os.makedirs(v1, exist_ok=True)
        include = os.path.join(os.path.dirname(protoc.__file__), "_proto")
        args = ["grpc_tools.protoc", f"-I{proto_root}", f"--python_out={out}",
                f"--grpc_python_out={out}", proto]
        if os.path.isdir(include):
            args.insert(1, f"-I{include}")
        if protoc.main(args) != 0:
            raise RuntimeError("grpc_tools.protoc failed on " + proto)
        shutil.copy(proto, os.path.join(v1, "bridge.proto"))
        for pkg in (os.path.join(out, "ssebridge"), v1):
            init = os.path.join(pkg, "__init__.py")
            if not os.path.exists(init):
                open(init, "w").close()
        with open(os.path.join(out, "ssebridge_publisher", "_version.py"), "w") as f:
            f.write(f'__version__ = "{_version()}"\n')


setup(version=_version(), cmdclass={"build_py": BuildWithStubs})
