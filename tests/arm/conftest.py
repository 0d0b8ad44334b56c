import platform

# Tests of the emulated build itself (the cross-compiled extension, the detected platform): collected only on
# aarch64, i.e. in the ARM job (.ci/arm.sh); everything else in this folder runs natively too.
collect_ignore = [] if platform.machine().lower() in ("aarch64", "arm64") else ["test_aarch64.py"]
