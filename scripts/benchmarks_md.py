"""What the comparison scripts share: the machine's description and writing a table into
BENCHMARKS.md between `<!-- NAME:begin -->` and `<!-- NAME:end -->` markers (appended under a new
heading the first time)."""

import os
import platform
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def machine():
    cpu = "unknown CPU"
    try:
        cpu = re.search(r"model name\s*: (.*)", Path("/proc/cpuinfo").read_text()).group(1)
    except (OSError, AttributeError):
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def write_block(name, heading, table):
    path = ROOT / "BENCHMARKS.md"
    text = path.read_text()
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = f"{begin}\n{table}\n{end}"
    if begin in text:
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + f"\n\n## {heading}\n\n{block}\n"
    path.write_text(text)
    print("wrote", path, file=sys.stderr)
