"""`python -m veo31` is the `veo31` command."""

from veo31.cli import main

if __name__ == "__main__":  # not when a media process (spawned) imports it
    main()
