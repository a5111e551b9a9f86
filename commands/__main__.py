import sys

from corpusmill.commands import main

sys.exit(main())
