"""The compiled parts of openbureau; everything else is declared in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "openbureau.furnishing.metro2._kernels",
            sources=["src/openbureau/furnishing/metro2/_kernels.c"],
            extra_compile_args=["-O3", "-std=c11"],
        ),
        Extension(
            "openbureau.governance._blake2",
            sources=["src/openbureau/governance/_blake2.c"],
            extra_compile_args=["-O3", "-std=c11"],
        ),
    ]
)
