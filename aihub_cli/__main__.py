from aihub_cli.main import main

raise SystemExit(main())
