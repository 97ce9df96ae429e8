"""Optional mypyc build of the extractor (metadata lives in pyproject.toml).

``SKYTALLY_MYPYC=1 pip wheel --no-build-isolation .`` (mypy installed, a C compiler present)
compiles ``service/extract`` to C extensions: the same code, about 1.4x the reports/s of
CPython (README, Performance). The Dockerfile builds the image this way; every other install
is pure Python. Like black's and mypy's own wheels.
"""

import os

from setuptools import setup

ext_modules = []
if os.environ.get("SKYTALLY_MYPYC") == "1":
    from mypyc.build import mypycify

    ext_modules = mypycify(["service/extract/"], opt_level="3")

setup(ext_modules=ext_modules)
