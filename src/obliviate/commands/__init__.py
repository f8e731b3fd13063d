"""One module per CLI subcommand. Each defines ``add_parser(subparsers)`` that adds its parser
and sets ``handler`` (a function of the parsed namespace returning the exit status)."""

#: Subcommand modules, in the order ``obliviate --help`` lists them.
COMMANDS = ["demo", "run", "eval", "attack", "report", "finetune", "bench", "sweep", "push", "list",
            "ledger"]
