"""Write the demo layers into data/demo/ (seeded: running it again gives the same files).

    .venv/bin/python scripts/make_demo_data.py [FOLDER]
"""

from __future__ import annotations

import sys
from pathlib import Path

from siting.demo_data import generate

if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "data" / "demo"
    for path in generate(folder):
        print(path, path.stat().st_size, "bytes")
