"""``python -m regovar``: the same as the ``regovar`` command."""

from regovar.cli import main

if __name__ == "__main__":
    main()
