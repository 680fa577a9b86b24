"""Synthetic registries shaped like Taihe town: the demo town and the benchmark county."""

from .build import RegistryBuild, build_registry
from .plan import TAIHE_HOUSEHOLDS, TAIHE_KLASSES, TAIHE_PEOPLE

__all__ = ["TAIHE_HOUSEHOLDS", "TAIHE_KLASSES", "TAIHE_PEOPLE", "RegistryBuild", "build_registry"]
