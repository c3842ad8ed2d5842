"""``python -m tradecore``: the same as the ``tradecore`` command."""

from tradecore.cli import main

if __name__ == "__main__":
    main()
