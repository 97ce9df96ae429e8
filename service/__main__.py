"""``python -m service`` is the ``skytally`` command."""

from service.cli import main

main()
