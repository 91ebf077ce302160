import sys

from anonymize.cli import main

sys.exit(main())
