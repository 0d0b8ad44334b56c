"""Bridges from fastconv to other systems. Each module imports its third-party package itself (an optional extra),
so `import fastconv` never needs them: `fastconv.integrations.ray` needs `pip install "fastconv[ray]"`."""
