# For Beam's --setup_file: workers install corpusmill from this checkout at start-up.
# All metadata lives in pyproject.toml.
from setuptools import setup

setup()
