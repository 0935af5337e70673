"""``python -m xlcredit.cli``: the same as the ``xlcredit`` command."""

from xlcredit.cli import main

main()
