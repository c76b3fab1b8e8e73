from ocrrec.cli.app import main

main()
