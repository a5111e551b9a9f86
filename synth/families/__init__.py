"""The registry of programmatic math families, by name, in a fixed order.

The order matters: item `i` of a run uses family `i mod len(FAMILIES)`, so adding a family
at the end keeps the earlier families' share of existing seeds predictable.
"""

from __future__ import annotations

from types import MappingProxyType

from corpusmill.synth.families import algebra, arithmetic, calculus, discrete
from corpusmill.synth.math_item import Family

_ALL: tuple[Family, ...] = arithmetic.FAMILIES + algebra.FAMILIES + calculus.FAMILIES + discrete.FAMILIES

FAMILIES = MappingProxyType({f.name: f for f in _ALL})
