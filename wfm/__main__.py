from wfm.cli import main

main()
