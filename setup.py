"""The one compiled part of openbureau; everything else is declared in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "openbureau.furnishing.metro2._kernels",
            sources=["src/openbureau/furnishing/metro2/_kernels.c"],
            extra_compile_args=["-O3", "-std=c11"],
        )
    ]
)
