from ipcplay.cli import main

raise SystemExit(main())
