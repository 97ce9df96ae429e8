"""``python -m service`` is the ``skytally`` command."""

from service.entry import main

main()
