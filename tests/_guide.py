"""The user guide's code, for the tests that run it as printed."""

import textwrap
from pathlib import Path

DEPLOYMENT = Path(__file__).resolve().parents[1] / "docs" / "user_guide" / "deployment.rst"


def first_code_block(heading, page=DEPLOYMENT):
    """The first ``.. code-block:: python`` after ``heading`` on ``page``, dedented."""
    text = page.read_text()
    section = text[text.index(heading):]
    block = section[section.index(".. code-block:: python"):].split("\n\n", 1)[1]
    lines = []
    for line in block.splitlines():
        if line and not line.startswith("   "):
            break
        lines.append(line)
    return textwrap.dedent("\n".join(lines))
