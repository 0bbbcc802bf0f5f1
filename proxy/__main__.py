from proxy.cli import cli

cli()
