from ownnet.cli import main

raise SystemExit(main())
