"""`python -m veo31` is the `veo31` command."""

from veo31.cli import main

if __name__ == "__main__":  # not when something else imports it (multiprocessing's spawned children do)
    main()
