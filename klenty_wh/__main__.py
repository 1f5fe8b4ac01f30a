"""Allow ``python -m klenty_wh``."""

from klenty_wh.cli.app import main

main()
