"""`python -m veo31` is the `veo31` command."""

from veo31.cli import main

main()
