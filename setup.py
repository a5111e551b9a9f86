"""Package layout: every top-level room installs under the one `corpusmill` namespace.

The project's design card asks for `pipelines/ annotators/ mixers/ synth/ extractors/
commands/` at the top of the repository, yet a worker's site-packages must gain nothing
generic: so each room folder is mapped to `corpusmill.<room>` (setuptools `package_dir`),
and only `corpusmill` lands in site-packages. All metadata lives in pyproject.toml; this
file also serves Beam's `--setup_file`.
"""

from setuptools import find_namespace_packages, find_packages, setup

ROOMS = ("extractors", "annotators", "synth", "mixers", "dedup", "pipelines", "commands")

packages = find_packages(include=["corpusmill", "corpusmill.*"])
package_dir = {"corpusmill": "corpusmill"}
for room in ROOMS:
    package_dir[f"corpusmill.{room}"] = room
    # Namespace discovery: data folders without an __init__.py (word lists, templates, benchmark
    # copies) are packages too, so their files ship by the package-data patterns and setuptools
    # does not warn that they "would be ignored".
    subs = find_namespace_packages(room, exclude=["*__pycache__*"])
    packages += [f"corpusmill.{room}"] + [f"corpusmill.{room}.{sub}" for sub in subs]

setup(packages=packages, package_dir=package_dir)
