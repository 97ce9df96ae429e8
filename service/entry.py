"""The ``skytally`` console script: configuration errors become one clear line, not a traceback."""

from __future__ import annotations

import sys
from typing import Any

from pydantic import ValidationError

from service.errors import SkytallyError


def _describe(err: Any) -> str:
    message = str(err["msg"]).removeprefix("Value error, ")
    if not err["loc"]:
        return message
    return f"SKYTALLY_{'_'.join(str(p) for p in err['loc']).upper()}: {message}"


def main() -> None:
    """Import the app (which reads settings) and run the CLI; exit 2 on bad configuration."""
    try:
        from service.cli import main as cli_main
    except ValidationError as exc:
        problems = "; ".join(_describe(err) for err in exc.errors())
        print(f"skytally: invalid settings: {problems}", file=sys.stderr)
        raise SystemExit(2) from None
    except SkytallyError as exc:
        print(f"skytally: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    cli_main()
