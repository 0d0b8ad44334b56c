"""Builds the Cython extension(s); everything else is declared in pyproject.toml.

`models/` (the embedded default models) is installed as the package `fastconv.models`.
"""
import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

extensions = [
    Extension("fastconv.runtime._executor", ["fastconv/runtime/_executor.pyx"],
              include_dirs=[numpy.get_include()], extra_compile_args=["-O3"]),
]

setup(
    ext_modules=cythonize(extensions, compiler_directives={"language_level": "3"}),
    packages=["fastconv", "fastconv.onnx", "fastconv.graph", "fastconv.ops", "fastconv.kernels",
              "fastconv.kernels.numba", "fastconv.plan", "fastconv.runtime", "fastconv.tools",
              "fastconv.serve", "fastconv.integrations", "fastconv.models"],
    package_dir={"fastconv.models": "models"},
)
