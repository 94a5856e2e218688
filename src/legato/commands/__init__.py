"""The `legato` command's HTTP client: profiles, output, and one module of subcommands per resource."""
