"""`python -m omnimodel.cli`: the same as the `omnimodel` command."""

from omnimodel.cli import main

raise SystemExit(main())
